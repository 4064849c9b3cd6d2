package config

import (
	"net"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// checkURL returns "" when s is an absolute http(s) URL whose path is not
// ambiguous (see NormalizeURL), else what is wrong.
func checkURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "not a URL: " + redact.ParseError(err)
	}
	if _, err := normalize(u); err != "" {
		return err
	}
	return ""
}

// NormalizeURL returns the absolute http(s) URL u in the form authx matches
// against match prefixes and sends: scheme and host in lower case, the empty
// path as "/", percent-encodings of unreserved characters decoded and the
// others in upper case, and dot segments removed (RFC 3986 §6.2.2, §5.2.4;
// "%2e" is a dot). The query, fragment, port and user info are kept.
//
// A path in which a server could still see a dot segment, because it reads
// "\" as "/", decodes "%2F" before routing, drops ";parameters" (Tomcat's
// "/..;/") or merges "//" before removing "..", is refused: authx cannot
// tell which resource such a URL names. The error is of kind core.KindConfig
// and shows the URL without its secrets.
func NormalizeURL(u *url.URL) (*url.URL, error) {
	n, msg := normalize(u)
	if msg != "" {
		return nil, core.Errorf(core.KindConfig, "%s: %s", redact.URL(u), msg)
	}
	return n, nil
}

// normalize is NormalizeURL with the problem as a phrase.
func normalize(u *url.URL) (*url.URL, string) {
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return nil, "expected an http:// or https:// URL"
	case u.Host == "" || u.Hostname() == "":
		return nil, "the URL has no host"
	}
	p, ok := cleanPath(u.EscapedPath())
	if !ok {
		return nil, "the path has a dot segment hidden (by \\, %2F, ;, // or double encoding) that servers may read differently; credentials are not sent to it"
	}
	n := *u
	n.Scheme, n.Host = scheme, strings.ToLower(u.Host)
	n.Path, _ = url.PathUnescape(p) // p is well-formed
	n.RawPath = p
	return &n, ""
}

// cleanPath returns the escaped path p in normal form (see NormalizeURL),
// and false when it is ambiguous.
func cleanPath(p string) (string, bool) {
	p = normalEscapes(p)
	if strings.Contains(p, "//") && hasDotSegment(p) {
		return "", false // nginx merges slashes first: /a//../b is /b to it, /a/b to RFC 3986
	}
	p = removeDotSegments(p)
	if p == "" {
		p = "/"
	}
	for _, seg := range strings.Split(p, "/") {
		if hiddenDotSegment(seg) {
			return "", false
		}
	}
	return p, true
}

// normalEscapes decodes the percent-encodings of unreserved characters in
// the escaped path p, writes the others in upper case, and encodes every
// byte that may not appear in a path as is (a lone "%" included).
func normalEscapes(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			d := unhex(p[i+1])<<4 | unhex(p[i+2])
			if unreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteString(strings.ToUpper(p[i : i+3]))
			}
			i += 2
			continue
		}
		if unreserved(c) || c == '/' || strings.IndexByte("!$&'()*+,;=:@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.Write([]byte{'%', hex[c>>4], hex[c&15]})
	}
	return b.String()
}

// removeDotSegments is RFC 3986 §5.2.4.
func removeDotSegments(in string) string {
	var out string
	pop := func() {
		if i := strings.LastIndexByte(out, '/'); i >= 0 {
			out = out[:i]
		} else {
			out = ""
		}
	}
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			pop()
		case in == "/..":
			in = "/"
			pop()
		case in == "." || in == "..":
			in = ""
		default:
			i := strings.IndexByte(in[1:], '/') + 1
			if i == 0 {
				i = len(in)
			}
			out, in = out+in[:i], in[i:]
		}
	}
	return out
}

// hasDotSegment reports whether the escaped path p has a "." or ".."
// segment, encoded or not.
func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if s, err := url.PathUnescape(seg); err == nil && (s == "." || s == "..") {
			return true
		}
	}
	return false
}

// hiddenDotSegment reports whether the escaped segment seg, which is no dot
// segment itself, holds one for a server that decodes it (once or more),
// splits it at "/" or "\", or drops its ";parameters".
func hiddenDotSegment(seg string) bool {
	s, err := url.PathUnescape(seg)
	if err != nil {
		return true
	}
	for range 3 {
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' }) {
			part, _, _ = strings.Cut(part, ";")
			if part == "." || part == ".." {
				return true
			}
		}
		if s, err = url.PathUnescape(s); err != nil {
			return false
		}
	}
	return false
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// origin returns scheme://host:port in lower case, with the default port
// made explicit.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// matchLen returns how much of target the prefix covers, or -1 when it does
// not match. Both are normalized first (see NormalizeURL); an ambiguous URL
// matches nothing. A prefix matches at path-segment boundaries only.
func matchLen(prefix, target *url.URL) int {
	prefix, msg := normalize(prefix)
	if msg != "" {
		return -1
	}
	target, msg = normalize(target)
	if msg != "" || origin(prefix) != origin(target) {
		return -1
	}
	pp, tp := prefix.EscapedPath(), target.EscapedPath()
	switch {
	case pp == "/":
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

// InScope reports whether u lies under one of the URL prefixes once both
// are normalized (see NormalizeURL): same scheme, host and port (default
// ports made explicit), and a path prefix that ends at a segment boundary.
// An ambiguous URL is under none. It is the one rule authx applies to match
// prefixes and credential scopes.
func InScope(u *url.URL, prefixes []string) bool {
	for _, p := range prefixes {
		if pu, err := url.Parse(p); err == nil && matchLen(pu, u) >= 0 {
			return true
		}
	}
	return false
}

// targetURL parses the --url of a command (or a wrapped tool's URL) for
// matching: an absolute http(s) URL whose path is not ambiguous.
func targetURL(rawURL string) (*url.URL, error) {
	target, err := url.Parse(rawURL)
	if err != nil || target.Host == "" {
		return nil, core.Errorf(core.KindConfig, "--url %s: expected an absolute http(s) URL", redact.RawURL(rawURL))
	}
	if _, msg := normalize(target); msg != "" {
		return nil, core.Errorf(core.KindConfig, "--url %s: %s", redact.URL(target), msg)
	}
	return target, nil
}

// ProfileForURL returns the profile whose match prefix is the longest
// prefix of rawURL.
func (f *File) ProfileForURL(rawURL string) (*Profile, error) {
	target, err := targetURL(rawURL)
	if err != nil {
		return nil, err
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
// credential there. URLs are matched normalized (see NormalizeURL).
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
	if len(scope) == 0 || InScope(target, scope) {
		return nil
	}
	return core.Errorf(core.KindConfig, "--url %s is outside profile %q's match prefixes (%s); its credentials are not for that URL",
		redact.URL(target), p.Name, strings.Join(scope, ", "))
}
