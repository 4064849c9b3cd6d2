package basic

import (
	"slices"
	"strings"
	"testing"
)

// FuzzNetrc looks a host up in a netrc file. Properties: no panic; what is
// found are words of the file (no whitespace), with the login asked for;
// and a file of one entry, written from words that are not netrc keywords,
// gives that entry back.
func FuzzNetrc(f *testing.F) {
	f.Add("machine h login a password p\ndefault login d password dp\n", "h", "", "m", "l", "p")
	f.Add("machine h login a password p macdef init\nmachine evil login e password ep\n\n", "evil", "", "m", "l", "p")
	f.Add("machine", "", "", "host", "alice", "s3cret")
	f.Add("macdefx\nmachine h\r\n login a\r\n password p", "H", "a", "h", "l", "p")
	f.Add("machine h login a password \x00\r\nX-Evil: 1", "h", "a", "h", "a", "p\x00")
	f.Fuzz(func(t *testing.T, data, host, user, m, l, p string) {
		login, password, ok := lookupNetrc([]byte(data), host, user)
		words := strings.Fields(data)
		switch {
		case !ok && (login != "" || password != ""):
			t.Fatalf("not found, yet %q, %q", login, password)
		case ok && user != "" && login != user:
			t.Fatalf("asked for login %q, got %q", user, login)
		case login != "" && !slices.Contains(words, login), password != "" && !slices.Contains(words, password):
			t.Fatalf("%q, %q are not words of the file", login, password)
		}
		keywords := []string{"machine", "default", "login", "password", "account", "macdef"}
		for _, w := range []string{m, l, p} {
			if len(strings.Fields(w)) != 1 || strings.Fields(w)[0] != w || slices.Contains(keywords, w) {
				return
			}
		}
		entry := "machine " + m + "\n  login " + l + "\n  password " + p + "\n"
		if login, password, ok := lookupNetrc([]byte(entry), asciiUpper(m), ""); !ok || login != l || password != p {
			t.Fatalf("%q: %q, %q, %v", entry, login, password, ok)
		}
	})
}

// asciiUpper upper-cases ASCII letters only, as host names compare.
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
