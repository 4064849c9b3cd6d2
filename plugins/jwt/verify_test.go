package jwt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/core"
)

// rawToken signs header and payload with alg and key (in the form gojwt's
// signing method takes), whatever they hold.
func rawToken(t *testing.T, alg string, key any, header map[string]any, payload []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(h) + "." + b64(payload)
	sig, err := gojwt.GetSigningMethod(alg).Sign(input, key)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// tokenFor signs claims with alg and the PEM private key or secret priv.
// The header is {"alg":alg} plus extra.
func tokenFor(t *testing.T, alg string, priv []byte, claims map[string]any, extra map[string]any) string {
	t.Helper()
	key, err := signingKey(alg, priv)
	if err != nil {
		t.Fatal(err)
	}
	header := map[string]any{"alg": alg}
	maps.Copy(header, extra)
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return rawToken(t, alg, key, header, payload)
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestVerifyRFCVectors(t *testing.T) {
	for _, v := range rfcVectors(t) {
		t.Run(v.file, func(t *testing.T) {
			o := VerifyOptions{Key: v.Key}
			if v.At != 0 {
				o.Now = fixedClock(time.Unix(v.At, 0))
			}
			got, err := Verify(context.Background(), v.Token, o)
			if !v.Valid {
				requireInvalid(t, err, "alg none (an unsecured JWT) is never accepted")
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", v.Source, err)
			}
			if got.Alg != v.Alg || string(got.Payload) != v.Payload {
				t.Fatalf("alg %s payload %q, want %s %q", got.Alg, got.Payload, v.Alg, v.Payload)
			}
			if isJSON := strings.HasPrefix(v.Payload, "{"); isJSON != (got.Claims != nil) {
				t.Fatalf("claims = %v for payload %q", got.Claims, v.Payload)
			}
			if kid, _ := got.Header["kid"].(string); got.KeyID != kid {
				t.Fatalf("KeyID = %q, header kid %q", got.KeyID, kid)
			}
		})
	}
}

// TestVerifyRFC7515A1Times checks the exp boundaries on RFC 7515 A.1
// (exp 1300819380): now == exp is expired, a 1 s leeway accepts it.
func TestVerifyRFC7515A1Times(t *testing.T) {
	i := slices.IndexFunc(rfcVectors(t), func(v rfcVector) bool { return v.file == "rfc7515-a1-hs256.json" })
	if i < 0 {
		t.Fatal("testdata/rfc/rfc7515-a1-hs256.json is missing")
	}
	v := rfcVectors(t)[i]
	const exp = 1300819380
	tests := []struct {
		now    int64
		leeway time.Duration
		err    string
	}{
		{exp - 1, 0, ""},
		{exp, 0, "token expired 0s ago"},
		{exp, time.Second, ""},
		{exp + 1, time.Second, "token expired 1s ago"},
		{exp + 7200, 0, "token expired 2h ago"},
		{exp + 3*86400, time.Minute, "token expired 3d ago"},
	}
	for _, tt := range tests {
		_, err := Verify(context.Background(), v.Token, VerifyOptions{Key: v.Key, Now: fixedClock(time.Unix(tt.now, 0)), Leeway: tt.leeway})
		if tt.err == "" {
			if err != nil {
				t.Errorf("now=exp%+d leeway=%v: %v", tt.now-exp, tt.leeway, err)
			}
			continue
		}
		requireInvalid(t, err, tt.err)
	}
	// Default clock (time.Now): long expired.
	_, err := Verify(context.Background(), v.Token, VerifyOptions{Key: v.Key, Algs: []string{"HS256"}})
	requireInvalid(t, err, "token expired")
}

// TestVerifyRefuses covers RFC 8725 §3.1 attacks and claim failures. Every
// case must fail; reason is the expected one-line reason.
func TestVerifyRefuses(t *testing.T) {
	now := time.Date(2026, 11, 22, 20, 31, 0, 0, time.UTC)
	rsaKey, otherRSA := keysFor("RS256")
	edKey, _ := keysFor("EdDSA")
	hs := keyOf(t, "HS256")
	claims := func(kv ...any) map[string]any {
		m := map[string]any{"iss": "issuer", "sub": "alice", "aud": []string{"api", "web"}, "iat": now.Unix() - 60, "exp": now.Add(time.Hour).Unix()}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	good := tokenFor(t, "RS256", rsaKey.priv, claims(), nil)
	parts := strings.Split(good, ".")
	edPub, err := verifyKeys(edKey.pub)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubJWK := jwkOf(t, rsaKey.pub, map[string]any{"kid": "k1"})

	tests := []struct {
		name   string
		token  string
		opts   VerifyOptions
		reason string // ErrInvalid reason; "" with kind set means a usage error
		kind   core.Kind
	}{
		{"RFC 7519 §6.1 unsecured, HMAC key", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.",
			VerifyOptions{Key: hs.pub, Algs: []string{"HS256"}}, "alg none (an unsecured JWT) is never accepted", 0},
		{"none with a signature", rawNone(t, claims(), "sig"), VerifyOptions{Key: rsaKey.pub}, "alg none", 0},
		{"HS256 signed with the RSA public PEM", rawToken(t, "HS256", rsaKey.pub, map[string]any{"alg": "HS256"}, mustJSON(t, claims())),
			VerifyOptions{Key: rsaKey.pub}, "algorithm HS256 is not allowed (allowed: RS256, RS384, RS512, PS256, PS384, PS512)", 0},
		{"HS256 with the RSA PEM, RS256+HS256 allowed", rawToken(t, "HS256", rsaKey.pub, map[string]any{"alg": "HS256"}, mustJSON(t, claims())),
			VerifyOptions{Key: rsaKey.pub, Algs: []string{"RS256", "HS256"}}, "algorithm HS256 is not allowed (allowed: RS256)", 0},
		{"HS256 with the RSA PEM, only HS256 allowed", rawToken(t, "HS256", rsaKey.pub, map[string]any{"alg": "HS256"}, mustJSON(t, claims())),
			VerifyOptions{Key: rsaKey.pub, Algs: []string{"HS256"}}, "", core.KindConfig},
		{"HS256 signed with the raw Ed25519 public key", rawToken(t, "HS256", []byte(edPub[0].key.(ed25519.PublicKey)), map[string]any{"alg": "HS256"}, mustJSON(t, claims())),
			VerifyOptions{Key: edKey.pub}, "algorithm HS256 is not allowed (allowed: EdDSA)", 0},
		{"HS256 with the RSA JWK's n", rawToken(t, "HS256", rsaPubJWK, map[string]any{"alg": "HS256", "kid": "k1"}, mustJSON(t, claims())),
			VerifyOptions{Key: rsaPubJWK}, "algorithm HS256 is not allowed", 0},
		{"tampered payload", parts[0] + "." + b64(mustJSON(t, claims("sub", "mallory"))) + "." + parts[2], VerifyOptions{Key: rsaKey.pub}, "signature is invalid", 0},
		{"signature of another key", tokenFor(t, "RS256", otherRSA.priv, claims(), nil), VerifyOptions{Key: rsaKey.pub}, "signature is invalid", 0},
		{"truncated signature", good[:len(good)-4], VerifyOptions{Key: rsaKey.pub}, "signature is invalid", 0},
		{"wrong alg list", good, VerifyOptions{Key: rsaKey.pub, Algs: []string{"PS256"}}, "algorithm RS256 is not allowed (allowed: PS256)", 0},
		{"PS256 token, RS256 only", tokenFor(t, "PS256", rsaKey.priv, claims(), nil), VerifyOptions{Key: rsaKey.pub, Algs: []string{"RS256"}}, "algorithm PS256 is not allowed (allowed: RS256)", 0},
		{"unknown alg", rawToken(t, "HS256", hs.priv, map[string]any{"alg": "HS1"}, mustJSON(t, claims())), VerifyOptions{Key: hs.pub}, `algorithm "HS1" is not allowed`, 0},
		{"no alg", rawToken(t, "HS256", hs.priv, map[string]any{"typ": "JWT"}, mustJSON(t, claims())), VerifyOptions{Key: hs.pub}, "the header has no alg", 0},
		{"crit", tokenFor(t, "HS256", hs.priv, claims(), map[string]any{"crit": []string{"exp"}, "exp": 1}), VerifyOptions{Key: hs.pub}, "critical extensions (crit)", 0},
		{"kid not a string", tokenFor(t, "HS256", hs.priv, claims(), map[string]any{"kid": 7}), VerifyOptions{Key: hs.pub}, "kid header is not a string", 0},
		{"kid unknown to the JWK", tokenFor(t, "RS256", rsaKey.priv, claims(), map[string]any{"kid": "k2"}), VerifyOptions{Key: rsaPubJWK}, `no RS256 key with kid "k2"`, 0},
		{"expired", tokenFor(t, "RS256", rsaKey.priv, claims("exp", now.Add(-2*time.Hour).Unix()), nil), VerifyOptions{Key: rsaKey.pub}, "token expired 2h ago", 0},
		{"exp == now", tokenFor(t, "RS256", rsaKey.priv, claims("exp", now.Unix()), nil), VerifyOptions{Key: rsaKey.pub}, "token expired 0s ago", 0},
		{"exp 0", tokenFor(t, "RS256", rsaKey.priv, claims("exp", 0), nil), VerifyOptions{Key: rsaKey.pub}, "token expired", 0},
		{"exp a string", tokenFor(t, "RS256", rsaKey.priv, claims("exp", "tomorrow"), nil), VerifyOptions{Key: rsaKey.pub}, "exp is not a NumericDate", 0},
		{"exp null", tokenFor(t, "RS256", rsaKey.priv, claims("exp", json.RawMessage("null")), nil), VerifyOptions{Key: rsaKey.pub}, "exp is not a NumericDate", 0},
		{"exp out of range", tokenFor(t, "RS256", rsaKey.priv, claims("exp", 1e300), nil), VerifyOptions{Key: rsaKey.pub}, "exp is not a NumericDate", 0},
		{"nbf in the future", tokenFor(t, "RS256", rsaKey.priv, claims("nbf", now.Add(5*time.Minute).Unix()), nil), VerifyOptions{Key: rsaKey.pub}, "token is not valid yet (nbf in 5m)", 0},
		{"nbf beyond leeway", tokenFor(t, "RS256", rsaKey.priv, claims("nbf", now.Add(31*time.Second).Unix()), nil), VerifyOptions{Key: rsaKey.pub, Leeway: 30 * time.Second}, "not valid yet", 0},
		{"iat in the future", tokenFor(t, "RS256", rsaKey.priv, claims("iat", now.Add(time.Hour).Unix()), nil), VerifyOptions{Key: rsaKey.pub}, "token was issued in the future (iat in 1h)", 0},
		{"iss mismatch", good, VerifyOptions{Key: rsaKey.pub, Issuer: "other"}, `iss is "issuer", not "other"`, 0},
		{"iss missing", tokenFor(t, "RS256", rsaKey.priv, claims("iss", nil), nil), VerifyOptions{Key: rsaKey.pub, Issuer: "issuer"}, `iss is missing (expected "issuer")`, 0},
		{"iss not a string", tokenFor(t, "RS256", rsaKey.priv, claims("iss", 3), nil), VerifyOptions{Key: rsaKey.pub, Issuer: "issuer"}, "iss is not a string", 0},
		{"sub mismatch", good, VerifyOptions{Key: rsaKey.pub, Subject: "bob"}, `sub is "alice", not "bob"`, 0},
		{"aud array mismatch", good, VerifyOptions{Key: rsaKey.pub, Audience: "admin"}, `aud does not contain "admin"`, 0},
		{"aud string mismatch", tokenFor(t, "RS256", rsaKey.priv, claims("aud", "web"), nil), VerifyOptions{Key: rsaKey.pub, Audience: "api"}, `aud does not contain "api"`, 0},
		{"aud missing", tokenFor(t, "RS256", rsaKey.priv, claims("aud", nil), nil), VerifyOptions{Key: rsaKey.pub, Audience: "api"}, `aud is missing (expected "api")`, 0},
		{"aud of numbers", tokenFor(t, "RS256", rsaKey.priv, claims("aud", []int{1}), nil), VerifyOptions{Key: rsaKey.pub, Audience: "api"}, "aud is not a string or an array of strings", 0},
		{"text payload with iss check", rawToken(t, "HS256", hs.priv, map[string]any{"alg": "HS256"}, []byte("hello")), VerifyOptions{Key: hs.pub, Issuer: "issuer"}, "payload is not a JWT claims set", 0},
		{"short HMAC key", good, VerifyOptions{Key: []byte("0123456789abcdef0123456789abcde")}, "", core.KindConfig},
		{"HS512 with a 32-byte key", tokenFor(t, "HS512", hs.priv, claims(), nil), VerifyOptions{Key: hs.pub[:32]}, "algorithm HS512 is not allowed (allowed: HS256)", 0},
		{"HS512 only, 32-byte key", good, VerifyOptions{Key: hs.pub[:32], Algs: []string{"HS512"}}, "", core.KindConfig},
		{"garbage", "not a token", VerifyOptions{Key: hs.pub}, "not a JWT: it has 1 parts separated by dots", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Now == nil {
				tt.opts.Now = fixedClock(now)
			}
			v, err := Verify(context.Background(), tt.token, tt.opts)
			if v != nil {
				t.Fatalf("accepted: %v", v.Claims)
			}
			if tt.kind != 0 {
				requireKind(t, err, tt.kind, "", tt.opts.Key)
				return
			}
			requireInvalid(t, err, tt.reason)
			requireNoSecret(t, err.Error(), tt.opts.Key)
			if strings.Contains(err.Error(), tt.token[:min(len(tt.token), 20)]) && len(tt.token) > 20 {
				t.Fatalf("error %q quotes the token", err)
			}
		})
	}
}

// TestVerifyAccepts covers the valid side of the same checks.
func TestVerifyAccepts(t *testing.T) {
	now := time.Date(2026, 11, 22, 20, 31, 0, 0, time.UTC)
	rsaKey, _ := keysFor("RS256")
	hs := keyOf(t, "HS256")
	base := map[string]any{"iss": "issuer", "sub": "alice", "aud": "api", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	with := func(k string, v any) map[string]any {
		m := maps.Clone(base)
		m[k] = v
		if v == nil {
			delete(m, k)
		}
		return m
	}
	tests := []struct {
		name  string
		token string
		opts  VerifyOptions
	}{
		{"all checks", tokenFor(t, "RS256", rsaKey.priv, base, nil), VerifyOptions{Key: rsaKey.pub, Algs: []string{"RS256"}, Issuer: "issuer", Subject: "alice", Audience: "api"}},
		{"aud array", tokenFor(t, "RS256", rsaKey.priv, with("aud", []string{"web", "api"}), nil), VerifyOptions{Key: rsaKey.pub, Audience: "api"}},
		{"exp within leeway", tokenFor(t, "RS256", rsaKey.priv, with("exp", now.Unix()), nil), VerifyOptions{Key: rsaKey.pub, Leeway: time.Second}},
		{"nbf within leeway", tokenFor(t, "RS256", rsaKey.priv, with("nbf", now.Add(30*time.Second).Unix()), nil), VerifyOptions{Key: rsaKey.pub, Leeway: 30 * time.Second}},
		{"iat within leeway", tokenFor(t, "RS256", rsaKey.priv, with("iat", now.Add(10*time.Second).Unix()), nil), VerifyOptions{Key: rsaKey.pub, Leeway: 10 * time.Second}},
		{"fractional exp", tokenFor(t, "RS256", rsaKey.priv, with("exp", float64(now.Unix())+0.5), nil), VerifyOptions{Key: rsaKey.pub}},
		{"no exp", tokenFor(t, "RS256", rsaKey.priv, with("exp", nil), nil), VerifyOptions{Key: rsaKey.pub}},
		{"no nbf", tokenFor(t, "RS256", rsaKey.priv, with("nbf", nil), nil), VerifyOptions{Key: rsaKey.pub}},
		{"PS384 with an RSA key", tokenFor(t, "PS384", rsaKey.priv, base, nil), VerifyOptions{Key: rsaKey.pub}},
		{"HS256 text payload", rawToken(t, "HS256", hs.priv, map[string]any{"alg": "HS256"}, []byte("hello")), VerifyOptions{Key: hs.pub}},
		{"kid absent from a JWK with kid", tokenFor(t, "RS256", rsaKey.priv, base, nil), VerifyOptions{Key: jwkOf(t, rsaKey.pub, map[string]any{"kid": "k1"})}},
		{"kid matching a JWK", tokenFor(t, "RS256", rsaKey.priv, base, map[string]any{"kid": "k1"}), VerifyOptions{Key: jwkOf(t, rsaKey.pub, map[string]any{"kid": "k1", "alg": "RS256"})}},
		{"kid with a kid-less JWK", tokenFor(t, "RS256", rsaKey.priv, base, map[string]any{"kid": "k9"}), VerifyOptions{Key: jwkOf(t, rsaKey.pub, nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = fixedClock(now)
			v, err := Verify(context.Background(), tt.token, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if v.Alg == "" || len(v.Payload) == 0 {
				t.Fatalf("incomplete result %+v", v)
			}
		})
	}
}

// TestVerifyUsageErrors covers problems of the caller, not of the token.
func TestVerifyUsageErrors(t *testing.T) {
	hs := keyOf(t, "HS256")
	tok := tokenFor(t, "HS256", hs.priv, map[string]any{"sub": "x"}, nil)
	tests := []struct {
		name string
		opts VerifyOptions
		err  string
	}{
		{"no key", VerifyOptions{}, "no key to verify with"},
		{"key and JWKS", VerifyOptions{Key: hs.pub, JWKSURL: "https://example.com/jwks"}, "either a key or a JWKS URL"},
		{"unknown alg", VerifyOptions{Key: hs.pub, Algs: []string{"HS256", "XX1"}}, `unknown algorithm "XX1"`},
		{"none allowed", VerifyOptions{Key: hs.pub, Algs: []string{"none"}}, `unknown algorithm "none"`},
		{"negative leeway", VerifyOptions{Key: hs.pub, Leeway: -time.Second}, "leeway may not be negative"},
		{"RSA key for HS256", VerifyOptions{Key: keyOf(t, "RS256").pub, Algs: []string{"HS256"}}, "the key (an RSA public key) cannot verify HS256"},
		{"plain http JWKS", VerifyOptions{JWKSURL: "http://example.com/jwks"}, "must use https"},
		{"relative JWKS", VerifyOptions{JWKSURL: "/jwks"}, "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tok, tt.opts)
			requireKind(t, err, core.KindConfig, tt.err, hs.pub)
		})
	}
}

// garbageTokens are inputs no parser may panic on.
func garbageTokens() map[string]string {
	hdr := b64([]byte(`{"alg":"HS256"}`))
	return map[string]string{
		"empty":                "",
		"one dot":              "a.b",
		"four parts":           "a.b.c.d",
		"JWE":                  "a.b.c.d.e",
		"dots only":            "..",
		"bad base64 header":    "!!!.e30.c2ln",
		"padded header":        hdr + "=.e30.c2ln",
		"header not an object": b64([]byte(`["alg"]`)) + ".e30.c2ln",
		"header null":          b64([]byte(`null`)) + ".e30.c2ln",
		"header broken JSON":   b64([]byte(`{"alg":`)) + ".e30.c2ln",
		"bad base64 payload":   hdr + ".@@.c2ln",
		"bad base64 signature": hdr + ".e30.***",
		"unicode":              "\u00e9\u00e9.\u00e9.\u00e9",
		"huge header":          b64(bytes.Repeat([]byte("{"), maxTokenSize)) + ".e30.c2ln",
		"big header":           b64([]byte(`{"alg":"HS256","x":"`+strings.Repeat("a", 500_000)+`"}`)) + ".e30.c2ln",
		"deep JSON":            b64([]byte(`{"alg":"HS256","x":`+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+`}`)) + ".e30.c2ln",
		"many dots":            strings.Repeat(".", 100_000),
		"NUL bytes":            "\x00.\x00.\x00",
	}
}

func TestVerifyGarbageTokens(t *testing.T) {
	hs := keyOf(t, "HS256")
	for name, tok := range garbageTokens() {
		t.Run(name, func(t *testing.T) {
			v, err := Verify(context.Background(), tok, VerifyOptions{Key: hs.pub})
			if v != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v, %v; want ErrInvalid", v, err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error too long: %d bytes", len(err.Error()))
			}
		})
	}
}

// TestVerifyClaimsAgreeWithGojwt checks exp/nbf/iat boundaries against
// golang-jwt's own validator, which RFC 7519 §4.1 semantics were verified
// on (protocol facts §5.2).
func TestVerifyClaimsAgreeWithGojwt(t *testing.T) {
	const base = 1_800_000_000
	var cases []map[string]any
	for _, d := range []int64{-61, -60, -1, 0, 1, 60} {
		cases = append(cases,
			map[string]any{"exp": json.Number(itoa(base + d))},
			map[string]any{"nbf": json.Number(itoa(base + d))},
			map[string]any{"iat": json.Number(itoa(base + d))},
			map[string]any{"exp": json.Number(itoa(base + d)), "nbf": json.Number(itoa(base - d))})
	}
	for _, c := range cases {
		for _, leeway := range []time.Duration{0, time.Second, time.Minute} {
			now := time.Unix(base, 0)
			ours := VerifyOptions{Leeway: leeway}.checkClaims(c, now)
			theirs := gojwt.NewValidator(gojwt.WithLeeway(leeway), gojwt.WithTimeFunc(fixedClock(now)), gojwt.WithIssuedAt()).Validate(gojwt.MapClaims(c))
			if (ours == nil) != (theirs == nil) {
				t.Errorf("claims %v leeway %v: ours %v, golang-jwt %v", c, leeway, ours, theirs)
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawNone builds an alg "none" token with the given signature text.
func rawNone(t *testing.T, claims map[string]any, sig string) string {
	t.Helper()
	return b64([]byte(`{"alg":"none"}`)) + "." + b64(mustJSON(t, claims)) + "." + b64([]byte(sig))
}

// jwkOf returns the public PEM key pub as a JWK JSON object with extra
// members.
func jwkOf(t *testing.T, pub []byte, extra map[string]any) []byte {
	t.Helper()
	keys, err := verifyKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, jwkMap(t, keys[0], extra))
}

// jwkMap renders a verification key as JWK members.
func jwkMap(t *testing.T, k verifyKey, extra map[string]any) map[string]any {
	t.Helper()
	var m map[string]any
	switch pub := k.key.(type) {
	case *rsa.PublicKey:
		m = map[string]any{"kty": "RSA", "n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		size := (len(raw) - 1) / 2
		m = map[string]any{"kty": "EC", "crv": curveOf(k.algs[0]), "x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])}
	case ed25519.PublicKey:
		m = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}
	case []byte:
		m = map[string]any{"kty": "oct", "k": b64(pub)}
	default:
		t.Fatalf("unexpected key type %T", pub)
	}
	maps.Copy(m, extra)
	return m
}
