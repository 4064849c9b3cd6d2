package urlscope

import (
	"net/url"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

func TestInScopeWithQuery(t *testing.T) {
	scope := []string{"https://wp.example/blog/?rest_route=", "https://wp.example/blog/index.php?rest_route="}
	tests := map[string]bool{
		"https://wp.example/blog/?rest_route=/wp/v2/users/me":         true,
		"https://wp.example/blog/?rest_route=":                        true,
		"https://wp.example/blog/index.php?rest_route=/wp/v2/posts":   true,
		"https://wp.example/blog/?rest_route=/x&context=edit":         true,
		"https://wp.example/blog/":                                    false,
		"https://wp.example/blog/?p=1":                                false,
		"https://wp.example/blog/?p=1&rest_route=/wp/v2/":             false,
		"https://wp.example/blog/wp-admin/?rest_route=/wp/v2/":        false,
		"https://wp.example/blog/x/../?rest_route=/wp/v2/":            true,
		"https://wp.example/blog/x/?rest_route=/wp/v2/":               false,
		"https://wp.example/?rest_route=/wp/v2/":                      false,
		"https://wp.example/blog/index.php/../?rest_route=/":          true,
		"https://wp.example/blog/index.php/x?rest_route=/wp/v2/users": false,
		"https://wp.example/blog?rest_route=/wp/v2/":                  false,
		"https://other.example/blog/?rest_route=/wp/v2/users/me":      false,
		"http://wp.example/blog/?rest_route=/wp/v2/users/me":          false,
		"https://wp.example:8443/blog/?rest_route=/wp/v2/users/me":    false,
		"https://wp.example/blog/index.phpx?rest_route=/wp/v2/users":  false,
		"https://wp.example/blog/?rest_routes=/wp/v2/users/me":        false,
	}
	for raw, want := range tests {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := InScope(u, scope); got != want {
			t.Errorf("InScope(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestInScope(t *testing.T) {
	scope := []string{"https://api.example.com/v1", "http://ci.example.com:8080/"}
	tests := map[string]bool{
		"https://api.example.com/v1":          true,
		"https://api.example.com/v1/x?y=1":    true,
		"https://API.example.com:443/v1/x":    true,
		"https://api.example.com/v10":         false,
		"https://api.example.com/":            false,
		"http://api.example.com/v1/x":         false,
		"https://api.example.com:8443/v1/x":   false,
		"https://api.example.com.evil/v1/x":   false,
		"http://ci.example.com:8080/job/x":    true,
		"http://ci.example.com/job/x":         false,
		"http://ci.example.com:8080":          true,
		"https://user@api.example.com/v1/abc": true,
	}
	for raw, want := range tests {
		u, _ := url.Parse(raw)
		if got := InScope(u, scope); got != want {
			t.Errorf("InScope(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"http://h/api/../echo", "http://h/echo", ""},
		{"http://h/api/%2e%2E/echo?q=/../x#f", "http://h/echo?q=/../x#f", ""},
		{"HTTP://User@H.Example:8080/a/./b/../c", "http://User@h.example:8080/a/c", ""},
		{"http://h", "http://h/", ""},
		{"http://h/%7euser/%2f/%41%zz", "", "invalid URL escape"},
		{"http://h/%7euser/%2f/a%5c", "http://h/~user/%2F/a%5C", ""},
		{"http://h/a b/é", "http://h/a%20b/%C3%A9", ""},
		{"http://h/api/..;/echo", "", "servers may read differently"},
		{"http://h/a%2F..%2Fb", "", "servers may read differently"},
		{"ftp://h/x", "", "expected an http:// or https:// URL"},
		{"/relative", "", "expected an http:// or https:// URL"},
		{"http:///x", "", "the URL has no host"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err == nil {
			u, err = Normalize(u)
		}
		got, msg := "", ""
		if err == nil {
			got = u.String()
		} else {
			msg = err.Error()
		}
		if got != tt.want || tt.err == "" != (err == nil) || !strings.Contains(msg, tt.err) {
			t.Errorf("Normalize(%s) = %q, %v; want %q, error %q", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil && !strings.Contains(got, "%") && u.Path != u.EscapedPath() && u.RawPath == "" {
			t.Errorf("Normalize(%s): path %q escaped %q", tt.in, u.Path, u.EscapedPath())
		}
	}
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
		n, err := Normalize(u)
		if err != nil {
			if msg := err.Error(); core.KindOf(err) != core.KindConfig || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q", msg)
			}
			if InScope(u, []string{prefix}) {
				t.Fatalf("%q does not normalize (%v) but is in the scope of %q", target, err, prefix)
			}
			return
		}
		again, err := Normalize(n)
		if err != nil || again.String() != n.String() {
			t.Fatalf("Normalize(%q) = %q, then %v, %v", target, n, again, err)
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
		np, err := Normalize(pu)
		if err != nil {
			t.Fatalf("in the scope of a prefix %q that does not normalize: %v", prefix, err)
		}
		pp, tp := strings.TrimSuffix(np.EscapedPath(), "/"), n.EscapedPath()
		if origin(np) != origin(n) || tp != pp && !strings.HasPrefix(tp, pp+"/") {
			t.Fatalf("%q (%q) is in the scope of %q (%q)", target, n, prefix, np)
		}
	})
}
