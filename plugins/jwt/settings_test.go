package jwt

import (
	"context"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

// Endpoints that receive a password, a client secret or a refresh token
// must use https, except to a loopback host, as JWKS URLs must.
func TestSchemePlainHTTPEndpoints(t *testing.T) {
	login := func(extra core.Config) core.Config {
		c := core.Config{"username": "a", "password": "p"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	oauth2 := func(tokenURL string) core.Config {
		return core.Config{"mode": "oauth2", "token_url": tokenURL, "client_id": "c", "client_secret": "s"}
	}
	tests := []struct {
		name  string
		cfg   core.Config
		base  string // the profile's url, "" as in Configure
		field string // "" means accepted
	}{
		{"login_url over http", login(core.Config{"login_url": "http://api.example.com/login"}), "", "login_url"},
		{"login_url over https", login(core.Config{"login_url": "https://api.example.com/login"}), "", ""},
		{"login_url to 127.0.0.1", login(core.Config{"login_url": "http://127.0.0.1:8080/login"}), "", ""},
		{"login_url to 127.1.2.3", login(core.Config{"login_url": "http://127.1.2.3/login"}), "", ""},
		{"login_url to ::1", login(core.Config{"login_url": "http://[::1]:8080/login"}), "", ""},
		{"login_url to localhost", login(core.Config{"login_url": "http://localhost:8080/login"}), "", ""},
		{"login_url to LOCALHOST", login(core.Config{"login_url": "http://LOCALHOST/login"}), "", ""},
		{"login_url to a name that starts with localhost", login(core.Config{"login_url": "http://localhost.example.com/login"}), "", "login_url"},
		{"login_url to a private address", login(core.Config{"login_url": "http://10.0.0.1/login"}), "", "login_url"},
		{"refresh_url over http", login(core.Config{"login_url": "https://a/login", "refresh_url": "http://a/refresh"}), "", "refresh_url"},
		{"token_url over http", oauth2("http://auth.example.com/oauth/token"), "", "token_url"},
		{"token_url over https", oauth2("https://auth.example.com/oauth/token"), "", ""},
		{"token_url to loopback", oauth2("http://127.0.0.1:5556/dex/token"), "", ""},
		{"relative login_url, http site", login(core.Config{"login_url": "/login"}), "http://api.example.com", "login_url"},
		{"relative login_url, https site", login(core.Config{"login_url": "/login"}), "https://api.example.com", ""},
		{"preset on an http site", login(core.Config{"preset": "wordpress"}), "http://blog.example.com", "preset"},
		{"preset on a loopback site", login(core.Config{"preset": "simplejwt"}), "http://127.0.0.1:8000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ds []core.Diagnostic
			if tt.base == "" {
				ds = New().Configure(context.Background(), tt.cfg)
			} else {
				_, ds = read(tt.cfg, tt.base)
			}
			var errs []core.Diagnostic
			for _, d := range ds {
				if d.Severity != core.SeverityWarning {
					errs = append(errs, d)
				}
			}
			if tt.field == "" {
				if len(errs) > 0 {
					t.Fatalf("refused: %+v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tt.field || !strings.Contains(errs[0].Message, "https") || strings.Contains(errs[0].Message, "\n") {
				t.Fatalf("want one error on %s asking for https; got %+v", tt.field, errs)
			}
		})
	}
	// The same check refuses the call itself, as a one-line config error.
	_, err := New().Login(context.Background(), core.LoginRequest{Config: login(core.Config{"login_url": "/login"}), URL: "http://api.example.com"})
	if core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "login_url") {
		t.Errorf("login over http: %v, want a config error naming login_url", err)
	}
}
