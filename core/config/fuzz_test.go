package config

import (
	"net/url"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

// FuzzLoadConfig parses YAML or TOML bytes into profiles as Load does.
// Properties: no panic; an error is one line of kind config naming the
// file; a loaded profile has a valid name, a scheme and match/url prefixes
// that normalize.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("profiles:\n  work:\n    scheme: basic\n    match: https://api.example.com/v1\n    config: {username: alice, password: env:PW}\n"), false)
	f.Add([]byte("profiles:\n  p:\n    scheme: basic\n    match: [\"http://h/api/\", \"http://h/api/..;/x\"]\n    config:\n      password: \"cmd:yes\"\n"), false)
	f.Add([]byte("profiles:\n  - a\n  - b\n"), false)
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"), false)
	f.Add([]byte("profiles: {p: {scheme: basic, env: {1X: token}, plugin: {sha256: zz}}}\n"), false)
	f.Add([]byte("[profiles.p]\nscheme = \"basic\"\nmatch = \"http://h/api/%2e%2e/echo\"\n[profiles.p.config]\npassword = \"file:/dev/zero\"\n"), true)
	f.Add([]byte("call_timeout = 12x3\n"), true)
	f.Add([]byte("log_level = [1, 2]\n[plugins.basic]\npath = 3\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, isTOML bool) {
		name := "/fuzz/config.yaml"
		if isTOML {
			name = "/fuzz/config.toml"
		}
		file, err := parseFile(name, data)
		if err != nil {
			msg := err.Error()
			if core.KindOf(err) != core.KindConfig || strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "config "+name+": ") {
				t.Fatalf("error %q (kind %v): want one line of kind config naming the file", msg, core.KindOf(err))
			}
			return
		}
		for n, p := range file.Profiles {
			if !profileName.MatchString(n) || p.Name != n || p.Scheme == "" || p.Config == nil {
				t.Fatalf("profile %q = %+v", n, p)
			}
			for _, m := range append(p.Match, p.URL) {
				if m == "" {
					continue
				}
				u, err := url.Parse(m)
				if err != nil {
					t.Fatalf("profile %q: prefix %q does not parse: %v", n, m, err)
				}
				if _, err := NormalizeURL(u); err != nil {
					t.Fatalf("profile %q: prefix %q does not normalize: %v", n, m, err)
				}
			}
		}
	})
}

// FuzzMatch matches a URL against a prefix. Properties: no panic; a
// normalized URL normalizes to itself, survives being sent (parsed again)
// and holds no dot segment, not even one a server could see in an encoded
// or ;-parameter form; and when the URL is in the prefix's scope, it has
// the prefix's origin and the prefix's path as a prefix of its path, at a
// segment boundary.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"http://h/api/", "http://h/api/../echo"},
		{"http://h/api/", "http://h/api/%2e%2e/echo"},
		{"http://h/api/", "http://h/api/.%2E/echo"},
		{"http://h/api/", "http://h/api/..;/echo"},
		{"http://h/api/", "http://h/api/..%5Cecho"},
		{"http://h/api/", "http://h/api/..\\echo"},
		{"http://h/api/", "http://h/api/x%2F..%2F..%2Fecho"},
		{"http://h/api/", "http://h/api//../echo"},
		{"http://h/api", "http://h/apix"},
		{"http://h/api%2Fx/", "http://h/api%2fx/y"},
		{"https://H:443/a/./b/", "HTTPS://h/a/b/c?x=/../#/.."},
		{"http://[::1]:80/", "http://[::1]/x"},
		{"http://u:p@h/", "http://h/%zz"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, target string) {
		u, err := url.Parse(target)
		if err != nil {
			return
		}
		n, err := NormalizeURL(u)
		if err != nil {
			if msg := err.Error(); core.KindOf(err) != core.KindConfig || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q", msg)
			}
			if InScope(u, []string{prefix}) {
				t.Fatalf("%q does not normalize (%v) but is in the scope of %q", target, err, prefix)
			}
			return
		}
		again, err := NormalizeURL(n)
		if err != nil || again.String() != n.String() {
			t.Fatalf("NormalizeURL(%q) = %q, then %v, %v", target, n, again, err)
		}
		sent, err := url.Parse(n.String())
		if err != nil || sent.EscapedPath() != n.EscapedPath() {
			t.Fatalf("%q normalized to %q, which parses to %v, %v", target, n, sent, err)
		}
		for _, seg := range strings.Split(n.EscapedPath(), "/") {
			if seg == "." || seg == ".." || hiddenDotSegment(seg) {
				t.Fatalf("%q normalized to %q, which has a dot segment %q", target, n, seg)
			}
		}
		if InScope(u, []string{prefix}) != InScope(sent, []string{prefix}) {
			t.Fatalf("%q and its normalized form %q differ in scope of %q", target, n, prefix)
		}
		if !InScope(u, []string{prefix}) {
			return
		}
		pu, err := url.Parse(prefix)
		if err != nil {
			t.Fatalf("in the scope of a prefix %q that does not parse", prefix)
		}
		np, err := NormalizeURL(pu)
		if err != nil {
			t.Fatalf("in the scope of a prefix %q that does not normalize: %v", prefix, err)
		}
		pp, tp := strings.TrimSuffix(np.EscapedPath(), "/"), n.EscapedPath()
		if origin(np) != origin(n) || tp != pp && !strings.HasPrefix(tp, pp+"/") {
			t.Fatalf("%q (%q) is in the scope of %q (%q)", target, n, prefix, np)
		}
	})
}
