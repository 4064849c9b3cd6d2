package jwttest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Exact JWS headers. golang-jwt, PyJWT (sorted keys) and node's jsonwebtoken
// all send {"alg":"HS256","typ":"JWT"}; firebase/php-jwt builds its header as
// ['typ' => 'JWT', 'alg' => $alg], hence the other order for WordPress.
var (
	stdHeader = []byte(`{"alg":"HS256","typ":"JWT"}`)
	phpHeader = []byte(`{"typ":"JWT","alg":"HS256"}`)
)

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signHS256 returns the compact JWS of exactly these header and payload
// bytes, signed by golang-jwt's HS256. Building the bytes ourselves keeps
// each product's header and claim order.
func signHS256(header, payload, key []byte) string {
	signing := b64url(header) + "." + b64url(payload)
	sig, err := jwt.SigningMethodHS256.Sign(signing, key)
	if err != nil {
		panic("jwttest: HS256 sign: " + err.Error())
	}
	return signing + "." + b64url(sig)
}

// mint signs claims (a struct, so its field order is the claim order) under
// the standard header.
func mint(claims any, key []byte) string {
	return signHS256(stdHeader, marshal(claims), key)
}

func unix(t time.Time) int64 { return t.Unix() }

// parseStd verifies an HS256 token with golang-jwt (algorithm pinned, clock
// injected) and returns its claims. Any error means the token is rejected;
// errors.Is(err, jwt.ErrTokenExpired) tells an expired one apart.
func (s *Server) parseStd(tok string, key []byte, expRequired bool, methods ...string) (jwt.MapClaims, error) {
	if len(methods) == 0 {
		methods = []string{"HS256"}
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithTimeFunc(s.now)}
	if expRequired {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(opts...).ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) {
		return key, nil
	})
	return claims, err
}

// verifySignatureOnly checks an HS256 token's signature (algorithm pinned)
// without validating any claim; claims are checked by the caller in the
// order its product checks them.
func verifySignatureOnly(tok string, key []byte) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return key, nil })
	return claims, err
}

func claimString(c jwt.MapClaims, name string) string {
	v, _ := c[name].(string)
	return v
}

// phpJWTError is the message of the exception firebase/php-jwt 6.x
// JWT::decode throws (leeway 0), in the order it checks things.
type phpJWTError string

func (e phpJWTError) Error() string { return string(e) }

// phpDecode reproduces firebase/php-jwt 6.x JWT::decode($jwt, new Key($key,
// 'HS256')) and returns the payload as decoded JSON. Signature verification
// is golang-jwt's HS256.
func phpDecode(tok string, key []byte, now time.Time) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, phpJWTError("Wrong number of segments")
	}
	header, err := phpJSONDecode(phpB64Decode(parts[0]))
	if err != nil {
		return nil, err
	}
	if header == nil {
		return nil, phpJWTError("Invalid header encoding")
	}
	payload, err := phpJSONDecode(phpB64Decode(parts[1]))
	if err != nil {
		return nil, err
	}
	if payload == nil {
		return nil, phpJWTError("Invalid claims encoding")
	}
	claims, ok := payload.(map[string]any)
	if !ok {
		if arr, isArr := payload.([]any); isArr && len(arr) == 0 {
			claims = map[string]any{}
		} else {
			return nil, phpJWTError("Payload must be a JSON object")
		}
	}
	hdr, _ := header.(map[string]any)
	alg, _ := hdr["alg"].(string)
	if alg == "" {
		return nil, phpJWTError("Empty algorithm")
	}
	switch alg {
	case "ES384", "ES256", "ES256K", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "EdDSA":
	default:
		return nil, phpJWTError("Algorithm not supported")
	}
	if alg != "HS256" {
		return nil, phpJWTError("Incorrect key for this algorithm")
	}
	sig := phpB64Decode(parts[2])
	if jwt.SigningMethodHS256.Verify(parts[0]+"."+parts[1], sig, key) != nil {
		return nil, phpJWTError("Signature verification failed")
	}
	ts := now.Unix()
	if nbf, ok := number(claims["nbf"]); ok && int64(nbf) > ts {
		return nil, phpJWTError("Cannot handle token with nbf prior to " + phpISO8601(int64(nbf)))
	}
	if _, hasNbf := claims["nbf"]; !hasNbf {
		if iat, ok := number(claims["iat"]); ok && int64(iat) > ts {
			return nil, phpJWTError("Cannot handle token with iat prior to " + phpISO8601(int64(iat)))
		}
	}
	if exp, ok := number(claims["exp"]); ok && float64(ts) >= exp {
		return nil, phpJWTError("Expired token")
	}
	return claims, nil
}

// phpISO8601 is PHP's date(DateTime::ISO8601, t) in WordPress's UTC.
func phpISO8601(t int64) string {
	return time.Unix(t, 0).UTC().Format("2006-01-02T15:04:05-0700")
}

// phpB64Decode is PHP's lenient base64_decode after php-jwt's base64url to
// base64 conversion: characters outside the alphabet are dropped.
func phpB64Decode(s string) []byte {
	var clean strings.Builder
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			clean.WriteRune(c)
		case c == '-' || c == '+':
			clean.WriteByte('-')
		case c == '_' || c == '/':
			clean.WriteByte('_')
		}
	}
	out, err := base64.RawURLEncoding.DecodeString(clean.String())
	if err != nil {
		// A dangling sextet: PHP decodes what it can.
		t := clean.String()
		for len(t) > 0 && err != nil {
			t = t[:len(t)-1]
			out, err = base64.RawURLEncoding.DecodeString(t)
		}
	}
	return out
}

// phpJSONDecode mimics php-jwt's jsonDecode: a syntax error is a
// DomainException, "null" decodes to nil.
func phpJSONDecode(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || len(b) == 0 {
			return nil, phpJWTError("Syntax error, malformed JSON")
		}
		return nil, phpJWTError("Malformed UTF-8 characters")
	}
	return v, nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
