package session

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/secret"
)

// counterDir builds testdata/authx-plugin-counter into a temporary
// directory.
func counterDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", dir, "./testdata/authx-plugin-counter").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return dir
}

// counterSession is a session of profile "ct" (scheme counter, with cfg)
// over store (nil: no cache), with its own plugin process: each is what
// one authx process would run.
func counterSession(t *testing.T, dir string, store *cache.Store, cfg map[string]any) *Session {
	t.Helper()
	h := host.New(host.Options{SearchPath: []string{dir}})
	t.Cleanup(h.Close)
	if cfg == nil {
		cfg = map[string]any{}
	}
	s := &Session{Profile: &config.Profile{Name: "ct", Scheme: "counter", Config: cfg}, Host: h, Store: store,
		Secrets: &secret.Resolver{}, Skew: core.DefaultRefreshSkew}
	t.Cleanup(s.Close)
	return s
}

// sign signs a GET with s's credential and returns its X-Count.
func sign(t *testing.T, s *Session, cred *core.Credential) int {
	t.Helper()
	ctx := context.Background()
	if cred == nil {
		var err error
		if cred, err = s.Credential(ctx); err != nil {
			t.Fatal(err)
		}
	}
	hs, err := s.Sign(ctx, cred, core.HTTPRequest{Method: "GET", URL: "https://api.example.test/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.Name == "X-Count" {
			n, _ := strconv.Atoi(h.Value)
			return n
		}
	}
	t.Fatalf("no X-Count in %v", hs)
	return 0
}

// Issue 12, point 1: the state an Apply returns is stored, so that 5
// sequential authx processes (each its own session and plugin process over
// the same cache) see the count go up, as Digest's nonce count must.
func TestSignStateAcrossProcesses(t *testing.T) {
	dir, store := counterDir(t), cache.New(filepath.Join(t.TempDir(), "cache"))
	for want := 1; want <= 5; want++ {
		s := counterSession(t, dir, store, nil)
		if got := sign(t, s, nil); got != want {
			t.Errorf("process %d: count %d, want %d", want, got, want)
		}
		s.Close()
	}
	if e := s0(store); e == nil || string(e.Credential.State) != "5" {
		t.Errorf("cached entry = %+v, want state 5", e)
	}
}

// s0 reads profile ct's cache entry.
func s0(store *cache.Store) *cache.Entry {
	e, _ := store.Get(cache.KeyFor("ct", (&config.Profile{Name: "ct", Scheme: "counter", Config: map[string]any{}}).Identity()))
	return e
}

// Concurrent authx processes each sign once: every one applies with the
// state the one before stored, under the entry's lock, so no count is
// used twice.
func TestSignStateConcurrentProcesses(t *testing.T) {
	dir, store := counterDir(t), cache.New(filepath.Join(t.TempDir(), "cache"))
	first := counterSession(t, dir, store, nil)
	if got := sign(t, first, nil); got != 1 {
		t.Fatalf("first count %d", got)
	}
	const n = 4
	sessions := make([]*Session, n)
	creds := make([]*core.Credential, n)
	for i := range sessions {
		sessions[i] = counterSession(t, dir, store, nil)
		cred, err := sessions[i].Credential(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		creds[i] = cred // all read state "1" before any signs
	}
	counts := make([]int, n)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() { counts[i] = sign(t, sessions[i], creds[i]) })
	}
	wg.Wait()
	slices.Sort(counts)
	if !slices.Equal(counts, []int{2, 3, 4, 5}) {
		t.Errorf("counts = %v, want 2 3 4 5", counts)
	}
}

// Without a cache (an ad-hoc profile, store: memory without an agent) the
// state lives in the session: consecutive Signs with one credential see
// it. A scheme that returns no state keeps the credential's.
func TestSignStateInMemory(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   map[string]any
		store bool
		want  []int
	}{
		{"memory", nil, false, []int{1, 2, 3}},
		{"stateless", map[string]any{"stateless": true}, false, []int{1, 1, 1}},
		{"stateless cached", map[string]any{"stateless": true}, true, []int{1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := counterDir(t)
			var store *cache.Store
			if tc.store {
				store = cache.New(filepath.Join(t.TempDir(), "cache"))
			}
			s := counterSession(t, dir, store, tc.cfg)
			cred, err := s.Credential(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for range tc.want {
				got = append(got, sign(t, s, cred))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("counts = %v, want %v", got, tc.want)
			}
			if string(cred.State) != "0" {
				t.Errorf("the caller's credential changed: state %q", cred.State)
			}
		})
	}
}

// BenchmarkSign measures one Sign through a real plugin process: a
// stateless scheme (no lock, no cache read), a stateful one over the file
// cache (lock, read, Apply, atomic write) and a stateful one in memory.
func BenchmarkSign(b *testing.B) {
	dir := b.TempDir()
	if out, err := exec.Command("go", "build", "-o", dir, "./testdata/authx-plugin-counter").CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	for _, bc := range []struct {
		name  string
		cfg   map[string]any
		store bool
	}{
		{"stateless", map[string]any{"stateless": true}, true},
		{"state/cache", nil, true},
		{"state/memory", nil, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var store *cache.Store
			if bc.store {
				store = cache.New(filepath.Join(b.TempDir(), "cache"))
			}
			h := host.New(host.Options{SearchPath: []string{dir}})
			defer h.Close()
			s := &Session{Profile: &config.Profile{Name: "ct", Scheme: "counter", Config: bc.cfg}, Host: h, Store: store,
				Secrets: &secret.Resolver{}, Skew: core.DefaultRefreshSkew}
			defer s.Close()
			ctx := context.Background()
			cred, err := s.Credential(ctx)
			if err != nil {
				b.Fatal(err)
			}
			req := core.HTTPRequest{Method: "GET", URL: "https://api.example.test/"}
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Sign(ctx, cred, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
