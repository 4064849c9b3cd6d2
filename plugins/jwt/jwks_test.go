package jwt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// jwksServer is an httptest JWKS endpoint on 127.0.0.1 that counts its
// requests and serves whatever document is current.
type jwksServer struct {
	*httptest.Server
	hits         atomic.Int32
	mu           sync.Mutex
	doc          []byte
	cacheControl string
	status       int
	badAccept    atomic.Bool
}

func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{doc: doc, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if r.Header.Get("Accept") != "application/json" || r.Method != http.MethodGet {
			s.badAccept.Store(true)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cacheControl != "" {
			w.Header().Set("Cache-Control", s.cacheControl)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		w.Write(s.doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(status int, cacheControl string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.cacheControl = status, cacheControl
}

func (s *jwksServer) serve(doc []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc = doc
}

// jwksDoc builds a JWKS of the test keys of algs, with kids kids.
func jwksDoc(t *testing.T, algs, kids []string, extra ...map[string]any) []byte {
	t.Helper()
	var keys []any
	for i, alg := range algs {
		ks, err := verifyKeys(keyOf(t, alg).pub)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{"use": "sig"}
		if kids[i] != "" {
			m["kid"] = kids[i]
		}
		keys = append(keys, jwkMap(t, ks[0], m))
	}
	for _, e := range extra {
		keys = append(keys, e)
	}
	return mustJSON(t, map[string]any{"keys": keys})
}

func TestJWKSVerifyByKidAndCache(t *testing.T) {
	doc := jwksDoc(t, []string{"RS256", "ES256"}, []string{"rsa-1", "ec-1"},
		map[string]any{"kty": "RSA", "use": "enc", "kid": "enc-1", "n": "AQAB", "e": "AQAB"},
		map[string]any{"kty": "AKP", "kid": "future"})
	srv := newJWKSServer(t, doc)
	dir := filepath.Join(t.TempDir(), "jwks")
	now := time.Now()
	opts := VerifyOptions{JWKSURL: srv.URL + "/.well-known/jwks.json", CacheDir: dir, Now: fixedClock(now)}
	claims := map[string]any{"sub": "alice", "exp": now.Add(time.Hour).Unix()}

	ecTok := tokenFor(t, "ES256", keyOf(t, "ES256").priv, claims, map[string]any{"kid": "ec-1"})
	v, err := Verify(context.Background(), ecTok, opts)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyID != "ec-1" || srv.hits.Load() != 1 {
		t.Fatalf("kid %q, %d requests", v.KeyID, srv.hits.Load())
	}
	if srv.badAccept.Load() {
		t.Fatal("the JWKS request was not a GET with Accept: application/json")
	}

	// A second Verify with the same CacheDir makes no request.
	rsaTok := tokenFor(t, "RS256", keyOf(t, "RS256").priv, claims, map[string]any{"kid": "rsa-1"})
	if _, err := Verify(context.Background(), rsaTok, opts); err != nil {
		t.Fatal(err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d requests, want 1 (cached)", n)
	}

	// The kid picks the key: an ES256 token claiming the RSA key's kid fails.
	wrong := tokenFor(t, "ES256", keyOf(t, "ES256").priv, claims, map[string]any{"kid": "rsa-1"})
	_, err = Verify(context.Background(), wrong, opts)
	requireInvalid(t, err, `no ES256 key with kid "rsa-1"`)

	// The cache file: <sha256 of URL>.json, 0600 in a 0700 directory.
	sum := sha256.Sum256([]byte(opts.JWKSURL))
	path := filepath.Join(dir, hex.EncodeToString(sum[:])+".json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v", fi.Mode(), di.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".jwks-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestJWKSUnknownKidRefetchesOnce(t *testing.T) {
	srv := newJWKSServer(t, jwksDoc(t, []string{"ES256", "EdDSA"}, []string{"ec-1", "ed-1"}))
	opts := VerifyOptions{JWKSURL: srv.URL, CacheDir: t.TempDir()}
	tok := func(kid string) string {
		return tokenFor(t, "ES256", keyOf(t, "ES256").priv, map[string]any{"sub": "x"}, map[string]any{"kid": kid})
	}
	if _, err := Verify(context.Background(), tok("ec-1"), opts); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(context.Background(), tok("ec-2"), opts)
	requireInvalid(t, err, `no ES256 key with kid "ec-2"`)
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("%d requests, want 2 (one fetch, one refetch)", n)
	}
	// A known kid with a bad signature does not refetch.
	other := tokenFor(t, "ES256", otherKeyOf(t, "ES256").priv, map[string]any{"sub": "x"}, map[string]any{"kid": "ec-1"})
	_, err = Verify(context.Background(), other, opts)
	requireInvalid(t, err, "signature is invalid")
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestJWKSKeyRotation(t *testing.T) {
	srv := newJWKSServer(t, jwksDoc(t, []string{"ES256"}, []string{"old"}))
	opts := VerifyOptions{JWKSURL: srv.URL, CacheDir: t.TempDir()}
	sign := func(alg, kid string) string {
		return tokenFor(t, alg, keyOf(t, alg).priv, map[string]any{"sub": "x"}, map[string]any{"kid": kid})
	}
	if _, err := Verify(context.Background(), sign("ES256", "old"), opts); err != nil {
		t.Fatal(err)
	}
	srv.serve(jwksDoc(t, []string{"ES384"}, []string{"new"}))
	v, err := Verify(context.Background(), sign("ES384", "new"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if v.Alg != "ES384" || srv.hits.Load() != 2 {
		t.Fatalf("alg %s, %d requests", v.Alg, srv.hits.Load())
	}
	// The refetched document replaced the cached one.
	if _, err := Verify(context.Background(), sign("ES384", "new"), opts); err != nil || srv.hits.Load() != 2 {
		t.Fatalf("%v, %d requests", err, srv.hits.Load())
	}
}

func TestJWKSKeyWithoutKid(t *testing.T) {
	srv := newJWKSServer(t, jwksDoc(t, []string{"RS256", "EdDSA"}, []string{"", ""}))
	opts := VerifyOptions{JWKSURL: srv.URL}
	for _, alg := range []string{"PS256", "EdDSA"} {
		tok := tokenFor(t, alg, keyOf(t, alg).priv, map[string]any{"sub": "x"}, map[string]any{"kid": "whatever"})
		if _, err := Verify(context.Background(), tok, opts); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
	}
	// Without CacheDir every Verify fetches.
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	// No key's type fits ES256.
	tok := tokenFor(t, "ES256", keyOf(t, "ES256").priv, map[string]any{"sub": "x"}, nil)
	_, err := Verify(context.Background(), tok, opts)
	requireInvalid(t, err, "algorithm ES256 is not allowed (allowed: RS256, RS384, RS512, PS256, PS384, PS512, EdDSA)")
	opts.Algs = []string{"HS256"}
	_, err = Verify(context.Background(), tok, opts)
	requireInvalid(t, err, "algorithm ES256 is not allowed (no key fits the allowed HS256)")
}

func TestJWKSFailures(t *testing.T) {
	tok := tokenFor(t, "ES256", keyOf(t, "ES256").priv, map[string]any{"sub": "x"}, map[string]any{"kid": "k"})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name   string
		status int
		doc    string
		url    string
		kind   core.Kind
		err    string
	}{
		{"unreachable", 0, "", closed.URL + "/jwks?secret=xyz", core.KindNetwork, "JWKS " + closed.URL + "/jwks: "},
		{"HTTP 500", 500, "oops", "", core.KindBadAnswer, "HTTP 500"},
		{"not JSON", 200, "<html>", "", core.KindBadAnswer, "not a JSON object with a keys array"},
		{"no usable key", 200, `{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}`, "", core.KindBadAnswer, "no usable signature key"},
		{"too large", 200, `{"keys":[],"pad":"` + string(make([]byte, maxBody)) + `"}`, "", core.KindBadAnswer, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			if url == "" {
				srv := newJWKSServer(t, []byte(tt.doc))
				srv.set(tt.status, "")
				url = srv.URL
			}
			_, err := Verify(context.Background(), tok, VerifyOptions{JWKSURL: url, CacheDir: t.TempDir()})
			requireKind(t, err, tt.kind, tt.err)
			if strings.Contains(err.Error(), "secret=xyz") {
				t.Fatalf("the URL's query leaked: %v", err)
			}
		})
	}
}

func TestJWKSCacheTTL(t *testing.T) {
	tests := map[string]time.Duration{
		"":                             defaultJWKSTTL,
		"max-age=60":                   time.Minute,
		"public, max-age=600":          10 * time.Minute,
		"Max-Age=\"90\"":               90 * time.Second,
		"max-age=999999":               maxJWKSTTL,
		"max-age=0":                    0,
		"no-store":                     0,
		"max-age=600, no-cache":        0,
		"max-age=abc":                  defaultJWKSTTL,
		"max-age=-5":                   defaultJWKSTTL,
		"max-age=99999999999999999999": maxJWKSTTL, // overflows int64: the largest
		"s-maxage=60, must-revalidate": defaultJWKSTTL,
	}
	for header, want := range tests {
		if got := cacheTTL(header); got != want {
			t.Errorf("cacheTTL(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestJWKSCacheExpiry drives the cache's clock: a document is reused while
// fresh (max-age) and fetched again once stale.
func TestJWKSCacheExpiry(t *testing.T) {
	srv := newJWKSServer(t, jwksDoc(t, []string{"ES256"}, []string{"k"}))
	srv.set(http.StatusOK, "max-age=60")
	src, err := newJWKSSource(srv.URL, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC)
	src.now = func() time.Time { return clock }
	steps := []struct {
		advance time.Duration
		cached  bool
		hits    int32
	}{
		{0, false, 1},
		{59 * time.Second, true, 1},
		{time.Second, false, 2}, // exactly max-age later: stale
		{30 * time.Second, true, 2},
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		_, cached, err := src.keys(context.Background(), false)
		if err != nil || cached != s.cached || srv.hits.Load() != s.hits {
			t.Fatalf("step %d: cached=%v hits=%d err=%v", i, cached, srv.hits.Load(), err)
		}
	}
	// A corrupt cache file is ignored.
	if err := os.WriteFile(src.cachePath(), []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, cached, err := src.keys(context.Background(), false); err != nil || cached {
		t.Fatalf("cached=%v err=%v", cached, err)
	}
}
