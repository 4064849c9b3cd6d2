package config

import (
	"github.com/authx/authx/core/urlscope"
	"net/url"
	"strings"
	"testing"
)

// TestMatchNormalizesPaths pins what a match prefix covers once the target
// is normalized: dot segments removed (RFC 3986 §5.2.4, also
// percent-encoded), percent-encodings of unreserved characters decoded, host
// and scheme in any case, default ports explicit; and what it refuses as
// ambiguous (a dot segment that a server decoding %2F, reading \ as / or
// dropping ;parameters would see).
func TestMatchNormalizesPaths(t *testing.T) {
	tests := []struct {
		prefix, target string
		want           bool
	}{
		{"http://h/api/", "http://h/api/x", true},
		{"http://h/api/", "http://h/api", true},
		{"http://h/api/", "http://h/api/../echo", false},
		{"http://h/api/", "http://h/api/%2e%2e/echo", false},
		{"http://h/api/", "http://h/api/%2E%2E/echo", false},
		{"http://h/api/", "http://h/api/.%2e/echo", false},
		{"http://h/api/", "http://h/api/%2e./echo", false},
		{"http://h/api/", "http://h/api/x/../../echo", false},
		{"http://h/api/", "http://h/api/x/..", true},
		{"http://h/api/", "http://h/api/./x", true},
		{"http://h/api/", "http://h/api/%2e/x", true},
		{"http://h/api/", "http://h/x/../api/y", true},
		{"http://h/api/", "http://h/api/..", false},
		{"http://h/api/", "http://h/api/..\\echo", false},           // a backslash read as a slash
		{"http://h/api/", "http://h/api/..%5Cecho", false},          // the same, encoded
		{"http://h/api/", "http://h/api/x%2F..%2F..%2Fecho", false}, // a server decoding %2F
		{"http://h/api/", "http://h/api/..;/echo", false},           // Tomcat's path parameters
		{"http://h/api/", "http://h/api//../echo", false},           // a server merging slashes
		{"http://h/api/", "http://h/api%2Fx", false},                // %2F is no segment boundary
		{"http://h/api%2Fx/", "http://h/api%2fx/y", true},           // but equal once normalized
		{"http://h/api/", "http://h/%61pi/x", true},                 // %61 is a
		{"http://h/api/", "http://h/API/x", false},                  // paths are case-sensitive
		{"http://h/api", "http://h/apix", false},
		{"http://h/api", "http://h/api/x", true},
		{"http://h/api", "http://h/api", true},
		{"http://h/api", "http://h/api/../apix", false},
		{"http://h/api/", "HTTP://H:80/api/x", true},
		{"https://h/api/", "https://h:443/api/x", true},
		{"http://h/api/", "http://h:8080/api/x", false},
		{"http://h/api/", "http://user:pw@h/api/x", true},
		{"http://h/api/", "http://h/api/x?next=/../echo", true}, // the query is not the path
		{"http://h/", "http://h/../../etc", true},
		{"http://h/a/./b/", "http://h/a/b/c", true}, // prefixes are normalized too
	}
	for _, tt := range tests {
		f := &File{Profiles: map[string]*Profile{"p": {Name: "p", Match: []string{tt.prefix}}}}
		_, _, err := f.Select("p", tt.target, "")
		if got := err == nil; got != tt.want {
			t.Errorf("prefix %s, URL %s: covered %v (%v), want %v", tt.prefix, tt.target, got, err, tt.want)
		}
		_, err = f.ProfileForURL(tt.target)
		if got := err == nil; got != tt.want {
			t.Errorf("ProfileForURL(%s) with prefix %s: %v (%v), want %v", tt.target, tt.prefix, got, err, tt.want)
		}
		u, _ := url.Parse(tt.target)
		if got := urlscope.InScope(u, []string{tt.prefix}); got != tt.want {
			t.Errorf("InScope(%s, %s) = %v, want %v", tt.target, tt.prefix, got, tt.want)
		}
	}
}

// Two profiles whose match prefixes are equally long prefixes of a URL
// (equivalent once normalized, or the same) make it ambiguous: no profile
// is picked by its name's order. One profile's equivalent prefixes are no
// tie, and a longer prefix still wins.
func TestProfileForURLTies(t *testing.T) {
	f := &File{Profiles: map[string]*Profile{
		"aaa":  {Name: "aaa", Match: []string{"https://GIT.example.com:443/"}},
		"git":  {Name: "git", Match: []string{"https://git.example.com/", "https://git.example.com:443/"}},
		"team": {Name: "team", Match: []string{"https://git.example.com/team/"}},
		"solo": {Name: "solo", Match: []string{"https://solo.example.com/", "https://SOLO.example.com/"}},
	}}
	if p, err := f.ProfileForURL("https://git.example.com/x/r.git"); err == nil || !strings.Contains(err.Error(), `"aaa"`) || !strings.Contains(err.Error(), `"git"`) {
		t.Errorf("a tie: %v, %v; want an error naming both", p, err)
	}
	if _, _, err := f.Select("", "https://git.example.com/x", ""); err == nil {
		t.Error("Select with a tied URL: no error")
	}
	if p, err := f.ProfileForURL("https://git.example.com/team/r.git"); err != nil || p.Name != "team" {
		t.Errorf("a longer prefix: %v, %v", p, err)
	}
	if p, err := f.ProfileForURL("https://solo.example.com/x"); err != nil || p.Name != "solo" {
		t.Errorf("one profile's equivalent prefixes: %v, %v", p, err)
	}
}
