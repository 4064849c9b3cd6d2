package jwt

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// TestMintEveryAlgorithm mints with both test keys of every algorithm (PEM
// PKCS#1, PKCS#8 and SEC1 encodings) and verifies with the matching public
// key, then with the other key, which must fail.
func TestMintEveryAlgorithm(t *testing.T) {
	now := time.Date(2026, 11, 22, 20, 31, 0, 0, time.UTC)
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			main, other := keysFor(alg)
			for i, pair := range [][2]testKey{{main, other}, {other, main}} {
				signer, stranger := pair[0], pair[1]
				tok, exp, err := Mint(MintOptions{Alg: alg, Key: signer.priv, KeyID: "kid-1", Issuer: "authx", Subject: "alice",
					Audience: []string{"api"}, TTL: 10 * time.Minute, Now: now})
				if err != nil {
					t.Fatalf("key %d: %v", i, err)
				}
				if !exp.Equal(now.Add(10 * time.Minute)) {
					t.Fatalf("expiresAt = %v", exp)
				}
				v, err := Verify(context.Background(), tok, VerifyOptions{Key: signer.pub, Now: fixedClock(now), Issuer: "authx", Subject: "alice", Audience: "api"})
				if err != nil {
					t.Fatalf("key %d: verify: %v", i, err)
				}
				if v.Alg != alg || v.KeyID != "kid-1" || v.Header["kid"] != "kid-1" || v.Header["typ"] != "JWT" {
					t.Fatalf("alg %s kid %q header %v", v.Alg, v.KeyID, v.Header)
				}
				_, err = Verify(context.Background(), tok, VerifyOptions{Key: stranger.pub, Now: fixedClock(now)})
				requireInvalid(t, err, "signature is invalid")
			}
		})
	}
}

