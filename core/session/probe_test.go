package session

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authx/authx/core/cache"
)

// challengeServer answers an unauthenticated GET of /digest with a Digest
// challenge, of /open with 200 and of /moved with a redirect to /digest;
// it counts the requests it gets.
func challengeServer(t *testing.T, tls bool) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case r.Method != http.MethodGet || r.Header.Get("Authorization") != "":
			http.Error(w, "unexpected", http.StatusBadRequest)
		case r.URL.Path == "/digest":
			w.Header().Set("WWW-Authenticate", `Digest realm="r", nonce="n1", qop="auth"`)
			http.Error(w, "authenticate", http.StatusUnauthorized)
		case r.URL.Path == "/moved":
			http.Redirect(w, r, "/digest", http.StatusFound)
		default:
			w.Write([]byte("open"))
		}
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Issue 12, point 2: a scheme that declares LoginChallenge gets the
// server's first 401 to an unauthenticated GET of the login URL, probed by
// the host with the profile's TLS settings; any other answer, or none,
// gives it no challenge and the login goes on. A cached credential costs
// no probe.
func TestLoginGetsTheServersChallenge(t *testing.T) {
	dir := counterDir(t)
	plain, _ := challengeServer(t, false)
	secure, secureHits := challengeServer(t, true)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o600)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	challenged := `challenged-401 X-Challenge: Digest realm="r", nonce="n1", qop="auth" body=authenticate`
	for _, tc := range []struct {
		name, url string
		cfg       map[string]any
		want      string
	}{
		{"401", plain.URL + "/digest", nil, challenged},
		{"tls with the profile's ca_file", secure.URL + "/digest", map[string]any{"ca_file": ca}, challenged},
		{"user info in the url is not sent", strings.Replace(plain.URL, "http://", "http://u:pw@", 1) + "/digest", nil, challenged},
		{"200", plain.URL + "/open", nil, "unchallenged"},
		{"redirect not followed", plain.URL + "/moved", nil, "unchallenged"},
		{"unreachable", closed.URL + "/digest", nil, "unchallenged"},
		{"no url", "", nil, "unchallenged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := counterSession(t, dir, nil, tc.cfg)
			s.Profile.URL = tc.url
			cred, err := s.Credential(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := cred.Token
			for _, h := range cred.Headers {
				got += " " + h.Name + ": " + h.Value
			}
			if got != tc.want {
				t.Errorf("login got %q, want %q", got, tc.want)
			}
		})
	}

	// The cached path probes nothing; a login does, once.
	store := cache.New(filepath.Join(t.TempDir(), "cache"))
	before := secureHits.Load()
	for range 3 {
		s := counterSession(t, dir, store, map[string]any{"ca_file": ca})
		s.Profile.URL = secure.URL + "/digest"
		if _, err := s.Credential(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if n := secureHits.Load() - before; n != 1 {
		t.Errorf("3 runs over one cache probed %d times, want 1", n)
	}
}

// A scheme that does not declare LoginChallenge costs no probe.
func TestNoProbeWithoutLoginChallenge(t *testing.T) {
	dir := testkitDir(t)
	srv := newServer(t)
	probe, hits := challengeServer(t, false)
	s := newSession(t, srv, dir, nil)
	s.Profile.URL = probe.URL + "/digest"
	if _, err := s.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 0 {
		t.Errorf("the probe server got %d requests, want 0", hits.Load())
	}
}
