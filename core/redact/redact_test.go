package redact

import (
	"errors"
	"net/url"
	"testing"
)

func TestRawURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://ci.example.com/job/x/build?token=s3cret#frag", "https://ci.example.com/job/x/build"},
		{"https://alice:pw@api.example.com:8443/login", "https://api.example.com:8443/login"},
		{"https://api.example.com/login?", "https://api.example.com/login"},
		{"/relative/path?sig=abc", "/relative/path"},
		{"http://[::1]:namedport/x?k=v", "(invalid URL)"},
	}
	for _, tt := range tests {
		if got := RawURL(tt.in); got != tt.want {
			t.Errorf("RawURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURLLeavesItsArgumentAlone(t *testing.T) {
	u, _ := url.Parse("https://u:p@h/x?q=1")
	if URL(u) != "https://h/x" || u.RawQuery != "q=1" || u.User == nil {
		t.Errorf("URL changed its argument: %v", u)
	}
}

func TestSecrets(t *testing.T) {
	tests := []struct {
		text    string
		secrets []string
		want    string
	}{
		{"password hunter2 is wrong for alice", []string{"hunter2"}, "password *** is wrong for alice"},
		{"key k-123 and k-123 again", []string{"k-123"}, "key *** and *** again"},
		{"short pw stays", []string{"pw", ""}, "short pw stays"},
		{"two: aaaa bbbb", []string{"aaaa", "bbbb"}, "two: *** ***"},
	}
	for _, tt := range tests {
		if got := Secrets(tt.text, tt.secrets...); got != tt.want {
			t.Errorf("Secrets(%q, %q) = %q, want %q", tt.text, tt.secrets, got, tt.want)
		}
	}
}

func TestParseError(t *testing.T) {
	_, err := url.Parse("http://alice:s3cret@127.0.0.1:80x/")
	if got := ParseError(err); got != `invalid port ":80x" after host` {
		t.Errorf("ParseError = %q", got)
	}
	if got := ParseError(errors.New("plain")); got != "plain" {
		t.Errorf("ParseError of a plain error = %q", got)
	}
}