// payloadOf returns the raw claims JSON of a compact token.
func payloadOf(t *testing.T, tok string) map[string]json.RawMessage {
	t.Helper()
	p := strings.Split(tok, ".")[1]
	var m map[string]json.RawMessage
	if err := json.Unmarshal(mustB64(t, p), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMintClaims(t *testing.T) {
	now := time.Date(2026, 11, 22, 20, 31, 0, 0, time.UTC)
	key := keyOf(t, "HS256").priv
	tests := []struct {
		name string
		o    MintOptions
		want map[string]string // raw JSON per claim; "" means absent
	}{
		{"one audience is a string", MintOptions{Audience: []string{"api"}, TTL: time.Minute},
			map[string]string{"aud": `"api"`, "iat": "1795379460", "nbf": "1795379460", "exp": "1795379520"}},
		{"several audiences are an array", MintOptions{Audience: []string{"api", "web"}},
			map[string]string{"aud": `["api","web"]`, "exp": ""}},
		{"no audience", MintOptions{}, map[string]string{"aud": "", "iss": "", "sub": ""}},
		{"custom claims", MintOptions{Claims: map[string]any{"scope": "read write", "n": json.Number("12345678901234567890"), "obj": map[string]any{"a": true}}},
			map[string]string{"scope": `"read write"`, "n": "12345678901234567890", "obj": `{"a":true}`}},
		{"explicit fields win", MintOptions{Issuer: "authx", Subject: "alice", Audience: []string{"api"}, TTL: time.Minute,
			Claims: map[string]any{"iss": "x", "sub": "y", "aud": "z", "exp": 1, "iat": 2, "nbf": 3}},
			map[string]string{"iss": `"authx"`, "sub": `"alice"`, "aud": `"api"`, "exp": "1795379520", "iat": "1795379460", "nbf": "1795379460"}},
		{"empty fields leave claims alone", MintOptions{Claims: map[string]any{"iss": "x", "exp": 1}},
			map[string]string{"iss": `"x"`, "exp": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Alg, tt.o.Key, tt.o.Now = "HS256", key, now
			tok, exp, err := Mint(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if (tt.o.TTL == 0) != exp.IsZero() {
				t.Fatalf("expiresAt = %v with TTL %v", exp, tt.o.TTL)
			}
			got := payloadOf(t, tok)
			for name, want := range tt.want {
				if string(got[name]) != want {
					t.Errorf("%s = %s, want %q", name, got[name], want)
				}
			}
		})
	}
	// The caller's Claims map is not modified.
	claims := map[string]any{"exp": 1}
	if _, _, err := Mint(MintOptions{Alg: "HS256", Key: key, Claims: claims, TTL: time.Minute}); err != nil || claims["exp"] != 1 || len(claims) != 1 {
		t.Fatalf("Claims modified: %v (%v)", claims, err)
	}
}

func TestMintHeader(t *testing.T) {
	key := keyOf(t, "ES256").priv
	for kid, want := range map[string]string{"": `{"alg":"ES256","typ":"JWT"}`, "k1": `{"alg":"ES256","kid":"k1","typ":"JWT"}`} {
		tok, _, err := Mint(MintOptions{Alg: "ES256", Key: key, KeyID: kid})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(mustB64(t, strings.Split(tok, ".")[0])); got != want {
			t.Errorf("header = %s, want %s", got, want)
		}
	}
}

func TestMintErrors(t *testing.T) {
	hs := keyOf(t, "HS256").priv
	rsaPriv := keyOf(t, "RS256").priv
	tests := []struct {
		name string
		o    MintOptions
		err  string
	}{
		{"HS256 key of 31 bytes", MintOptions{Alg: "HS256", Key: hs[:31]}, "the HMAC key is 31 bytes; HS256 needs at least 32 (RFC 7518 §3.2)"},
		{"HS384 key of 47 bytes", MintOptions{Alg: "HS384", Key: hs[:47]}, "the HMAC key is 47 bytes; HS384 needs at least 48"},
		{"HS512 key of 63 bytes", MintOptions{Alg: "HS512", Key: hs[:63]}, "the HMAC key is 63 bytes; HS512 needs at least 64"},
		{"empty key", MintOptions{Alg: "HS256"}, "the signing key is empty"},
		{"JWK as an HMAC secret", MintOptions{Alg: "HS256", Key: []byte(`{"kty":"oct","k":"` + b64(hs) + `"}`)}, "the key is JSON (a JWK?)"},
		{"PEM as an HMAC secret", MintOptions{Alg: "HS256", Key: keyOf(t, "RS256").pub}, "the key is a PEM key, but HS256 needs a shared secret"},
		{"RSA key for ES256", MintOptions{Alg: "ES256", Key: rsaPriv}, "ES256 needs a PEM EC private key"},
		{"P-256 key for ES384", MintOptions{Alg: "ES384", Key: keyOf(t, "ES256").priv}, "ES384 needs a key on curve P-384, not P-256"},
		{"EC key for RS256", MintOptions{Alg: "RS256", Key: keyOf(t, "ES256").priv}, "RS256 needs a PEM RSA private key"},
		{"secret for EdDSA", MintOptions{Alg: "EdDSA", Key: hs}, "EdDSA needs a PEM Ed25519 private key"},
		{"public key for PS256", MintOptions{Alg: "PS256", Key: keyOf(t, "RS256").pub}, "PS256 needs a PEM RSA private key"},
		{"none", MintOptions{Alg: "none", Key: hs}, `unknown algorithm "none"`},
		{"no alg", MintOptions{Key: hs}, `unknown algorithm ""`},
		{"negative TTL", MintOptions{Alg: "HS256", Key: hs, TTL: -time.Second}, "may not be negative"},
		{"claims that are not JSON", MintOptions{Alg: "HS256", Key: hs, Claims: map[string]any{"f": func() {}}}, "signing the token with HS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _, err := Mint(tt.o)
			if tok != "" {
				t.Fatal("a token was returned with an error")
			}
			requireKind(t, err, core.KindConfig, tt.err, tt.o.Key, hs, rsaPriv)
		})
	}
}

func TestMintOptionsFromConfig(t *testing.T) {
	now := time.Date(2026, 11, 22, 20, 31, 0, 0, time.UTC)
	t.Run("defaults", func(t *testing.T) {
		o, err := MintOptionsFromConfig(core.Config{"key": "s"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if o.Alg != "HS256" || o.TTL != 5*time.Minute || !o.Now.Equal(now) || string(o.Key) != "s" || o.Audience != nil || o.Claims != nil {
			t.Fatalf("%+v", o)
		}
	})
	t.Run("every key", func(t *testing.T) {
		claims := map[string]any{"scope": "read"}
		o, err := MintOptionsFromConfig(core.Config{"algorithm": "ES384", "key": "pem", "key_id": "k", "issuer": "i", "subject": "s",
			"audience": []any{"a", "b"}, "claims": claims, "ttl": "1h"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if o.Alg != "ES384" || o.KeyID != "k" || o.Issuer != "i" || o.Subject != "s" || strings.Join(o.Audience, ",") != "a,b" ||
			o.Claims["scope"] != "read" || o.TTL != time.Hour {
			t.Fatalf("%+v", o)
		}
		o.Claims["scope"] = "changed"
		if claims["scope"] != "read" {
			t.Fatal("the config's claims were shared")
		}
	})
	t.Run("single audience, no exp", func(t *testing.T) {
		o, err := MintOptionsFromConfig(core.Config{"audience": "api", "ttl": "0s"}, now)
		if err != nil || len(o.Audience) != 1 || o.TTL != 0 {
			t.Fatalf("%+v %v", o, err)
		}
	})
	for name, tt := range map[string]struct {
		cfg core.Config
		err string
	}{
		"unknown algorithm": {core.Config{"algorithm": "HS257"}, `algorithm: unknown "HS257"`},
		"bad ttl":           {core.Config{"ttl": "soon"}, "ttl: expected a non-negative duration"},
		"negative ttl":      {core.Config{"ttl": "-1m"}, "ttl: expected a non-negative duration"},
		"ttl not a string":  {core.Config{"ttl": 60}, "ttl: expected a non-negative duration"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := MintOptionsFromConfig(tt.cfg, now)
			requireKind(t, err, core.KindConfig, tt.err)
		})
	}
	t.Run("round trip", func(t *testing.T) {
		priv := keyOf(t, "EdDSA")
		o, err := MintOptionsFromConfig(core.Config{"algorithm": "EdDSA", "key": string(priv.priv), "issuer": "me"}, now)
		if err != nil {
			t.Fatal(err)
		}
		tok, exp, err := Mint(o)
		if err != nil || !exp.Equal(now.Add(DefaultTTL)) {
			t.Fatal(exp, err)
		}
		if _, err := Verify(context.Background(), tok, VerifyOptions{Key: priv.pub, Issuer: "me", Now: fixedClock(now.Add(DefaultTTL - time.Second))}); err != nil {
			t.Fatal(err)
		}
	})
}
