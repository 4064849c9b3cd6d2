package jwt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// issuerServer serves an issuer's metadata and JWKS. paths maps a
// metadata path to the issuer its document names ("" = the server's URL
// plus issuerPath).
type issuerServer struct {
	*httptest.Server
	metaHits, jwksHits atomic.Int32
}

func newIssuerServer(t *testing.T, issuerPath string, metaPaths map[string]string) *issuerServer {
	t.Helper()
	jwks := jwksDoc(t, []string{"ES256"}, []string{"k1"})
	s := &issuerServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keys" {
			s.jwksHits.Add(1)
			w.Write(jwks)
			return
		}
		iss, ok := metaPaths[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		s.metaHits.Add(1)
		if iss == "" {
			iss = s.URL + issuerPath
		}
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write(mustJSON(t, map[string]any{"issuer": iss, "jwks_uri": s.URL + "/keys", "token_endpoint": s.URL + "/token"}))
	}))
	t.Cleanup(s.Close)
	return s
}

// verify --issuer finds the JWKS through the issuer's metadata (OIDC
// discovery, else RFC 8414), checks the document's issuer and, unless
// told otherwise, the token's iss.
func TestVerifyIssuerDiscovery(t *testing.T) {
	now := time.Now()
	sign := func(iss string, header map[string]any) string {
		h := map[string]any{"kid": "k1"}
		for k, v := range header {
			h[k] = v
		}
		return tokenFor(t, "ES256", keyOf(t, "ES256").priv, map[string]any{"iss": iss, "sub": "alice", "exp": now.Add(time.Hour).Unix()}, h)
	}
	tests := []struct {
		name       string
		issuerPath string
		meta       map[string]string
		tokenIss   string // "" = the issuer
		kind       core.Kind
		invalid    string // a verification failure
		msg        string // a usage or fetch failure
	}{
		{name: "OIDC discovery", meta: map[string]string{"/.well-known/openid-configuration": ""}},
		{name: "issuer with a path", issuerPath: "/realms/x", meta: map[string]string{"/realms/x/.well-known/openid-configuration": ""}},
		{name: "RFC 8414 only", issuerPath: "/tenant", meta: map[string]string{"/.well-known/oauth-authorization-server/tenant": ""}},
		{name: "another issuer's document", meta: map[string]string{"/.well-known/openid-configuration": "https://evil.example.com"}, kind: core.KindBadAnswer, msg: `the metadata is for the issuer "https://evil.example.com", not`},
		{name: "no metadata", meta: map[string]string{}, kind: core.KindConfig, msg: "/.well-known/openid-configuration: HTTP 404"},
		{name: "token of another issuer", meta: map[string]string{"/.well-known/openid-configuration": ""}, tokenIss: "https://other.example.com", invalid: `iss is "https://other.example.com", not`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newIssuerServer(t, tt.issuerPath, tt.meta)
			issuer := srv.URL + tt.issuerPath
			iss := tt.tokenIss
			if iss == "" {
				iss = issuer
			}
			opts := VerifyOptions{IssuerURL: issuer, CacheDir: t.TempDir()}
			_, err := Verify(context.Background(), sign(iss, nil), opts)
			switch {
			case tt.invalid != "":
				requireInvalid(t, err, tt.invalid)
				return
			case tt.kind != 0:
				requireKind(t, err, tt.kind, tt.msg)
				return
			case err != nil:
				t.Fatal(err)
			}
			// The metadata is cached (its max-age), as the JWKS is.
			if _, err := Verify(context.Background(), sign(iss, nil), opts); err != nil || srv.metaHits.Load() != 1 || srv.jwksHits.Load() != 1 {
				t.Fatalf("second verify: %v; %d metadata and %d JWKS requests, want 1 and 1", err, srv.metaHits.Load(), srv.jwksHits.Load())
			}
		})
	}
}

// --typ at+jwt accepts an RFC 9068 access token and refuses an id_token.
func TestVerifyType(t *testing.T) {
	key := keyOf(t, "ES256")
	claims := map[string]any{"sub": "alice"}
	tests := []struct {
		typ     any // the token's typ header; nil = none
		want    string
		invalid string
	}{
		{"at+jwt", "at+jwt", ""},
		{"application/at+jwt", "at+jwt", ""},
		{"AT+JWT", "application/at+jwt", ""},
		{"JWT", "at+jwt", `typ is "JWT", not at+jwt`},
		{nil, "at+jwt", "the header has no typ (expected at+jwt)"},
		{"JWT", "", ""},
	}
	for _, tt := range tests {
		h := map[string]any{}
		if tt.typ != nil {
			h["typ"] = tt.typ
		}
		res, err := RunAction(context.Background(), core.ActionRequest{Action: "verify", Args: []string{tokenFor(t, "ES256", key.priv, claims, h)},
			Flags: map[string]string{"key": string(key.pub), "typ": tt.want}}, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if tt.invalid == "" && res.ExitCode != 0 || tt.invalid != "" && (res.ExitCode != ExitInvalid || !strings.Contains(string(res.Stderr), tt.invalid)) {
			t.Errorf("typ %v, --typ %q: exit %d, %s", tt.typ, tt.want, res.ExitCode, res.Stderr)
		}
	}
}

// Tokens with unknown kids refetch the JWKS at most once per
// jwksRefetchInterval, across processes (the cache file records it).
func TestJWKSUnknownKidRefetchRateLimited(t *testing.T) {
	srv := newJWKSServer(t, jwksDoc(t, []string{"ES256"}, []string{"ec-1"}))
	dir := t.TempDir()
	clock := time.Now()
	opts := VerifyOptions{JWKSURL: srv.URL, CacheDir: dir, cacheNow: func() time.Time { return clock }}
	tok := func(kid string) string {
		return tokenFor(t, "ES256", keyOf(t, "ES256").priv, map[string]any{"sub": "x"}, map[string]any{"kid": kid})
	}
	steps := []struct {
		advance time.Duration
		kid     string
		hits    int32
	}{
		{0, "ec-1", 1},                     // fetched
		{0, "made-up-1", 2},                // an unknown kid refetches
		{time.Second, "made-up-2", 2},      // not again so soon
		{10 * time.Second, "made-up-3", 2}, // nor from another process (the same cache)
		{jwksRefetchInterval, "made-up-4", 3},
		{0, "ec-1", 3},
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		Verify(context.Background(), tok(s.kid), opts)
		if n := srv.hits.Load(); n != s.hits {
			t.Fatalf("step %d (kid %s): %d requests, want %d", i, s.kid, n, s.hits)
		}
	}
}
