package jwttest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// With plain permalinks the REST API answers only at ?rest_route=; the
// /wp-json/ URLs are page requests: an empty 200 page, no token.
func TestWordPressPlainPermalinks(t *testing.T) {
	login := `{"username":"alice","password":"wonderland"}`
	for _, plain := range []bool{false, true} {
		s, _ := start(t, jwttest.Options{PlainPermalinks: plain})
		for _, site := range []string{"", "/alt"} {
			pretty := postJSON(t, s.URL+site+"/wp-json/jwt-auth/v1/token", login)
			if plain {
				if pretty.Status != http.StatusOK || pretty.Body != "" || !strings.HasPrefix(pretty.Header.Get("Content-Type"), "text/html") {
					t.Errorf("plain %s: /wp-json/ answered %d %q %v", site, pretty.Status, pretty.Body, pretty.Header)
				}
			} else if pretty.Status != http.StatusOK || !strings.Contains(pretty.Body, `"token"`) {
				t.Errorf("pretty %s: /wp-json/ answered %d %q", site, pretty.Status, pretty.Body)
			}
			for _, path := range []string{"/?rest_route=/jwt-auth/v1/token", "/index.php?rest_route=/jwt-auth/v1/token"} {
				a := postJSON(t, s.URL+site+path, login)
				if a.Status != http.StatusOK || !strings.Contains(a.Body, `"token"`) {
					t.Errorf("plain=%v %s%s: %d %q", plain, site, path, a.Status, a.Body)
				}
				link := "<" + s.URL + site + `/wp-json/>; rel="https://api.w.org/"`
				if plain {
					link = "<" + s.URL + site + `/index.php?rest_route=/>; rel="https://api.w.org/"`
				}
				if got := a.Header.Get("Link"); got != link {
					t.Errorf("plain=%v %s%s: Link %q, want %q", plain, site, path, got, link)
				}
			}
		}
	}
}
