package authhttp

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/urlscope"
)

// ScopeError says why a credential may not be sent to a URL: it lies
// outside the profile's match prefixes, or outside the credential's own
// scope (a WordPress token scoped to /wp-json/, say).
type ScopeError struct {
	URL *url.URL
	// Prefixes are the prefixes that do not cover URL.
	Prefixes []string
	// Credential is true when Prefixes are the credential's own scope,
	// false when they are the profile's match prefixes.
	Credential bool
}

func (e *ScopeError) Error() string {
	if e.Credential {
		return fmt.Sprintf("the credential's scope (%s) does not cover %s", strings.Join(e.Prefixes, ", "), redact.URL(e.URL))
	}
	return fmt.Sprintf("%s is outside the profile's match prefixes (%s)", redact.URL(e.URL), strings.Join(e.Prefixes, ", "))
}

// CheckScope is the one rule for where a credential may go, which the
// Transport, the wrappers and `authx header --url` share: u must lie under
// one of profileScope's prefixes (the profile's match prefixes, as
// Transport.Scope) and, when cred has a Scope of its own, under one of
// those too. It returns nil, or a KindConfig error wrapping a *ScopeError
// that names the real reason. A nil cred is checked against profileScope
// only.
func CheckScope(u *url.URL, profileScope []string, cred *core.Credential) error {
	if !urlscope.InScope(u, profileScope) {
		return core.Wrap(core.KindConfig, &ScopeError{URL: u, Prefixes: profileScope}, "")
	}
	if !credentialCovers(cred, u) {
		return core.Wrap(core.KindConfig, &ScopeError{URL: u, Prefixes: cred.Scope, Credential: true}, "")
	}
	return nil
}

// credentialCovers reports whether cred's own scope, if it has one,
// covers u.
func credentialCovers(cred *core.Credential, u *url.URL) bool {
	return cred == nil || len(cred.Scope) == 0 || urlscope.InScope(u, cred.Scope)
}

// notSent explains a refusal of a request that went out without the
// credential, because of scope: a renewed credential would not be sent
// either, so there is nothing to renew.
func notSent(resp *http.Response, scopeErr error) error {
	return core.Errorf(core.KindConfig, "the server answered HTTP %d to %s %s, which got no credential: %s",
		resp.StatusCode, resp.Request.Method, redact.URL(resp.Request.URL), scopeErr.Error())
}
