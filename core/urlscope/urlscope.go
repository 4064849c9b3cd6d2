// Package urlscope is the one rule for where a credential may be sent: a URL
// lies under a URL prefix (a profile's match prefix, a credential's scope)
// when both, normalized, have the same origin and the prefix's path is a
// prefix of the URL's at a segment boundary. Normalization removes dot
// segments (RFC 3986 §5.2.4, percent-encoded ones too), so that
// "/api/../echo" is not under "/api/", and a URL whose meaning a server
// could read differently ("/api/..;/echo", "/api/..%5Cecho") is under no
// prefix at all. The config's matching, authhttp's Transport, the wrappers
// and the plugins all ask this package.
package urlscope

import (
	"net/url"
	"strings"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
	"github.com/authx/authx/core/redact"
)

// Normalize returns the absolute http(s) URL u in the form authx matches
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
func Normalize(u *url.URL) (*url.URL, error) {
	n, msg := normalize(u)
	if msg != "" {
		return nil, core.Errorf(core.KindConfig, "%s: %s", redact.URL(u), msg)
	}
	return n, nil
}

// Problem returns "" when u is an absolute http(s) URL that Normalize
// accepts, else what is wrong with it, as a phrase without the URL.
func Problem(u *url.URL) string {
	_, msg := normalize(u)
	return msg
}

// normalize is Normalize with the problem as a phrase.
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

// cleanPath returns the escaped path p in normal form (see Normalize),
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
	return scheme + "://" + joinHostPort(strings.ToLower(u.Hostname()), port)
}

// joinHostPort is net.JoinHostPort (an IPv6 host in brackets), without
// linking net.
func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// MatchLen returns how much of target the prefix covers, or -1 when it does
// not match. Both are normalized first (see Normalize); an ambiguous URL
// matches nothing. A prefix matches at path-segment boundaries only, and
// whatever the target's query. A prefix with a query
// ("https://h/?rest_route=", a WordPress site without pretty permalinks)
// covers only its own path with a query that starts with the prefix's.
func MatchLen(prefix, target *url.URL) int {
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
	case prefix.RawQuery != "" || prefix.ForceQuery:
		if tp == pp && strings.HasPrefix(target.RawQuery, prefix.RawQuery) && (target.RawQuery != "" || target.ForceQuery) {
			return 1 + len(pp) + 1 + len(prefix.RawQuery)
		}
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
// are normalized (see Normalize): same scheme, host and port (default
// ports made explicit), and a path prefix that ends at a segment boundary.
// An ambiguous URL is under none. It is the one rule authx applies to match
// prefixes and credential scopes.
func InScope(u *url.URL, prefixes []string) bool {
	for _, p := range prefixes {
		if pu, err := url.Parse(p); err == nil && MatchLen(pu, u) >= 0 {
			return true
		}
	}
	return false
}
