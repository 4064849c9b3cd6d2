package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authx/authx/core"
)

// maxTokenSize bounds the tokens authx reads, so that garbage input cannot
// make it allocate without limit.
const maxTokenSize = 1 << 20

// jws is a compact JWS split into its parts. Nothing in it is verified.
type jws struct {
	header       map[string]any
	payload      []byte
	claims       map[string]any // nil when the payload is not a JSON object
	signingInput string         // BASE64URL(header) "." BASE64URL(payload)
	signature    []byte
}

// parseJWS splits and decodes a compact JWS (RFC 7515 §7.1). Numbers in
// the header and claims are json.Number. Errors say which part is
// malformed and never quote the token.
func parseJWS(token string) (*jws, error) {
	if token == "" {
		return nil, errors.New("the token is empty")
	}
	if len(token) > maxTokenSize {
		return nil, fmt.Errorf("the token is longer than %d bytes", maxTokenSize)
	}
	switch n := strings.Count(token, "."); {
	case n == 4:
		return nil, errors.New("it has 5 parts: an encrypted JWE, which authx cannot read")
	case n != 2:
		return nil, fmt.Errorf("it has %d parts separated by dots, a signed JWT has 3", n+1)
	}
	h, rest, _ := strings.Cut(token, ".")
	p, s, _ := strings.Cut(rest, ".")
	headerJSON, err := b64url("the header", h)
	if err != nil {
		return nil, err
	}
	header := jsonObject(headerJSON)
	if header == nil {
		return nil, errors.New("the header is not a JSON object")
	}
	payload, err := b64url("the payload", p)
	if err != nil {
		return nil, err
	}
	sig, err := b64url("the signature", s)
	if err != nil {
		return nil, err
	}
	return &jws{header: header, payload: payload, claims: jsonObject(payload), signingInput: h + "." + p, signature: sig}, nil
}

// notAJWT is the KindConfig error for a token parseJWS refused.
func notAJWT(err error) error {
	return core.Errorf(core.KindConfig, "not a JWT: %v", err)
}

// b64url decodes unpadded base64url (RFC 7515 §2), the encoding of JWS
// segments and JWK members. The error names what, never the value. A line
// break, which encoding/base64 would skip, is not base64url either.
func b64url(what, s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%s is not base64url", what)
	}
	return b, nil
}

// isJSONObject reports whether b, trimmed of whitespace, is one valid JSON
// object.
func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// jsonObject decodes b as one JSON object with json.Number numbers, or
// returns nil when b is anything else.
func jsonObject(b []byte) map[string]any {
	if !isJSONObject(b) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

// Unverified splits and decodes a compact JWS without checking anything:
// neither the signature nor any claim. claims is nil when the payload is
// not a JSON object (RFC 7515 allows any payload); numbers in header and
// claims are json.Number. Errors are *core.Error (KindConfig) saying what
// is malformed, never quoting the token. Never trust what it returns.
func Unverified(token string) (header map[string]any, claims map[string]any, err error) {
	t, err := parseJWS(token)
	if err != nil {
		return nil, nil, notAJWT(err)
	}
	return t.header, t.claims, nil
}

// ExpiryOf returns the exp claim of token read WITHOUT verification, and
// false when token is not a JWT or has no numeric exp. Use it for refresh
// timing only, never to decide whether to trust a token.
func ExpiryOf(token string) (time.Time, bool) {
	t, err := parseJWS(token)
	if err != nil || t.claims == nil {
		return time.Time{}, false
	}
	exp, ok, err := numericDate(t.claims, "exp")
	return exp, ok && err == nil
}

// NumericDate bounds: years 0001 to 9999, which time.Time formats.
const (
	minNumericDate = -62135596800
	maxNumericDate = 253402300799
)

// numericDate reads claims[name] as an RFC 7519 §2 NumericDate (seconds
// since the epoch, fractions allowed). ok is false when the claim is
// absent; err is set when it is present but not a number in range.
func numericDate(claims map[string]any, name string) (t time.Time, ok bool, err error) {
	v, present := claims[name]
	if !present {
		return time.Time{}, false, nil
	}
	f, isNumber := number(v)
	if t, inRange := unixTime(f); isNumber && inRange {
		return t, true, nil
	}
	return time.Time{}, true, fmt.Errorf("%s is not a NumericDate (seconds since 1970)", name)
}

// number reads a JSON number, as encoding/json decodes it (float64 or
// json.Number) or as a caller built it (int, int64). Strings are not
// numbers.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// unixTime returns the time f seconds after the epoch, fractions kept, and
// false when f is NaN or outside the years 0001 to 9999.
func unixTime(f float64) (time.Time, bool) {
	if math.IsNaN(f) || f < minNumericDate || f > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// ago formats the distance from now to t compactly: "in 14m", "2h ago",
// "3d ago", "0s ago" (a time equal to now is past).
func ago(t, now time.Time) string {
	if d := t.Sub(now); d > 0 {
		return "in " + compactDuration(d)
	}
	return compactDuration(now.Sub(t)) + " ago"
}

// compactDuration rounds d down to its largest unit: 45s, 14m, 5h, 3d.
func compactDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dd", d/(24*time.Hour))
}

// report is the JSON that decode and verify print.
type report struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims,omitzero"`
	// Payload is set instead of Claims when the payload is not a JSON
	// object: as text when it is UTF-8, else in PayloadB64.
	Payload           string            `json:"payload,omitzero"`
	PayloadB64        string            `json:"payload_base64url,omitzero"`
	Times             map[string]string `json:"times,omitzero"`
	SignatureVerified bool              `json:"signature_verified"`
}

// newReport describes t as of now.
func newReport(t *jws, now time.Time, verified bool) report {
	r := report{Header: t.header, Claims: t.claims, SignatureVerified: verified}
	switch {
	case t.claims != nil:
		if ts := times(t.claims, now); len(ts) > 0 {
			r.Times = ts
		}
	case utf8.Valid(t.payload):
		r.Payload = string(t.payload)
	default:
		r.PayloadB64 = base64.RawURLEncoding.EncodeToString(t.payload)
	}
	return r
}

// times renders the exp, nbf and iat claims as "RFC 3339 (relative)".
func times(claims map[string]any, now time.Time) map[string]string {
	out := map[string]string{}
	for _, name := range []string{"exp", "nbf", "iat"} {
		t, ok, err := numericDate(claims, name)
		switch {
		case !ok:
			continue
		case err != nil:
			out[name] = "invalid: not a NumericDate"
			continue
		}
		rel := ago(t, now)
		if name == "exp" && !now.Before(t) {
			rel = "expired " + rel
		}
		out[name] = fmt.Sprintf("%s (%s)", t.Format(time.RFC3339Nano), rel)
	}
	return out
}

// marshal renders v as indented JSON without HTML escaping and without a
// trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Decode returns token's header and claims as indented JSON, WITHOUT
// verifying anything:
//
//	{"header":{...},"claims":{...},"times":{"exp":"2026-11-22T20:45:00Z (in 14m)",...},"signature_verified":false}
//
// A payload that is not a JSON object appears as "payload" (text) or
// "payload_base64url" (binary) instead of "claims". times holds exp, nbf
// and iat as of now. A malformed token is a KindConfig error "not a JWT:
// ..." that never quotes the token.
func Decode(token string, now time.Time) ([]byte, error) {
	t, err := parseJWS(token)
	if err != nil {
		return nil, notAJWT(err)
	}
	out, err := marshal(newReport(t, now, false))
	if err != nil {
		return nil, core.Errorf(core.KindInternal, "encoding the decoded token: %v", err)
	}
	return out, nil
}
