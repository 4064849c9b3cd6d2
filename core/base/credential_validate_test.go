package base

import (
	"net/http"
	"strings"
	"testing"
)

func TestCredentialValidate(t *testing.T) {
	ok := func() *Credential {
		return &Credential{Token: "abc.def=", Headers: []Header{{Name: "Authorization", Value: "Bearer abc.def="}, {Name: "Jenkins-Crumb", Value: "c1\tx é"}},
			Cookies: []Cookie{{Name: "JSESSIONID.1a2b", Value: "node0abc.node0", Path: "/"}}, Scope: []string{"https://h/api/"}, State: []byte("r1\n\x00")}
	}
	tests := []struct {
		name   string
		change func(c *Credential)
		want   string // "" when valid; else a part of the message
	}{
		{"valid", func(*Credential) {}, ""},
		{"nil fields", func(c *Credential) { *c = Credential{} }, ""},
		{"CR LF in a header value", func(c *Credential) { c.Headers[0].Value = "Bearer abc\r\nX-Evil: 1" }, "header 1 (Authorization) value holds a control character"},
		{"NUL in a header value", func(c *Credential) { c.Headers[1].Value = "c\x00" }, "header 2 (Jenkins-Crumb) value holds"},
		{"DEL in a header value", func(c *Credential) { c.Headers[1].Value = "c\x7f" }, "header 2 (Jenkins-Crumb) value holds"},
		{"newline in a header name", func(c *Credential) { c.Headers[1].Name = "X-A: x\noutput_document = ~/pwned\nheader = X-B" }, "header 2 name is not an HTTP token"},
		{"colon in a header name", func(c *Credential) { c.Headers[0].Name = "X-A:" }, "header 1 name is not an HTTP token"},
		{"empty header name", func(c *Credential) { c.Headers[0].Name = "" }, "header 1 name"},
		{"long header name", func(c *Credential) { c.Headers[0].Name = strings.Repeat("X", MaxNameSize+1) }, "header 1 name"},
		{"space in the token", func(c *Credential) { c.Token = "abc def" }, "the token holds"},
		{"NUL in the token", func(c *Credential) { c.Token = "ab\x00c" }, "the token holds"},
		{"CR LF in the token", func(c *Credential) { c.Token = "abc\r\nX-Evil: 1" }, "the token holds"},
		{"large token", func(c *Credential) { c.Token = strings.Repeat("t", MaxValueSize+1) }, "the token is larger than 64 KiB"},
		{"an id token", func(c *Credential) { c.IDToken = "eyJh.eyJz.c2ln" }, ""},
		{"space in the id token", func(c *Credential) { c.IDToken = "eyJh eyJz" }, "the id token holds"},
		{"CR LF in the id token", func(c *Credential) { c.IDToken = "eyJh\r\nX-Evil: 1" }, "the id token holds"},
		{"NUL in the id token", func(c *Credential) { c.IDToken = "e\x00" }, "the id token holds"},
		{"large id token", func(c *Credential) { c.IDToken = strings.Repeat("t", MaxValueSize+1) }, "the id token is larger than 64 KiB"},
		{"id token in the total", func(c *Credential) {
			c.State = make([]byte, MaxCredentialSize-MaxValueSize)
			c.IDToken = strings.Repeat("t", MaxValueSize)
		}, "the credential is larger than 1 MiB"},
		{"cookie named a;b", func(c *Credential) { c.Cookies[0].Name = "a;b" }, "cookie 1 name is not an HTTP token"},
		{"semicolon in a cookie value", func(c *Credential) { c.Cookies[0].Value = "a; admin=1" }, "cookie 1 (JSESSIONID.1a2b) value is not RFC 6265"},
		{"quote in a cookie value", func(c *Credential) { c.Cookies[0].Value = `a"b` }, "cookie 1 (JSESSIONID.1a2b) value is not RFC 6265"},
		{"CR LF in a cookie path", func(c *Credential) { c.Cookies[0].Path = "/\r\nX-Evil: 1" }, "cookie 1 (JSESSIONID.1a2b) has a domain or path"},
		{"relative scope", func(c *Credential) { c.Scope = []string{"/api/"} }, "scope entry 1 is not an absolute http(s) URL"},
		{"scope without a host", func(c *Credential) { c.Scope = []string{"https:///api/"} }, "scope entry 1 is not an absolute http(s) URL"},
		{"scope of another scheme", func(c *Credential) { c.Scope = []string{"file://h/etc/"} }, "scope entry 1 is not an absolute http(s) URL"},
		{"scope in capitals", func(c *Credential) { c.Scope = []string{"HTTP://H:8080"} }, ""},
		{"scope with a newline", func(c *Credential) { c.Scope = append(c.Scope, "https://h/\nx") }, "scope entry 2 holds"},
		{"large state", func(c *Credential) { c.State = make([]byte, MaxCredentialSize) }, "the credential is larger than 1 MiB"},
		{"many headers", func(c *Credential) {
			for range 20 {
				c.Headers = append(c.Headers, Header{Name: "X", Value: strings.Repeat("v", MaxValueSize)})
			}
		}, "the credential is larger than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok()
			tt.change(c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if KindOf(err) != KindPlugin || strings.ContainsAny(err.Error(), "\r\n\x00") || strings.Contains(err.Error(), "Evil") || strings.Contains(err.Error(), "pwned") {
				t.Errorf("error %q (%v): want one line of KindPlugin quoting no value", err, KindOf(err))
			}
		})
	}
	if err := (*Credential)(nil).Validate(); err != nil {
		t.Errorf("nil: %v", err)
	}
}

