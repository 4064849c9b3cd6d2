package profiles

import (
	"net/url"
	"strings"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/urlscope"
)

// targetURL parses the --url of a command (or a wrapped tool's URL) for
// matching: an absolute http(s) URL whose path is not ambiguous.
func targetURL(rawURL string) (*url.URL, error) {
	target, err := url.Parse(rawURL)
	if err != nil || target.Host == "" {
		return nil, core.Errorf(core.KindConfig, "--url %s: expected an absolute http(s) URL", redact.RawURL(rawURL))
	}
	if msg := urlscope.Problem(target); msg != "" {
		return nil, core.Errorf(core.KindConfig, "--url %s: %s", redact.URL(target), msg)
	}
	return target, nil
}

// ProfileForURL returns the profile whose match prefix is the longest
// prefix of rawURL. When two profiles' prefixes are equally long prefixes
// of it (equivalent once normalized: https://GIT.example.com:443/ and
// https://git.example.com/), the URL is ambiguous: an error naming both.
func (f *File) ProfileForURL(rawURL string) (*Profile, error) {
	target, err := targetURL(rawURL)
	if err != nil {
		return nil, err
	}
	var best, tie *Profile
	bestLen := -1
	for _, name := range ProfileNames(f) {
		p := f.Profiles[name]
		for _, m := range p.Match {
			pu, err := url.Parse(m)
			if err != nil {
				continue
			}
			switch n := urlscope.MatchLen(pu, target); {
			case n > bestLen:
				best, bestLen, tie = p, n, nil
			case n == bestLen && n >= 0 && p != best:
				tie = p
			}
		}
	}
	switch {
	case best == nil:
		return nil, core.Errorf(core.KindConfig, "no profile matches URL %s (add it to a profile's match: list)", redact.URL(target))
	case tie != nil:
		return nil, core.Errorf(core.KindConfig, "URL %s is matched equally by profiles %q and %q (equivalent match prefixes): make one prefix longer, or name the profile", redact.URL(target), best.Name, tie.Name)
	}
	return best, nil
}

// Select returns the profile a command means, in this order: the one it
// names; else the one whose match prefix is the longest prefix of rawURL
// (an explicit --url, or the URL a wrapped curl or wget is given); else the
// one $AUTHX_PROFILE (env) names. A URL beats the environment variable, so
// that a credential never goes to a URL its profile does not match. ok is
// false when none of the three is given.
//
// A named profile with a URL must cover it: the caller means to send the
// credential there. URLs are matched normalized (see urlscope.Normalize).
func (f *File) Select(name, rawURL, env string) (p *Profile, ok bool, err error) {
	switch {
	case name != "":
		p, err = f.Profile(name)
		if err == nil && rawURL != "" {
			err = p.covers(rawURL)
		}
	case rawURL != "":
		p, err = f.ProfileForURL(rawURL)
	case env != "":
		p, err = f.Profile(env)
		if err != nil {
			err = core.Errorf(core.KindConfig, "$AUTHX_PROFILE: %s", err.Error())
		}
	default:
		return nil, false, nil
	}
	return p, true, err
}

// Scope returns the URL prefixes the profile's credentials may be sent to:
// its match prefixes, else its url; nil when it has neither.
func (p *Profile) Scope() []string {
	if len(p.Match) > 0 {
		return p.Match
	}
	if p.URL != "" {
		return []string{p.URL}
	}
	return nil
}

// covers returns nil when rawURL lies within the profile's scope (or the
// profile has none), else an error naming both.
func (p *Profile) covers(rawURL string) error {
	target, err := targetURL(rawURL)
	if err != nil {
		return err
	}
	scope := p.Scope()
	if len(scope) == 0 || urlscope.InScope(target, scope) {
		return nil
	}
	return core.Errorf(core.KindConfig, "--url %s is outside profile %q's match prefixes (%s); its credentials are not for that URL",
		redact.URL(target), p.Name, strings.Join(scope, ", "))
}
