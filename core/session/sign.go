package session

import (
	"bytes"
	"context"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/pluginrpc"
)

// Sign asks the plugin for the headers of one request, for credentials
// marked PerRequest. It makes a Session an authhttp.Signer.
//
// A plugin of protocol minor 4 may also return the credential's new state
// (Digest's nonce count): Sign stores it, so that the next Apply, in this
// process or any other, is made with it. With a cache, the state is read
// and written under the entry's lock (cache.Store.Lock): Sign takes it,
// reads the entry again, applies with the stored state when the entry
// holds the same credential, writes the entry back and unlocks, so that N
// concurrent authx processes apply with N successive states. Without a
// cache (an ad-hoc profile, store: memory without an agent), or for a
// credential the cache does not hold (a retry's), the state stays in the
// Session: consecutive Signs with the same credential value see it.
//
// The caller's credential is never modified. A credential without state
// is applied to before any lock is taken, since most such schemes (HMAC
// signing) never return any: they cost no lock and no cache read.
func (s *Session) Sign(ctx context.Context, cred *core.Credential, req core.HTTPRequest) ([]core.Header, error) {
	p, desc, err := s.Plugin(ctx)
	if err != nil {
		return nil, err
	}
	if !desc.Capabilities.Apply {
		return nil, core.Errorf(core.KindPlugin, "the credential asks for per-request signing but scheme %q cannot sign", s.Profile.Scheme)
	}
	cfg, err := s.ResolvedConfig(ctx)
	if err != nil {
		return nil, err
	}
	a := &applier{s: s, p: p, cfg: cfg, req: req}
	if desc.ProtocolMinor < pluginrpc.ApplyStateMinor { // returns no state
		res, err := a.apply(ctx, cred)
		if err != nil {
			return nil, err
		}
		return res.Headers, nil
	}
	s.signMu.Lock()
	defer s.signMu.Unlock()
	cur := s.latest(cred)
	var first *core.ApplyResult
	if len(cur.State) == 0 {
		if first, err = a.apply(ctx, cur); err != nil {
			return nil, err
		}
		if first.State == nil {
			return first.Headers, nil
		}
	}
	return a.stateful(ctx, cred, cur, first)
}

// applier is one Sign's plugin call.
type applier struct {
	s   *Session
	p   *host.Plugin
	cfg core.Config
	req core.HTTPRequest
}

func (a *applier) apply(ctx context.Context, cred *core.Credential) (*core.ApplyResult, error) {
	cctx, cancel := a.s.callCtx(ctx)
	defer cancel()
	res, err := a.p.Apply(cctx, core.ApplyRequest{Config: a.cfg, URL: a.s.Profile.BaseURL(), Credential: cred, Request: a.req})
	if err != nil {
		return nil, a.s.scrub(err, a.cfg, cred)
	}
	return res, nil
}

// stateful applies with the latest state of cred and stores the state
// the plugin returns; s.signMu is held. cur is cred with the state this
// process last stored for it; first, when set, is the answer of an Apply
// already made with cur, used when the cache still holds cur's state.
func (a *applier) stateful(ctx context.Context, cred, cur *core.Credential, first *core.ApplyResult) ([]core.Header, error) {
	s := a.s
	if s.Store == nil {
		return a.inMemory(ctx, cred, cur, first)
	}
	key := s.Key()
	unlock, err := s.Store.Lock(ctx, key)
	if cache.IsReadOnly(err) {
		s.warnReadOnly(err)
		return a.inMemory(ctx, cred, cur, first)
	}
	if err != nil {
		return nil, err
	}
	defer unlock()
	e, err := s.Store.Get(key)
	if err != nil {
		return nil, err
	}
	cached := e != nil && sameCredential(&e.Credential, cred)
	if cached && !bytes.Equal(e.Credential.State, cur.State) { // another process applied meanwhile
		cur, first = withState(cur, e.Credential.State), nil
	}
	res := first
	if res == nil {
		if res, err = a.apply(ctx, cur); err != nil {
			return nil, err
		}
	}
	if res.State == nil {
		return res.Headers, nil
	}
	s.signedFor, s.signedWith = cred, res.State
	if !cached {
		return res.Headers, nil
	}
	e.Credential.State = res.State
	// Atomic and 0600 like every entry, but without fsync
	// (cache.Store.UpdateState): the fsyncs of the file and its directory
	// cost about 4 ms here, 20 times the rest of a Sign, on every request,
	// and what they protect against is a crash of the machine, after which
	// the state may be the previous one (a nonce count the server sees
	// twice: a 401 and a renewal, never a leak) or the entry damaged (a
	// miss: a new login). The credential itself was written with fsync
	// when it was obtained.
	if err := s.Store.UpdateState(key, e); cache.IsReadOnly(err) {
		s.warnReadOnly(err)
	} else if err != nil {
		return nil, err
	}
	return res.Headers, nil
}

// inMemory is stateful without a cache: the state stays in the Session.
func (a *applier) inMemory(ctx context.Context, cred, cur *core.Credential, first *core.ApplyResult) ([]core.Header, error) {
	res := first
	if res == nil {
		var err error
		if res, err = a.apply(ctx, cur); err != nil {
			return nil, err
		}
	}
	if res.State != nil {
		a.s.signedFor, a.s.signedWith = cred, res.State
	}
	return res.Headers, nil
}

// latest returns cred with the state this process last stored for it
// (cred itself when none); s.signMu is held. The credential is the same
// value (pointer), not an equal one: a new login that returns the same
// token starts from its own state.
func (s *Session) latest(cred *core.Credential) *core.Credential {
	if s.signedFor != cred {
		return cred
	}
	return withState(cred, s.signedWith)
}

// withState returns a copy of cred with state.
func withState(cred *core.Credential, state []byte) *core.Credential {
	c := *cred
	c.State = state
	return &c
}
