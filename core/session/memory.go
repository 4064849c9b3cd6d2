package session

import (
	"context"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
)

// memoryStore holds the credential of a store: memory profile, which is
// never written to disk. In the agent it lives as long as the agent; in a
// CLI process, as long as that process (one `authx request` logs in once
// for its retries).
type memoryStore struct {
	held *cache.Entry
}

// inMemory reports whether the profile's credential lives in memory only.
func (s *Session) inMemory() bool { return s.Profile.Store == config.StoreMemory }

// serveMemory is serve for a session without a file cache: an ad-hoc
// profile (nothing kept) or a store: memory profile (kept in this process
// only). Concurrent calls wait for one another, so one process logs in
// once.
func (s *Session) serveMemory(ctx context.Context, m mode, rejected *core.Credential) (*Result, error) {
	if !s.inMemory() {
		return s.obtain(ctx, nil, m == modeLogin)
	}
	s.memMu.Lock()
	defer s.memMu.Unlock()
	old := s.mem.held
	if old.Fresh(s.now(), s.Skew) && (m == modeUse || rejected != nil && !sameCredential(&old.Credential, rejected)) {
		return &Result{Credential: &old.Credential, Source: FromCache}, nil
	}
	res, err := s.obtainOrKeep(ctx, m, old)
	if err != nil || res.Source == FromCache {
		return res, err
	}
	s.holdLocked(ctx, res.Credential)
	return res, nil
}

// hold keeps cred as the store: memory profile's credential, in this
// process and in the agent when there is one.
func (s *Session) hold(ctx context.Context, cred *core.Credential) {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	s.holdLocked(ctx, cred)
}

func (s *Session) holdLocked(ctx context.Context, cred *core.Credential) {
	s.mem.held = &cache.Entry{Version: cache.Version, Profile: s.Profile.Name, Scheme: s.Profile.Scheme, Created: s.now().UTC(), Credential: *cred}
	s.putToAgent(ctx, cred)
}

// Held returns the credential a store: memory profile's session holds,
// fresh or not, and when it obtained it; nil when it holds none.
func (s *Session) Held() *cache.Entry {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	return s.mem.held
}

// Hold makes the session hold cred, which a client obtained (the agent's
// OpPut). Only a store: memory profile's session holds credentials; it
// reports whether it took it.
func (s *Session) Hold(cred *core.Credential) bool {
	if !s.inMemory() {
		return false
	}
	s.memMu.Lock()
	defer s.memMu.Unlock()
	s.mem.held = &cache.Entry{Version: cache.Version, Profile: s.Profile.Name, Scheme: s.Profile.Scheme, Created: s.now().UTC(), Credential: *cred}
	return true
}

// PluginPID returns the process id of the session's plugin while one runs,
// else "".
func (s *Session) PluginPID() string {
	if p := s.plugin.Load(); p != nil && !p.Exited() {
		return p.PID()
	}
	return ""
}

// forgetHeld drops a store: memory profile's credential, here and in the
// agent, and reports how many it dropped.
func (s *Session) forgetHeld(ctx context.Context) int {
	if !s.inMemory() {
		return 0
	}
	n := 0
	s.memMu.Lock()
	if s.mem.held != nil {
		s.mem.held, n = nil, 1
	}
	s.memMu.Unlock()
	resp, ok, _ := s.askAgent(ctx, &agent.Request{Op: agent.OpForget, Config: s.ConfigFile, Profile: s.Profile.Name})
	if ok {
		n += resp.Count
	}
	return n
}
