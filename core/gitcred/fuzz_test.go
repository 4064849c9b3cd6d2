package gitcred

import (
	"bytes"
	"strings"
	"testing"

	"github.com/authx/authx/core/urlscope"
)

// FuzzRead: whatever git (or anything posing as git) sends, Read does not
// panic, and what it accepts holds no line break or NUL, writes back as
// lines Read reads to the same request, and maps to a URL only for http(s)
// with the host it was given.
func FuzzRead(f *testing.F) {
	f.Add([]byte("protocol=https\nhost=git.example.com\n\n"))
	f.Add([]byte("protocol=http\nhost=127.0.0.1:8080\npath=r.git\nusername=u\npassword=p\n"))
	f.Add([]byte("protocol=cert\nhost=\npath=/home/u/cert.p12\n"))
	f.Add([]byte("wwwauth[]=Bearer realm=x\ncapability[]=authtype\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := Read(bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, v := range []string{req.Protocol, req.Host, req.Path, req.Username, req.Password} {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("accepted a value with a line break or NUL: %q", v)
			}
		}
		var b bytes.Buffer
		if err := req.Write(&b); err != nil {
			t.Fatal(err)
		}
		again, err := Read(&b)
		if err != nil || *again != *req {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, req)
		}
		if u, ok := req.URL(); ok && (u.Host != req.Host || u.Scheme != req.Protocol || u.User != nil ||
			hasDotSegment(req.Path) || strings.ContainsAny(req.Path, `\%`) || urlscope.Problem(u) != "") {
			t.Fatalf("URL %v for %+v", u, req)
		}
	})
}

// FuzzAnswer: an answer is written only when it reads back as exactly
// itself, two attributes and nothing injected.
func FuzzAnswer(f *testing.F) {
	f.Add("alice", "s3cret")
	f.Add("x-access-token", "tok\nusername=evil")
	f.Add("u", "a=b")
	f.Fuzz(func(t *testing.T, user, pass string) {
		var b bytes.Buffer
		if err := (Answer{Username: user, Password: pass}).Write(&b); err != nil {
			if b.Len() != 0 {
				t.Fatalf("wrote %q before refusing", b.String())
			}
			return
		}
		if n := strings.Count(b.String(), "\n"); n != 2 {
			t.Fatalf("%d lines: %q", n, b.String())
		}
		req, err := Read(&b)
		if err != nil || req.Username != user || req.Password != pass || req.Protocol != "" || req.Host != "" || req.Path != "" {
			t.Fatalf("read back %+v, %v", req, err)
		}
	})
}
