package jwttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testProofKey is a P-256 key and its JWK.
type testProofKey struct {
	priv *ecdsa.PrivateKey
	jwk  map[string]any
	jkt  string
}

func newTestProofKey(t *testing.T) testProofKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	pt, _ := priv.PublicKey.ECDH()
	raw := pt.Bytes()
	jwk := map[string]any{"crv": "P-256", "kty": "EC", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	canon, _ := json.Marshal(jwk)
	sum := sha256.Sum256(canon)
	return testProofKey{priv: priv, jwk: jwk, jkt: b64(sum[:])}
}

// sign makes a proof with the given header and claims changes.
func (k testProofKey) sign(t *testing.T, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["typ"], tok.Header["jwk"] = "dpop+jwt", k.jwk
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The resource server accepts a correct proof once and refuses every
// departure from RFC 9449 §4.3 and §7, with the status and error a real
// one sends.
func TestDPoPResourceIsStrict(t *testing.T) {
	rs := NewDPoPResource()
	srv := httptest.NewServer(rs)
	defer srv.Close()
	k, other := newTestProofKey(t), newTestProofKey(t)
	hmac := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"cnf": map[string]any{"jkt": k.jkt}})
	token, _ := hmac.SignedString([]byte("an-as-secret-of-at-least-32-bytes!!"))
	target := srv.URL + "/r"
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"htm": "GET", "htu": target, "iat": time.Now().Unix(), "jti": "jti-" + randHex(8),
			"ath": athOf(token), "nonce": rs.Nonce()}
	}
	with := func(name string, v any) jwt.MapClaims {
		c := good()
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
		return c
	}
	replayed := k.sign(t, good(), nil)
	tests := []struct {
		name, scheme, proof, code string
		status                    int
	}{
		{"good", "DPoP", k.sign(t, good(), nil), "", 200},
		{"good, first use", "DPoP", replayed, "", 200},
		{"replayed", "DPoP", replayed, "invalid_dpop_proof", 401},
		{"bearer scheme", "Bearer", k.sign(t, good(), nil), "invalid_token", 401},
		{"no proof", "DPoP", "", "invalid_request", 401},
		{"typ JWT", "DPoP", k.sign(t, good(), map[string]any{"typ": "JWT"}), "invalid_dpop_proof", 401},
		{"no jwk", "DPoP", k.sign(t, good(), map[string]any{"jwk": nil}), "invalid_dpop_proof", 401},
		{"private jwk", "DPoP", k.sign(t, good(), map[string]any{"jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": k.jwk["x"], "y": k.jwk["y"], "d": "AA"}}), "invalid_dpop_proof", 401},
		{"another key signs", "DPoP", other.sign(t, good(), map[string]any{"jwk": k.jwk}), "invalid_dpop_proof", 401},
		{"another key", "DPoP", other.sign(t, good(), nil), "invalid_token", 401},
		{"htm", "DPoP", k.sign(t, with("htm", "POST"), nil), "invalid_dpop_proof", 401},
		{"htu", "DPoP", k.sign(t, with("htu", srv.URL+"/other"), nil), "invalid_dpop_proof", 401},
		{"htu with query", "DPoP", k.sign(t, with("htu", target+"?a=1"), nil), "invalid_dpop_proof", 401},
		{"old iat", "DPoP", k.sign(t, with("iat", time.Now().Add(-5*time.Minute).Unix()), nil), "invalid_dpop_proof", 401},
		{"no jti", "DPoP", k.sign(t, with("jti", nil), nil), "invalid_dpop_proof", 401},
		{"no ath", "DPoP", k.sign(t, with("ath", nil), nil), "invalid_dpop_proof", 401},
		{"wrong ath", "DPoP", k.sign(t, with("ath", athOf("other")), nil), "invalid_dpop_proof", 401},
		{"no nonce", "DPoP", k.sign(t, with("nonce", nil), nil), "use_dpop_nonce", 401},
		{"stale nonce", "DPoP", k.sign(t, with("nonce", "n-old"), nil), "use_dpop_nonce", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", target+"?q=1", nil)
			req.Header.Set("Authorization", tt.scheme+" "+token)
			if tt.proof != "" {
				req.Header.Set("DPoP", tt.proof)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			challenge := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != tt.status || tt.code != "" && !strings.Contains(challenge, `DPoP error="`+tt.code+`"`) {
				t.Fatalf("HTTP %d %q %s; want %d with %s", resp.StatusCode, challenge, body, tt.status, tt.code)
			}
			if tt.code == "use_dpop_nonce" && resp.Header.Get("DPoP-Nonce") != rs.Nonce() {
				t.Errorf("a nonce challenge without the nonce")
			}
		})
	}
	if n := len(rs.Proofs()); n != 2 {
		t.Errorf("%d proofs accepted, want 2", n)
	}
}
