package config

import (
	"net/url"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// checkURL returns "" when s is an absolute http(s) URL, else what is wrong.
func checkURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "not a URL: " + err.Error()
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "expected an http:// or https:// URL"
	}
	if u.Host == "" {
		return "the URL has no host"
	}
	return ""
}

// origin returns scheme://host:port in lower case, with the default port
// made explicit.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// matchLen returns how much of target the prefix covers, or -1 when it does
// not match. A prefix matches at path-segment boundaries only.
func matchLen(prefix, target *url.URL) int {
	if origin(prefix) != origin(target) {
		return -1
	}
	pp, tp := prefix.EscapedPath(), target.EscapedPath()
	if tp == "" {
		tp = "/"
	}
	switch {
	case pp == "" || pp == "/":
		return 1
	case strings.HasSuffix(pp, "/"):
		if strings.HasPrefix(tp, pp) || tp == strings.TrimSuffix(pp, "/") {
			return 1 + len(pp)
		}
	case tp == pp || strings.HasPrefix(tp, pp+"/"):
		return 1 + len(pp)
	}
	return -1
}

// ProfileForURL returns the profile whose match prefix is the longest
// prefix of rawURL.
func (f *File) ProfileForURL(rawURL string) (*Profile, error) {
	target, err := url.Parse(rawURL)
	if err != nil || target.Host == "" {
		return nil, core.Errorf(core.KindConfig, "--url %q: expected an absolute http(s) URL", rawURL)
	}
	var best *Profile
	bestLen := -1
	for _, name := range ProfileNames(f) {
		p := f.Profiles[name]
		for _, m := range p.Match {
			pu, err := url.Parse(m)
			if err != nil {
				continue
			}
			if n := matchLen(pu, target); n > bestLen {
				best, bestLen = p, n
			}
		}
	}
	if best == nil {
		return nil, core.Errorf(core.KindConfig, "no profile matches URL %s (add it to a profile's match: list)", redact.URL(target))
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
// credential there.
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
	target, err := url.Parse(rawURL)
	if err != nil || target.Host == "" {
		return core.Errorf(core.KindConfig, "--url %s: expected an absolute http(s) URL", redact.RawURL(rawURL))
	}
	scope := p.Scope()
	for _, m := range scope {
		if pu, err := url.Parse(m); err == nil && matchLen(pu, target) >= 0 {
			return nil
		}
	}
	if len(scope) == 0 {
		return nil
	}
	return core.Errorf(core.KindConfig, "--url %s is outside profile %q's match prefixes (%s); its credentials are not for that URL",
		redact.URL(target), p.Name, strings.Join(scope, ", "))
}
