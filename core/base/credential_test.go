package base

import (
	"net/http"
	"testing"
)

// CookieHeader writes each cookie as net/http's Cookie.String does, which
// it did before it stopped linking net/http.
func TestCookiePairIsNetHTTPs(t *testing.T) {
	for _, k := range [][2]string{{"a", "b"}, {"JSESSIONID.1a2b", "node0abc.node0"}, {"a", "b c"}, {"a", "b,c"}, {"a", `b"c;d\e`},
		{"a", "é\x00\x7f"}, {"", "x"}, {"a b", "x"}, {"a;", "x"}, {"a", ""}, {"a", " "}} {
		if got, want := cookiePair(k[0], k[1]), (&http.Cookie{Name: k[0], Value: k[1]}).String(); got != want {
			t.Errorf("cookiePair(%q, %q) = %q, net/http writes %q", k[0], k[1], got, want)
		}
	}
}

// FuzzCookiePair: any name and value (a server's Set-Cookie, through a
// plugin) give what net/http gives.
func FuzzCookiePair(f *testing.F) {
	f.Add("a", "b c")
	f.Add("JSESSIONID", `"quoted"`)
	f.Add("n\x00", "v\r\n")
	f.Fuzz(func(t *testing.T, name, value string) {
		if got, want := cookiePair(name, value), (&http.Cookie{Name: name, Value: value}).String(); got != want {
			t.Errorf("cookiePair(%q, %q) = %q, net/http writes %q", name, value, got, want)
		}
	})
}
