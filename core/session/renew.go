package session

import (
	"context"
	"time"

	"github.com/authx/authx/core"
)

// RenewGrace is how recent a cached credential must be for Renew, when not
// told which credential the server refused, to take it as the answer to
// that refusal: one that another authx obtained this recently is newer than
// whatever the caller used and saw refused.
const RenewGrace = 5 * time.Second

// Renew is told that the server refused the profile's credential: it
// refreshes or logs in, single-flight across processes, and caches the
// result.
//
// refused is the refused token or header value when the caller knows it
// (`AUTHX_REFUSED=$tok authx token P --renew`): a cached credential that
// holds another is a renewal a concurrent authx made, and is served.
//
// When renewing yields refused again (a static token, a password: the
// scheme has nothing else to offer), Renew fails with KindRejected rather
// than hand back what the server refused, so that a script's retry does not
// loop.
//
// With refused "", the refused credential is taken to be the one the cache
// holds, unless another authx obtained that one less than RenewGrace ago: a
// concurrent renewal already answered the refusal, and the caller gets its
// credential. So N scripts that see the same refusal and each run
// `authx token P --renew` cause one refresh or login, and a credential
// refused as soon as it was obtained is not renewed in a loop.
func (s *Session) Renew(ctx context.Context, refused string) (*Result, error) {
	if s.Store == nil {
		return s.get(ctx, modeRenew, nil)
	}
	e := s.Cached()
	if e == nil {
		return s.get(ctx, modeUse, nil)
	}
	renewed := s.now().Sub(e.Created) < RenewGrace
	if refused != "" {
		renewed = !holds(&e.Credential, refused)
	}
	if s.Fresh(e) && renewed {
		s.log().Debug("credential already renewed by another authx", "profile", s.Profile.Name)
		return &Result{Credential: &e.Credential, Source: FromCache}, nil
	}
	// Under the entry's lock get serves a fresh credential other than the
	// refused one (a renewal that finished while this one waited).
	res, err := s.get(ctx, modeRenew, &e.Credential)
	if err == nil && refused != "" && holds(res.Credential, refused) {
		return nil, core.Errorf(core.KindRejected, "renewing gave the credential the server refused again: the scheme cannot obtain another (a static token, or a password the server no longer takes); replace it in profile %q's config", s.Profile.Name)
	}
	return res, err
}

// holds reports whether c's token or one of its header values is v.
func holds(c *core.Credential, v string) bool {
	if c.Token == v {
		return true
	}
	for _, h := range c.HeaderLines() {
		if h.Value == v {
			return true
		}
	}
	return false
}
