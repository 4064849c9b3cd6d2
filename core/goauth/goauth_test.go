package goauth

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestWriteParse(t *testing.T) {
	sets := []Set{
		{Prefixes: []string{"https://example.com", "https://example.net/api/"}, Headers: []Header{{"Authorization", "Basic dG9rZW4="}}},
		{Prefixes: []string{"https://another-example.org/"}, Headers: []Header{{"Example", "Data"}, {"Cookie", "a=b; c=d"}}},
	}
	var b bytes.Buffer
	if err := Write(&b, sets); err != nil {
		t.Fatal(err)
	}
	want := "https://example.com\nhttps://example.net/api/\n\nAuthorization: Basic dG9rZW4=\n\nhttps://another-example.org/\n\nExample: Data\nCookie: a=b; c=d\n\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	got, err := Parse(b.String())
	if err != nil || !reflect.DeepEqual(got, sets) {
		t.Fatalf("Parse: %+v, %v", got, err)
	}
}

func TestWriteRefuses(t *testing.T) {
	ok := []Header{{"Authorization", "Bearer t"}}
	for name, s := range map[string]Set{
		"http prefix":       {Prefixes: []string{"http://example.com/"}, Headers: ok},
		"prefix with space": {Prefixes: []string{"https://example.com/ x"}, Headers: ok},
		"prefix with LF":    {Prefixes: []string{"https://example.com/\nAuthorization: x"}, Headers: ok},
		"prefix with user":  {Prefixes: []string{"https://u:p@example.com/"}, Headers: ok},
		"prefix query":      {Prefixes: []string{"https://example.com/?a=b"}, Headers: ok},
		"no prefix":         {Headers: ok},
		"no header":         {Prefixes: []string{"https://example.com/"}},
		"value LF":          {Prefixes: []string{"https://example.com/"}, Headers: []Header{{"Authorization", "Bearer t\n\nhttps://evil.example/"}}},
		"value CR":          {Prefixes: []string{"https://example.com/"}, Headers: []Header{{"Authorization", "Bearer t\rX: y"}}},
		"value NUL":         {Prefixes: []string{"https://example.com/"}, Headers: []Header{{"Authorization", "Bearer \x00"}}},
		"name colon":        {Prefixes: []string{"https://example.com/"}, Headers: []Header{{"X: y", "z"}}},
		"empty value":       {Prefixes: []string{"https://example.com/"}, Headers: []Header{{"X", ""}}},
	} {
		var b bytes.Buffer
		good := Set{Prefixes: []string{"https://ok.example/"}, Headers: ok}
		if err := Write(&b, []Set{good, s}); err == nil || b.Len() != 0 {
			t.Errorf("%s: err %v, wrote %q", name, err, b.String())
		}
	}
}

func TestReadResponse(t *testing.T) {
	in := "HTTP/1.1 401 Unauthorized\nContent-Length: 19\nWww-Authenticate: Basic realm=\"proxy\"\nDate: Thu, 07 Nov 2024 18:43:09 GMT\n\n"
	res, err := ReadResponse(strings.NewReader(in))
	if err != nil || res.Status != 401 || res.Header.Get("WWW-Authenticate") != `Basic realm="proxy"` {
		t.Fatalf("%+v, %v", res, err)
	}
	for _, bad := range []string{"", "garbage\n\n", "HTTP/1.1 4011 x\n", "HTTP/1.1 abc\n", "HTTP/1.1 -01 x\n", "HTTP/1.1 +12\n", "HTTP/1.1 404 Not Found\nno colon\n\n", "HTTP/1.1 404 x\n" + strings.Repeat("X-A: b\n", MaxResponse/7+1)} {
		if _, err := ReadResponse(strings.NewReader(bad)); err == nil {
			t.Errorf("%.40q: accepted", bad)
		}
	}
	if res, err := ReadResponse(strings.NewReader("HTTP/2.0 404 Not Found")); err != nil || res.Status != 404 {
		t.Errorf("no newline: %+v, %v", res, err)
	}
}
