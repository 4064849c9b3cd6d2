package dockercred

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestURLs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"registry.example.com", []string{"https://registry.example.com/v2/"}},
		{"Registry.Example.com:5000", []string{"https://registry.example.com:5000/v2/"}},
		{"127.0.0.1:5000", []string{"https://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/v2/"}},
		{"localhost:5000", []string{"https://localhost:5000/v2/", "http://localhost:5000/v2/"}},
		{"[::1]:5000", []string{"https://[::1]:5000/v2/", "http://[::1]:5000/v2/"}},
		{"quay.io/org/team", []string{"https://quay.io/v2/org/team/"}},
		{"https://index.docker.io/v1/", []string{"https://index.docker.io/v1/"}},
		{"http://127.0.0.1:5000", []string{"http://127.0.0.1:5000/"}},
	} {
		got, err := URLs(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("URLs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a b", "user:pw@host", "host?x=1", "host#f", "ftp://host", "host/../x", "host//x", "host:", "host/%2e%2e", "host\r\nX: y", "://x", "https://", strings.Repeat("a", MaxServer+1)} {
		if got, err := URLs(bad); err == nil {
			t.Errorf("URLs(%q) = %q, want an error", bad, got)
		}
	}
}

func TestReadServer(t *testing.T) {
	if s, err := ReadServer(strings.NewReader(" 127.0.0.1:5000\n")); err != nil || s != "127.0.0.1:5000" {
		t.Errorf("ReadServer = %q, %v", s, err)
	}
	if _, err := ReadServer(strings.NewReader("\n")); err == nil || err.Error() != MsgMissingServerURL {
		t.Errorf("empty: %v", err)
	}
	if _, err := ReadServer(strings.NewReader(strings.Repeat(" ", MaxInput+1))); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Errorf("too large: %v", err)
	}
}

func TestReadCredentials(t *testing.T) {
	c, err := ReadCredentials(strings.NewReader(`{"ServerURL":"r.example","Username":"u","Secret":"s"}`))
	if err != nil || c != (Credentials{"r.example", "u", "s"}) {
		t.Errorf("ReadCredentials = %+v, %v", c, err)
	}
	for in, want := range map[string]string{
		`{"Username":"u"}`:                    MsgMissingServerURL,
		`{"ServerURL":"r"}`:                   MsgMissingUsername,
		`{"ServerURL":"r","Username":"u"} {}`: "data after it",
		`["ServerURL"]`:                       "not a credentials JSON object",
	} {
		if _, err := ReadCredentials(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadCredentials(%s) = %v, want %q", in, err, want)
		}
	}
}

func TestWriteCredentials(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCredentials(&b, Credentials{"127.0.0.1:5000", "alice", "p<w>&"}); err != nil {
		t.Fatal(err)
	}
	if want := `{"ServerURL":"127.0.0.1:5000","Username":"alice","Secret":"p<w>&"}` + "\n"; b.String() != want {
		t.Errorf("got %s want %s", b.String(), want)
	}
	for _, c := range []Credentials{{"", "u", "s"}, {"r", "", "s"}, {"r", "u", ""}, {"r", "a:b", "s"}, {"r", "u", "s\nX"}, {"r", "u\x00", "s"}} {
		b.Reset()
		if err := WriteCredentials(&b, c); err == nil || b.Len() != 0 {
			t.Errorf("WriteCredentials(%+v) = %v, wrote %q", c, err, b.String())
		}
	}
	b.Reset()
	if WriteList(&b, nil); b.String() != "{}\n" {
		t.Errorf("empty list: %q", b.String())
	}
}

func TestFromBasic(t *testing.T) {
	if u, p, ok := FromBasic("Basic YWxpY2U6d29uZDplcg=="); !ok || u != "alice" || p != "wond:er" {
		t.Errorf("FromBasic = %q %q %v", u, p, ok)
	}
	for _, bad := range []string{"Bearer x", "Basic !!", "Basic YWxpY2U=", "Basic"} {
		if _, _, ok := FromBasic(bad); ok {
			t.Errorf("FromBasic(%q) ok", bad)
		}
	}
}

// FuzzServer: a server name either is refused or maps to absolute http(s)
// URLs under it, with no white space or control character; what get then
// writes for it is one line of JSON that decodes to the same credentials.
func FuzzServer(f *testing.F) {
	for _, s := range []string{"127.0.0.1:5000", "quay.io/org", "https://index.docker.io/v1/", "host\r\nX: y", "[::1]:5000", "a/../b"} {
		f.Add(s, "alice", "pw")
	}
	f.Fuzz(func(t *testing.T, in, user, secret string) {
		server, err := ReadServer(strings.NewReader(in))
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		urls, err := URLs(server)
		if err != nil || len(urls) == 0 {
			t.Fatalf("ReadServer accepted %q but URLs: %v", server, err)
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") || strings.IndexFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 || !strings.HasSuffix(u, "/") {
				t.Fatalf("URLs(%q) = %q", server, urls)
			}
		}
		var b bytes.Buffer
		c := Credentials{server, user, secret}
		if err := WriteCredentials(&b, c); err != nil {
			if b.Len() != 0 {
				t.Fatal("wrote on error")
			}
			return
		}
		if bytes.Count(b.Bytes(), []byte("\n")) != 1 {
			t.Fatalf("not one line: %q", b.String())
		}
		var back Credentials
		if err := json.Unmarshal(b.Bytes(), &back); err != nil || back != c {
			t.Fatalf("round trip %+v → %s → %+v", c, b.String(), back)
		}
	})
}
