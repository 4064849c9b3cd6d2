package goauth

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzWrite: a set is written only when the go command would read back
// exactly it: Parse(Write(x)) == x, and the output has one line per
// prefix and header plus two blank lines, so no value injected a line.
func FuzzWrite(f *testing.F) {
	f.Add("https://proxy.example.com/", "Authorization", "Bearer abc")
	f.Add("https://127.0.0.1:8443", "Cookie", "a=b")
	f.Add("https://x/\n\nhttps://evil/", "Authorization", "t\nX-Injected: 1")
	f.Add("http://x/", "A", " v ")
	f.Fuzz(func(t *testing.T, prefix, name, value string) {
		sets := []Set{{Prefixes: []string{prefix}, Headers: []Header{{name, value}}}}
		var b bytes.Buffer
		if err := Write(&b, sets); err != nil {
			if b.Len() != 0 {
				t.Fatalf("wrote %q before refusing", b.String())
			}
			return
		}
		if n := strings.Count(b.String(), "\n"); n != 4 {
			t.Fatalf("%d lines in %q", n, b.String())
		}
		got, err := Parse(b.String())
		if err != nil || !reflect.DeepEqual(got, sets) {
			t.Fatalf("Parse(%q) = %+v, %v", b.String(), got, err)
		}
	})
}

// FuzzReadResponse: whatever arrives on stdin, ReadResponse does not
// panic, and what it accepts is a 3-digit status and headers without line
// breaks.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 401 Unauthorized\nContent-Length: 19\nContent-Type: text/plain; charset=utf-8\n\n"))
	f.Add([]byte("HTTP/2.0 404 Not Found\r\nX: y\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := ReadResponse(bytes.NewReader(in))
		if err != nil {
			return
		}
		if res.Status < 0 || res.Status > 999 {
			t.Fatalf("status %d", res.Status)
		}
		for k, vs := range res.Header {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n\x00") {
					t.Fatalf("header %q: %q", k, v)
				}
			}
		}
	})
}