// The cached path of authx token validates every entry it serves: that
// must cost no allocation.
func TestValidateAllocatesNothing(t *testing.T) {
	c := &Credential{Token: "abc", IDToken: "eyJh.eyJz.c2ln", Headers: []Header{{Name: "Authorization", Value: "Bearer abc"}}, Cookies: []Cookie{{Name: "s", Value: "v"}},
		Scope: []string{"https://h/api/"}, State: []byte("x")}
	if n := testing.AllocsPerRun(100, func() { c.Validate() }); n != 0 {
		t.Errorf("%v allocations per Validate", n)
	}
}

// FuzzCredentialValidate: a credential Validate accepts holds no CR, LF or
// NUL anywhere it is printed, its header lines are valid for net/http, and
// its Cookie header parses back to the same cookie.
func FuzzCredentialValidate(f *testing.F) {
	f.Add("abc", "Authorization", "Bearer abc", "JSESSIONID", "node0", "https://h/api/")
	f.Add("abc\r\nX-Evil: 1", "Authorization", "Bearer abc\r\nX-Evil: 1", "a;b", "v", "https://h/")
	f.Add("c1", "X-A: x\noutput_document = ~/pwned\nheader = X-B", "c1", "s", "v\r\n", "/relative")
	f.Add("ab\x00c", "Jenkins-Crumb", "c1\r\nX-Evil: 1", "s", `"quoted"`, "http://h/\x00")
	f.Add("", "X", "\t tab é\x80", "n", "a b,c", "HTTPS://H:8080/p?q#f")
	f.Fuzz(func(t *testing.T, token, hname, hvalue, cname, cvalue, scope string) {
		c := &Credential{Token: token, Headers: []Header{{Name: hname, Value: hvalue}}, Cookies: []Cookie{{Name: cname, Value: cvalue}}, Scope: []string{scope}}
		err := c.Validate()
		if err != nil {
			if KindOf(err) != KindPlugin || strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Fatalf("error %q (%v)", err, KindOf(err))
			}
			return
		}
		for _, h := range c.HeaderLines() {
			if strings.ContainsAny(h.Name+h.Value+c.Token, "\r\n\x00") {
				t.Fatalf("accepted a line break or NUL: %q", h)
			}
			if !ValidHeaderName(h.Name) || !ValidHeaderValue(h.Value) {
				t.Fatalf("header line %q invalid", h)
			}
		}
		if strings.ContainsAny(c.Token, " \t") {
			t.Fatalf("accepted whitespace in the token %q", c.Token)
		}
		got, err := http.ParseCookie(c.CookieHeader())
		if err != nil || len(got) != 1 || got[0].Name != cname || got[0].Value != cvalue {
			t.Fatalf("cookie %q=%q came back from %q as %v (%v)", cname, cvalue, c.CookieHeader(), got, err)
		}
	})
}

// FuzzIDToken: an id token Validate accepts holds no whitespace or control
// character and is at most MaxValueSize bytes, and the id token is held to
// exactly the rules of the token.
func FuzzIDToken(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln")
	f.Add("eyJh\r\nX-Evil: 1")
	f.Add("a b")
	f.Add("a\tb\x00\x7f")
	f.Add("")
	f.Fuzz(func(t *testing.T, idToken string) {
		err := (&Credential{IDToken: idToken}).Validate()
		if (err == nil) != ((&Credential{Token: idToken}).Validate() == nil) {
			t.Fatalf("id token %q and token are judged differently: %v", idToken, err)
		}
		if err != nil {
			if KindOf(err) != KindPlugin || strings.ContainsAny(err.Error(), "\r\n\x00") || len(idToken) >= 8 && strings.Contains(err.Error(), idToken) {
				t.Fatalf("error %q (%v) for %q", err, KindOf(err), idToken)
			}
			return
		}
		if len(idToken) > MaxValueSize || strings.ContainsFunc(idToken, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Fatalf("accepted %q", idToken)
		}
	})
}

// FuzzCookie: ValidCookie accepts exactly what survives a Cookie header
// round trip unchanged and holds no separator of a header, a curl config or
// a wgetrc.
func FuzzCookie(f *testing.F) {
	for _, s := range [][2]string{{"JSESSIONID.1a2b3c4d", "node01x2y3.node0"}, {"a;b", "v"}, {"s", "v\r\nX-Evil: 1"}, {"s", "a b"}, {"s", `"q"`}, {"", "v"}, {"s", ""}, {"s\x00", "v"}, {"s", "é"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if !ValidCookie(name, value) {
			return
		}
		if strings.ContainsAny(name+value, "\r\n\x00;, \"\\") {
			t.Fatalf("accepted %q=%q", name, value)
		}
		c := &Credential{Cookies: []Cookie{{Name: name, Value: value}}}
		if err := c.Validate(); err != nil {
			t.Fatalf("ValidCookie accepts what Validate refuses: %v", err)
		}
		h := c.CookieHeader()
		if h != name+"="+value {
			t.Fatalf("Cookie header %q, want %q", h, name+"="+value)
		}
		got, err := http.ParseCookie(h)
		if err != nil || len(got) != 1 || got[0].Name != name || got[0].Value != value {
			t.Fatalf("%q parsed back as %v (%v)", h, got, err)
		}
	})
}
