package session

import (
	"context"
	"testing"
	"time"
)

// With StopAfterObtain (authx token and header, which call no plugin after
// their Get), Get stops the plugin while it writes the credential to the
// cache, and returns once both are done: no plugin outlives it, and its
// stop no longer follows the cache's fsyncs. A later Get starts another.
// Without it, the plugin keeps running for the session's next calls.
func TestStopAfterObtain(t *testing.T) {
	dir := testkitDir(t)
	for _, stop := range []bool{true, false} {
		t.Run(map[bool]string{true: "stop", false: "keep"}[stop], func(t *testing.T) {
			srv := newServer(t)
			now := time.Now()
			s := newSession(t, srv, dir, func() time.Time { return now })
			s.StopAfterObtain = stop
			defer s.Close()
			ctx := context.Background()
			p, _, err := s.Plugin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Get(ctx)
			if err != nil || res.Source != LoggedIn || s.Cached() == nil {
				t.Fatalf("Get = %+v, %v; cached %+v", res, err, s.Cached())
			}
			if p.Exited() != stop || (s.plugin.Load() == nil) != stop {
				t.Errorf("after Get: plugin exited %v, still held %v; want exited %v", p.Exited(), s.plugin.Load() != nil, stop)
			}
			now = now.Add(50 * time.Second) // within the refresh skew: the plugin is needed again
			if res, err := s.Get(ctx); err != nil || res.Source != Refreshed {
				t.Fatalf("second Get = %+v, %v", res, err)
			}
		})
	}
}
