package digest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/urlscope"
)

// FuzzState feeds decodeState what a cache file could hold: the bytes as
// they are, and as the JSON inside the base64url. Whatever it
// accepts re-encodes to a state it accepts again, signs without error
// (inside its protection space) into a header without control characters,
// and increments the nonce count by exactly one.
func FuzzState(f *testing.F) {
	f.Add([]byte(`{"v":1,"realm":"r","nonce":"n","algorithm":"MD5","qop":["auth"],"nc":3,"space":["http://h/private/"]}`))
	f.Add([]byte(`{"v":1,"realm":"r","nonce":"n","opaque":"","has_opaque":true,"algorithm":"SHA-256-sess","qop":["auth-int"],"userhash":true,"nc":0,"space":["https://h:8443/"]}`))
	f.Add([]byte(`{"v":1,"realm":"r","nonce":"n","algorithm":"MD5","nc":4294967295,"space":["http://h/"]}`))
	f.Add([]byte(`{"v":2,"realm":"r","nonce":"n","algorithm":"MD5","space":["http://h/"]}`))
	f.Add([]byte(`{"v":1,"realm":"r\n","nonce":"n","algorithm":"MD5","space":["http://h/"]}`))
	f.Add([]byte(`{"v":1,"realm":"r","nonce":"n","algorithm":"MD5","space":["file:///etc/"]}`))
	f.Add([]byte(`{"v":1,"realm":"r","nonce":"n","algorithm":"MD5","space":["http://h/"]} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, err := decodeState(b); err == nil {
			checkState(t, st)
		} else if st != nil || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q with state %v", err, st)
		}
		st, err := decodeState([]byte(base64.RawURLEncoding.EncodeToString(b)))
		if err != nil {
			if st != nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q with state %v", err, st)
			}
			return
		}
		checkState(t, st)
	})
}

// checkState checks the properties FuzzState promises of a decoded state.
func checkState(t *testing.T, st *state) {
	t.Helper()
	again, err := decodeState(st.encode())
	if err != nil {
		t.Fatalf("re-encoded state refused: %v", err)
	}
	if len(st.Space) == 0 {
		t.Fatal("accepted without a protection space")
	}
	u, _ := url.Parse(st.Space[0])
	target := u.ResolveReference(&url.URL{Path: "x"})
	if !urlscope.InScope(target, st.Space) {
		return // e.g. a prefix with a query covers no subpath
	}
	empty := make([]byte, 32)
	hs, next, err := New().sign(core.Config{"username": "u", "password": "p"}, again, core.HTTPRequest{Method: "GET", URL: target.String(), BodySHA256: empty})
	if err != nil {
		if core.KindOf(err) == core.KindUnsupported { // auth-int with MD5 and a body
			return
		}
		t.Fatalf("sign: %v", err)
	}
	v := hs[0].Value
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		t.Fatalf("header value %q", v)
	}
	if len(st.QOP) > 0 && next.NC != st.NC+1 || len(st.QOP) == 0 && next.NC != st.NC {
		t.Fatalf("nc %d -> %d", st.NC, next.NC)
	}
}

// FuzzChoose feeds choose the WWW-Authenticate values of a 401. What it
// picks is a Digest challenge of a supported algorithm, with a nonce, whose
// state for a URL on the challenge's server is valid, has that server's
// origin as its protection space or inside it, and is at least as strong
// as any other acceptable challenge.
func FuzzChoose(f *testing.F) {
	f.Add(`Digest realm="private area", nonce="I1MuP4BhBgA=4cf4b38f", algorithm=MD5, opaque="1", domain="/private/", qop="auth"`, `Digest realm="r", algorithm=SHA-256, nonce="b", qop="auth", stale=true`)
	f.Add(`Basic realm="b", Digest realm="r", algorithm=MD5-sess, nonce="a", qop="auth,auth-int", Digest realm="r", algorithm=SHA-512-256-sess, nonce="b", qop="auth-int", userhash=true`, ``)
	f.Add(`Digest realm="r", nonce="a", domain="http://other/ /x/../y/ //evil/ /p/%2e%2e/"`, `Digest realm="r\\"", nonce="\\\\"`)
	f.Fuzz(func(t *testing.T, a, b string) {
		h := http.Header{"Www-Authenticate": {a, b}}
		o, err := choose(h, "")
		if err != nil {
			if strings.Contains(err.Error(), "\n") || core.KindOf(err) == core.KindInternal {
				t.Fatalf("error %q", err)
			}
			return
		}
		if !strings.EqualFold(o.ch.Scheme, "Digest") || o.ch.Params["nonce"] == "" {
			t.Fatalf("chose %+v", o.ch)
		}
		st, err := newState(o, "http://h:8080/private/x")
		if err != nil {
			t.Fatalf("newState: %v", err)
		}
		for _, p := range st.Space {
			u, _ := url.Parse(p)
			if !urlscope.InScope(u, []string{"http://h:8080/"}) {
				t.Fatalf("protection space %q leaves the origin", p)
			}
		}
		if _, err := decodeState(st.encode()); err != nil {
			t.Fatalf("state refused: %v", err)
		}
		for _, alg := range algorithms {
			if alg.rank > o.alg.rank {
				if _, err := choose(h, alg.name); err == nil {
					t.Fatalf("chose %s, but %s was acceptable", o.alg.name, alg.name)
				}
			}
		}
	})
}
