package jwt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// decodeNow is the fixed clock of the decode tests: 2026-11-22T20:31:00Z.
var decodeNow = time.Date(2026, 11, 22, 20, 31, 0, 0, time.UTC)

// goldenToken has every kind of claim Decode renders; its signature is
// fake, which Decode does not look at.
func goldenToken() string {
	header := `{"alg":"HS256","kid":"k1","typ":"JWT"}`
	claims := `{"iss":"https://issuer.example","sub":"alice","aud":["api","web"],` +
		`"exp":1795380300,"iat":1795372260,"nbf":1795120260,` +
		`"big":12345678901234567890,"html":"<b>&</b>","nested":{"a":[1,2.5,null]}}`
	return b64([]byte(header)) + "." + b64([]byte(claims)) + ".c2ln"
}

// TestDecodeGolden compares Decode's output with testdata/decode.golden.
// Run with AUTHX_UPDATE_GOLDEN=1 to rewrite the file.
func TestDecodeGolden(t *testing.T) {
	got, err := Decode(goldenToken(), decodeNow)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "decode.golden")
	if os.Getenv("AUTHX_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got)+"\n" != string(want) {
		t.Fatalf("Decode output differs from %s:\n%s", path, got)
	}
}

func TestDecodePayloads(t *testing.T) {
	hdr := b64([]byte(`{"alg":"EdDSA"}`))
	tests := []struct {
		name  string
		token string
		want  []string // substrings of the output
		not   []string
	}{
		{"text payload (RFC 8037 A.4)", "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY",
			[]string{`"payload": "Example of Ed25519 signing"`, `"signature_verified": false`}, []string{`"claims"`, `"times"`}},
		{"binary payload", hdr + "." + b64([]byte{0xff, 0x00, 0xfe}) + ".", []string{`"payload_base64url": "_wD-"`}, []string{`"claims"`}},
		{"empty claims", hdr + "." + b64([]byte(`{}`)) + ".", []string{`"claims": {}`}, []string{`"times"`, `"payload"`}},
		{"expired", hdr + "." + b64([]byte(`{"exp":1795372260}`)) + ".", []string{`"exp": "2026-11-22T18:31:00Z (expired 2h ago)"`}, nil},
		{"exp now", hdr + "." + b64([]byte(`{"exp":1795379460}`)) + ".", []string{`"exp": "2026-11-22T20:31:00Z (expired 0s ago)"`}, nil},
		{"fractional and bad times", hdr + "." + b64([]byte(`{"iat":1795379459.5,"nbf":"soon"}`)) + ".",
			[]string{`"iat": "2026-11-22T20:30:59.5Z (0s ago)"`, `"nbf": "invalid: not a NumericDate"`}, nil},
		{"array payload", hdr + "." + b64([]byte(`[1,2]`)) + ".", []string{`"payload": "[1,2]"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Decode(tt.token, decodeNow)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(out) {
				t.Fatalf("not JSON: %s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %s:\n%s", w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(string(out), w) {
					t.Errorf("output has %s:\n%s", w, out)
				}
			}
		})
	}
}

// TestDecodeGarbage: malformed tokens are KindConfig "not a JWT: ..."
// errors from Decode and Unverified, false from ExpiryOf, never panics.
// "big header" is well formed, only large.
func TestDecodeGarbage(t *testing.T) {
	for name, tok := range garbageTokens() {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(tok, decodeNow)
			_, _, uerr := Unverified(tok)
			if name == "big header" {
				if err != nil || uerr != nil {
					t.Fatal(err, uerr)
				}
				return
			}
			requireKind(t, err, core.KindConfig, "not a JWT: ")
			requireKind(t, uerr, core.KindConfig, "not a JWT: ")
			if len(tok) > 10 && strings.Contains(err.Error(), tok[:10]) {
				t.Fatalf("%v quotes the token", err)
			}
			if _, ok := ExpiryOf(tok); ok {
				t.Fatal("ExpiryOf found an exp")
			}
		})
	}
}

func TestDecodeErrorMessages(t *testing.T) {
	tests := map[string]string{
		"":                         "not a JWT: the token is empty",
		"a.b":                      "not a JWT: it has 2 parts separated by dots, a signed JWT has 3",
		"a.b.c.d.e":                "not a JWT: it has 5 parts: an encrypted JWE, which authx cannot read",
		"!!!.e30.":                 "not a JWT: the header is not base64url",
		"W10.e30.":                 "not a JWT: the header is not a JSON object",
		"e30.!!!.":                 "not a JWT: the payload is not base64url",
		"e30.e30.!!!":              "not a JWT: the signature is not base64url",
		strings.Repeat("a", 2<<20): "not a JWT: the token is longer than 1048576 bytes",
	}
	for tok, want := range tests {
		_, err := Decode(tok, decodeNow)
		if err == nil || err.Error() != want {
			t.Errorf("Decode(%.20q) = %v, want %q", tok, err, want)
		}
	}
}

func TestUnverified(t *testing.T) {
	h, c, err := Unverified(goldenToken())
	if err != nil {
		t.Fatal(err)
	}
	if h["kid"] != "k1" || c["sub"] != "alice" || c["big"] != json.Number("12345678901234567890") {
		t.Fatalf("header %v claims %v", h, c)
	}
	h, c, err = Unverified("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.")
	if err != nil || h["alg"] != "EdDSA" || c != nil {
		t.Fatalf("text payload: %v %v %v", h, c, err)
	}
}

func TestExpiryOf(t *testing.T) {
	hdr := b64([]byte(`{"alg":"HS256"}`)) + "."
	tests := map[string]struct {
		token string
		want  time.Time
		ok    bool
	}{
		"golden":       {goldenToken(), time.Date(2026, 11, 22, 20, 45, 0, 0, time.UTC), true},
		"RFC 7515 A.1": {"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", time.Unix(1300819380, 0), true},
		"no exp":       {hdr + b64([]byte(`{"sub":"x"}`)) + ".", time.Time{}, false},
		"string exp":   {hdr + b64([]byte(`{"exp":"1300819380"}`)) + ".", time.Time{}, false},
		"huge exp":     {hdr + b64([]byte(`{"exp":1e300}`)) + ".", time.Time{}, false},
		"text payload": {hdr + b64([]byte(`hello`)) + ".", time.Time{}, false},
		"opaque token": {"mF_9.B5f-4.1JqM", time.Time{}, false},
		"not a JWT":    {"abc", time.Time{}, false},
		"fractional":   {hdr + b64([]byte(`{"exp":1300819380.25}`)) + ".", time.Unix(1300819380, 250_000_000), true},
		"negative":     {hdr + b64([]byte(`{"exp":-1}`)) + ".", time.Unix(-1, 0), true},
	}
	for name, tt := range tests {
		got, ok := ExpiryOf(tt.token)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%s: ExpiryOf = %v, %v; want %v, %v", name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecodeCompactDurations(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {999 * time.Millisecond, "0s"}, {59 * time.Second, "59s"}, {time.Minute, "1m"},
		{14*time.Minute + 59*time.Second, "14m"}, {2*time.Hour + 59*time.Minute, "2h"}, {23 * time.Hour, "23h"},
		{24 * time.Hour, "1d"}, {3*24*time.Hour + 5*time.Hour, "3d"}, {400 * 24 * time.Hour, "400d"},
	}
	for _, tt := range tests {
		if got := compactDuration(tt.d); got != tt.want {
			t.Errorf("compactDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	now := decodeNow
	if got := ago(now.Add(14*time.Minute), now); got != "in 14m" {
		t.Errorf("future: %q", got)
	}
	if got := ago(now.Add(-2*time.Hour), now); got != "2h ago" {
		t.Errorf("past: %q", got)
	}
	if got := ago(now, now); got != "0s ago" {
		t.Errorf("now: %q", got)
	}
}
