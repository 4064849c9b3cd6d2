package session

import (
	"context"
	"time"
)

// RenewGrace is how recent a cached credential must be for Renew to take it
// as the answer to the refusal it is told about: one that another authx
// obtained this recently is newer than whatever the caller used and saw
// refused.
const RenewGrace = 10 * time.Second

// Renew is told that the server refused the profile's credential, without
// being told which one: it refreshes or logs in, single-flight across
// processes, and caches the result.
//
// The refused credential is taken to be the one the cache holds, unless
// another authx obtained that one less than RenewGrace ago: a concurrent
// renewal already answered the refusal, and the caller gets its credential.
// So N scripts that see the same refusal and each run
// `authx token P --renew` cause one refresh or login, and a credential
// refused as soon as it was obtained (a server that never accepts it) is not
// renewed in a loop.
func (s *Session) Renew(ctx context.Context) (*Result, error) {
	if s.Store == nil {
		return s.get(ctx, modeRenew, nil)
	}
	e := s.Cached()
	if e == nil {
		return s.get(ctx, modeUse, nil)
	}
	if s.Fresh(e) && s.now().Sub(e.Created) < RenewGrace {
		s.log().Debug("credential renewed moments ago by another authx; not renewing it again", "profile", s.Profile.Name)
		return &Result{Credential: &e.Credential, Source: FromCache}, nil
	}
	// Under the entry's lock get serves a fresh credential other than the
	// refused one (a renewal that finished while this one waited).
	return s.get(ctx, modeRenew, &e.Credential)
}
