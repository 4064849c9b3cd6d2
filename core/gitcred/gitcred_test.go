package gitcred

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	in := "protocol=https\nhost=git.example.com:8443\npath=team/repo.git\nwwwauth[]=Basic realm=\"x\"\ncapability[]=authtype\nusername=alice\nhost=git.example.com\n\nignored=after the blank line\n"
	req, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Protocol: "https", Host: "git.example.com", Path: "team/repo.git", Username: "alice"}
	if *req != want {
		t.Fatalf("got %+v, want %+v", *req, want)
	}
	u, ok := req.URL()
	if !ok || u.String() != "https://git.example.com/team/repo.git" {
		t.Fatalf("URL() = %v, %v", u, ok)
	}
}

func TestReadRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"no equals":  "protocol=https\nhost\n",
		"empty key":  "=x\n",
		"NUL":        "host=a\x00b\n",
		"CR":         "password=a\rusername=x\n",
		"over limit": "path=" + strings.Repeat("a", MaxInput) + "\n",
	} {
		if _, err := Read(strings.NewReader(in)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
	// No trailing newline, no blank line: the end of input ends the request.
	if req, err := Read(strings.NewReader("protocol=http\nhost=h")); err != nil || req.Host != "h" {
		t.Errorf("unterminated: %+v, %v", req, err)
	}
}

func TestURL(t *testing.T) {
	for _, tt := range []struct {
		req  Request
		want string
	}{
		{Request{Protocol: "https", Host: "h"}, "https://h/"},
		{Request{Protocol: "http", Host: "127.0.0.1:8080", Path: "/a/b.git"}, "http://127.0.0.1:8080/a/b.git"},
		{Request{Protocol: "cert", Host: "h"}, ""},
		{Request{Protocol: "smtp", Host: "h"}, ""},
		{Request{Protocol: "https", Host: ""}, ""},
		{Request{Protocol: "https", Host: "evil.com@h"}, ""},
		{Request{Protocol: "https", Host: "h/x"}, ""},
		{Request{Protocol: "https", Host: "h x"}, ""},
		{Request{Protocol: "https", Host: "h", Path: "a?b"}, ""},
		{Request{Protocol: "https", Host: "h", Path: "a#b"}, ""},
		{Request{Protocol: "https", Host: "h", Path: "other/../team/r.git"}, ""},
		{Request{Protocol: "https", Host: "h", Path: "team/./r.git"}, ""},
		{Request{Protocol: "https", Host: "h", Path: ".."}, ""},
		{Request{Protocol: "https", Host: "h", Path: "other\\..\\team"}, ""},
		{Request{Protocol: "https", Host: "h", Path: "other/%2e%2e/team"}, ""},
		{Request{Protocol: "https", Host: "h", Path: "a/..b/c."}, "https://h/a/..b/c."},
	} {
		u, ok := tt.req.URL()
		got := ""
		if ok {
			got = u.String()
		}
		if got != tt.want {
			t.Errorf("%+v: URL() = %q, want %q", tt.req, got, tt.want)
		}
	}
}

func TestAnswerRefusesInjection(t *testing.T) {
	for _, a := range []Answer{
		{Username: "x", Password: "tok\nusername=evil"},
		{Username: "x\r", Password: "tok"},
		{Username: "x", Password: "a\x00b"},
		{Username: "x", Password: ""},
		{Username: "", Password: "p"},
	} {
		var b bytes.Buffer
		if err := a.Write(&b); err == nil || b.Len() != 0 {
			t.Errorf("%q: err %v, wrote %q", a, err, b.String())
		}
	}
	var b bytes.Buffer
	if err := (Answer{Username: "alice", Password: "p=w d"}).Write(&b); err != nil || b.String() != "username=alice\npassword=p=w d\n" {
		t.Fatalf("%q, %v", b.String(), err)
	}
}
