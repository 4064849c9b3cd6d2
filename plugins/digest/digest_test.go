package digest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/httpauth"
)

func header(values ...string) http.Header {
	h := http.Header{}
	for _, v := range values {
		h.Add("WWW-Authenticate", v)
	}
	return h
}

func TestChoose(t *testing.T) {
	tests := []struct {
		name    string
		h       http.Header
		want    string // the chosen algorithm
		wantQOP string
		pref    string
		kind    core.Kind // when an error is expected
	}{
		{name: "apache MD5", h: header(`Digest realm="private area", nonce="I1MuP4BhBgA=4cf", algorithm=MD5, opaque="1", domain="/private/", qop="auth"`), want: "MD5", wantQOP: "auth"},
		{name: "no algorithm is MD5", h: header(`Digest realm="r", nonce="n"`), want: "MD5"},
		{name: "lighttpd MD5|SHA-256 in two headers", h: header(`Digest realm="r", charset="UTF-8", algorithm=MD5, nonce="a", qop="auth"`, `Digest realm="r", charset="UTF-8", algorithm=SHA-256, nonce="b", qop="auth"`), want: "SHA-256", wantQOP: "auth"},
		{name: "several in one header", h: header(`Basic realm="b", Digest realm="r", algorithm=MD5-sess, nonce="a", qop="auth,auth-int", Digest realm="r", algorithm=SHA-256-sess, nonce="b", qop="auth-int"`), want: "SHA-256-sess", wantQOP: "auth-int"},
		{name: "SHA-512-256 beats SHA-256-sess", h: header(`Digest realm="r", algorithm=SHA-256-sess, nonce="a", qop="auth"`, `Digest realm="r", algorithm=SHA-512-256, nonce="b", qop="auth"`), want: "SHA-512-256"},
		{name: "unknown algorithm skipped", h: header(`Digest realm="r", algorithm=SHA3, nonce="a", qop="auth"`, `Digest realm="r", algorithm=md5, nonce="b", qop="auth"`), want: "MD5"},
		{name: "preference keeps the weaker one", pref: "MD5", h: header(`Digest realm="r", algorithm=MD5, nonce="a", qop="auth"`, `Digest realm="r", algorithm=SHA-256, nonce="b", qop="auth"`), want: "MD5"},
		{name: "preference not offered: no downgrade", pref: "SHA-256", h: header(`Digest realm="r", algorithm=MD5, nonce="a", qop="auth"`), kind: core.KindConfig},
		{name: "only Basic", h: header(`Basic realm="r"`), kind: core.KindUnsupported},
		{name: "no challenge", h: header(), kind: core.KindBadAnswer},
		{name: "unknown qop only", h: header(`Digest realm="r", nonce="a", qop="auth-conf"`), kind: core.KindUnsupported},
		{name: "sess without qop", h: header(`Digest realm="r", algorithm=MD5-sess, nonce="a"`), kind: core.KindUnsupported},
		{name: "no nonce", h: header(`Digest realm="r", qop="auth"`), kind: core.KindUnsupported},
		{name: "control character in a quoted nonce", h: header("Digest realm=\"r\", nonce=\"a\x01b\", qop=\"auth\""), kind: core.KindUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := choose(tt.h, tt.pref)
			if tt.kind != 0 {
				if err == nil || core.KindOf(err) != tt.kind {
					t.Fatalf("err = %v (kind %v), want kind %v", err, core.KindOf(err), tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.alg.name != tt.want {
				t.Errorf("algorithm = %s, want %s", o.alg.name, tt.want)
			}
			if tt.wantQOP != "" && (len(o.qop) == 0 || o.qop[0] != tt.wantQOP) {
				t.Errorf("qop = %v, want %s first", o.qop, tt.wantQOP)
			}
		})
	}
}

func TestProtectionSpace(t *testing.T) {
	tests := []struct {
		domain, url string
		want        []string
	}{
		{"", "http://h:8080/private/x", []string{"http://h:8080/"}},
		{"/private/", "http://h:8080/private/x", []string{"http://h:8080/private/"}},
		{"/a/ /b/ /a/", "https://H/a/x", []string{"https://h/a/", "https://h/b/"}},
		{"http://h:8080/private/ http://other/ https://h:8080/", "http://h:8080/private/x", []string{"http://h:8080/private/"}},
		{"http://other/", "http://h/x", []string{"http://h/"}},
		{"/p/..;/q", "http://h/x", []string{"http://h/"}},
	}
	for _, tt := range tests {
		got, err := protectionSpace(tt.domain, tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("protectionSpace(%q, %q) = %v, want %v", tt.domain, tt.url, got, tt.want)
		}
	}
	if _, err := protectionSpace("", ""); core.KindOf(err) != core.KindConfig {
		t.Errorf("no URL: %v", err)
	}
}

// verify checks an Authorization header the way a server does, with the
// password, and returns its parameters.
func verify(t *testing.T, h, method, password string, bodyHash func(algorithm) string) map[string]string {
	t.Helper()
	cs := httpauth.Parse(h)
	if len(cs) != 1 || cs[0].Scheme != "Digest" {
		t.Fatalf("not one Digest credential: %q", h)
	}
	p := cs[0].Params
	alg, ok := lookupAlgorithm(p["algorithm"])
	if !ok {
		t.Fatalf("algorithm %q", p["algorithm"])
	}
	in := inputs{alg: alg, username: p["username"], realm: p["realm"], password: password, nonce: p["nonce"],
		cnonce: p["cnonce"], nc: p["nc"], qop: p["qop"], method: method, uri: p["uri"]}
	if p["qop"] == "auth-int" {
		in.bodyHash = bodyHash(alg)
	}
	if p["userhash"] == "true" {
		in.username = "alice" // the server looks the hash up; the tests' user is alice
		if userhash(alg, "alice", p["realm"]) != p["username"] {
			t.Errorf("userhash %q is not H(alice:realm)", p["username"])
		}
	}
	if got := response(in); got != p["response"] {
		t.Errorf("response %s, want %s (header %q)", p["response"], got, h)
	}
	return p
}

func testState(t *testing.T, challenge, rawURL string) *state {
	t.Helper()
	o, err := choose(header(challenge), "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := newState(o, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var cfg = core.Config{"username": "alice", "password": "s3cret pw"}

func TestSign(t *testing.T) {
	empty := sha256.Sum256(nil)
	body := sha256.Sum256([]byte("payload"))
	tests := []struct {
		name, challenge, method, url string
		body                         []byte
		wantQOP, wantURI             string
		wantKind                     core.Kind
	}{
		{"MD5 auth", `Digest realm="r", nonce="n1", algorithm=MD5, opaque="1", domain="/private/", qop="auth"`, "GET", "http://h/private/a?x=1&y=%2F", empty[:], "auth", "/private/a?x=1&y=%2F", 0},
		{"SHA-256-sess", `Digest realm="r", nonce="n1", algorithm=SHA-256-sess, qop="auth"`, "PUT", "http://h/x", body[:], "auth", "/x", 0},
		{"auth preferred over auth-int", `Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth-int, auth"`, "POST", "http://h/x", body[:], "auth", "/x", 0},
		{"auth-int SHA-256 with a body", `Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth-int"`, "POST", "http://h/x", body[:], "auth-int", "/x", 0},
		{"auth-int MD5 empty body", `Digest realm="r", nonce="n1", algorithm=MD5, qop="auth-int"`, "GET", "http://h/x", empty[:], "auth-int", "/x", 0},
		{"auth-int MD5 with a body", `Digest realm="r", nonce="n1", algorithm=MD5, qop="auth-int"`, "POST", "http://h/x", body[:], "", "", core.KindUnsupported},
		{"auth-int without a body digest", `Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth-int"`, "POST", "http://h/x", nil, "", "", core.KindPlugin},
		{"RFC 2069 without qop", `Digest realm="r", nonce="n1"`, "GET", "http://h/x", empty[:], "", "/x", 0},
		{"userhash", `Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth", userhash=true`, "GET", "http://h/x", empty[:], "auth", "/x", 0},
		{"outside the protection space", `Digest realm="r", nonce="n1", domain="/private/", qop="auth"`, "GET", "http://h/public/x", empty[:], "", "", core.KindConfig},
		{"dot segments out of the space", `Digest realm="r", nonce="n1", domain="/private/", qop="auth"`, "GET", "http://h/private/../public/x", empty[:], "", "", core.KindConfig},
		{"another origin", `Digest realm="r", nonce="n1", qop="auth"`, "GET", "http://h:81/x", empty[:], "", "", core.KindConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := testState(t, tt.challenge, "http://h/private/")
			s := &Scheme{Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 64))}
			hs, next, err := s.sign(cfg, st, core.HTTPRequest{Method: tt.method, URL: tt.url, BodySHA256: tt.body})
			if tt.wantKind != 0 {
				if core.KindOf(err) != tt.wantKind || hs != nil {
					t.Fatalf("err = %v, headers %v; want kind %v and no header", err, hs, tt.wantKind)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error holds the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(hs) != 1 || hs[0].Name != "Authorization" {
				t.Fatalf("headers %v", hs)
			}
			p := verify(t, hs[0].Value, tt.method, "s3cret pw", func(a algorithm) string {
				if tt.body != nil && bytes.Equal(tt.body, empty[:]) {
					return a.h("")
				}
				return a.h("payload")
			})
			if p["qop"] != tt.wantQOP || p["uri"] != tt.wantURI {
				t.Errorf("qop %q uri %q, want %q %q", p["qop"], p["uri"], tt.wantQOP, tt.wantURI)
			}
			wantNC := uint32(1)
			if tt.wantQOP == "" {
				wantNC = 0
				if p["nc"] != "" || p["cnonce"] != "" {
					t.Errorf("RFC 2069 form with nc or cnonce: %q", hs[0].Value)
				}
			} else if p["nc"] != "00000001" || p["cnonce"] != strings.Repeat("07", 16) {
				t.Errorf("nc %q cnonce %q", p["nc"], p["cnonce"])
			}
			if next.NC != wantNC || st.NC != 0 {
				t.Errorf("next nc %d (old %d), want %d", next.NC, st.NC, wantNC)
			}
			if strings.Contains(hs[0].Value, "s3cret") {
				t.Errorf("header holds the password")
			}
		})
	}
}

func TestSignCountsUp(t *testing.T) {
	st := testState(t, `Digest realm="r", nonce="n1", qop="auth"`, "http://h/")
	st.NC = 0xfe
	s := New()
	var cnonces []string
	for want := range []string{"000000ff", "00000100"} {
		hs, next, err := s.sign(cfg, st, core.HTTPRequest{Method: "GET", URL: "http://h/x"})
		if err != nil {
			t.Fatal(err)
		}
		p := verify(t, hs[0].Value, "GET", "s3cret pw", nil)
		if wantNC := []string{"000000ff", "00000100"}[want]; p["nc"] != wantNC {
			t.Errorf("nc = %s, want %s", p["nc"], wantNC)
		}
		cnonces = append(cnonces, p["cnonce"])
		st = next
	}
	if cnonces[0] == cnonces[1] {
		t.Errorf("the client nonce repeats: %v", cnonces)
	}
	if _, _, err := s.sign(core.Config{"username": "a\r\nX-Evil: 1", "password": "p"}, st, core.HTTPRequest{Method: "GET", URL: "http://h/x"}); core.KindOf(err) != core.KindConfig {
		t.Errorf("a user name with a line break: %v", err)
	}
	st.NC = 1<<32 - 2
	if _, next, err := s.sign(cfg, st, core.HTTPRequest{Method: "GET", URL: "http://h/x"}); err != nil {
		t.Fatal(err)
	} else if _, err := decodeState(next.encode()); err == nil {
		t.Errorf("an exhausted nonce count decodes")
	}
}

// The header for RFC 7616 §3.9.1's request, read back as a server would.
func TestAuthorizationRFC7616(t *testing.T) {
	in := inputs{alg: mustAlg(t, "SHA-256"), username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life",
		nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		nc: "00000001", qop: "auth", method: "GET", uri: "/dir/index.html"}
	got := httpauth.Parse(authorization(in, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", true, false))
	want := httpauth.Parse(`Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
       qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	// A non-ASCII user name travels as username* (RFC 8187).
	in.username = "J\u00e4s\u00f8n Doe"
	if h := authorization(in, "", false, false); !strings.Contains(h, `username*=UTF-8''J%C3%A4s%C3%B8n%20Doe,`) || strings.Contains(h, "opaque") {
		t.Errorf("header %q", h)
	}
}

func TestHandleChallenge(t *testing.T) {
	const fresh = `Digest realm="private area", nonce="n2", algorithm=MD5, opaque="2", domain="/private/", qop="auth"`
	cred := func(nc uint32) *core.Credential {
		st := testState(t, `Digest realm="private area", nonce="n1", algorithm=MD5, opaque="1", domain="/private/", qop="auth"`, "http://h/private/")
		st.NC = nc
		return credential(st)
	}
	tests := []struct {
		name     string
		cred     *core.Credential
		status   int
		www      string
		decision core.Decision
		wantErr  core.Kind
		diag     string
	}{
		{"stale nonce renewed", cred(7), 401, fresh + `, stale=true`, core.DecisionRetry, 0, "stale"},
		{"stale on the first request", cred(1), 401, fresh + `, stale=TRUE`, core.DecisionRetry, 0, "stale"},
		{"wrong password at the login's first request", cred(0), 401, fresh, core.DecisionFail, 0, `refused user "alice" in realm "private area" (Digest MD5); check the username and password`},
		{"a used nonce refused: the server lost it, or counts out of order", cred(1), 401, fresh, core.DecisionRetry, 0, "no longer accepts"},
		{"a used nonce refused later", cred(5), 401, fresh, core.DecisionRetry, 0, "no longer accepts"},
		{"no state", &core.Credential{PerRequest: true}, 401, fresh, core.DecisionFail, 0, `refused user "alice"; check`},
		{"the server now asks for Basic", cred(5), 401, `Basic realm="x"`, core.DecisionFail, 0, "offers Basic"},
		{"forbidden", cred(5), 403, "", 0, core.KindForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: tt.cred,
				Request:  core.HTTPRequest{Method: "GET", URL: "http://h/private/a"},
				Response: core.HTTPResponse{Status: tt.status, Header: header(tt.www)}})
			if tt.wantErr != 0 {
				if core.KindOf(err) != tt.wantErr {
					t.Fatalf("err = %v, want kind %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.decision || !strings.Contains(res.Diagnosis, tt.diag) {
				t.Fatalf("decision %d %q, want %d containing %q", res.Decision, res.Diagnosis, tt.decision, tt.diag)
			}
			if strings.Contains(res.Diagnosis, "s3cret") || strings.Contains(res.Diagnosis, "\n") {
				t.Errorf("diagnosis %q", res.Diagnosis)
			}
			if res.Decision != core.DecisionRetry {
				return
			}
			// The retry refused again: a diagnosis, no second retry.
			again, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: res.Credential, Retried: true,
				Request:  core.HTTPRequest{Method: "GET", URL: "http://h/private/a"},
				Response: core.HTTPResponse{Status: tt.status, Header: header(tt.www)}})
			if err != nil || again.Decision != core.DecisionFail || !strings.Contains(again.Diagnosis, `refused user "alice" in realm "private area" (Digest MD5) again with a new nonce; check the username and password`) {
				t.Errorf("retried: %v %+v", err, again)
			}
			st, err := decodeState(res.Credential.State)
			if err != nil {
				t.Fatal(err)
			}
			if st.Nonce != "n2" || st.NC != 0 || st.Opaque != "2" || !res.ReplaySafe || !res.Credential.PerRequest {
				t.Errorf("retry state %+v", st)
			}
		})
	}
}

func TestDecodeState(t *testing.T) {
	good := `{"v":1,"realm":"r","nonce":"n","algorithm":"MD5","qop":["auth"],"nc":3,"space":["http://h/private/"]}`
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"good", good, true},
		{"empty", ``, false},
		{"empty JSON", `{}`, false},
		{"another version", strings.Replace(good, `"v":1`, `"v":2`, 1), false},
		{"no nonce", strings.Replace(good, `"nonce":"n"`, `"nonce":""`, 1), false},
		{"line break in the realm", strings.Replace(good, `"realm":"r"`, `"realm":"r\r\nX-Evil: 1"`, 1), false},
		{"invalid UTF-8 reads as U+FFFD", strings.Replace(good, `"realm":"r"`, "\"realm\":\"\xff\"", 1), true},
		{"unknown algorithm", strings.Replace(good, `"MD5"`, `"SHA3"`, 1), false},
		{"no algorithm", strings.Replace(good, `"algorithm":"MD5",`, ``, 1), false},
		{"unknown qop", strings.Replace(good, `["auth"]`, `["auth-conf"]`, 1), false},
		{"exhausted nc", strings.Replace(good, `"nc":3`, `"nc":4294967295`, 1), false},
		{"nc overflows", strings.Replace(good, `"nc":3`, `"nc":4294967296`, 1), false},
		{"negative nc", strings.Replace(good, `"nc":3`, `"nc":-1`, 1), false},
		{"no space", strings.Replace(good, `["http://h/private/"]`, `[]`, 1), false},
		{"relative space", strings.Replace(good, `http://h/private/`, `/private/`, 1), false},
		{"file space", strings.Replace(good, `http://h/private/`, `file:///etc/`, 1), false},
		{"user info in the space", strings.Replace(good, `http://h/`, `http://u:p@h/`, 1), false},
		{"ambiguous space", strings.Replace(good, `/private/`, `/a/..;/b/`, 1), false},
		{"unknown field", strings.Replace(good, `"v":1`, `"v":1,"password":"x"`, 1), false},
		{"trailing data", good + ` {}`, false},
		{"too large", strings.Replace(good, `"realm":"r"`, `"realm":"`+strings.Repeat("r", maxState*3/4)+`"`, 1), false},
	}
	if st, err := decodeState([]byte(good)); err == nil || st != nil {
		t.Errorf("plain JSON: %v %v", st, err)
	}
	for _, tt := range tests {
		st, err := decodeState(b64(tt.in))
		if (err == nil) != tt.ok || (st != nil) != tt.ok {
			t.Errorf("%s: state %v, err %v; want ok=%v", tt.name, st, err, tt.ok)
		}
	}
}

func TestLogin(t *testing.T) {
	apache := &core.HTTPResponse{Status: 401, Header: header(`Digest realm="private area", nonce="n1", algorithm=MD5, opaque="1", domain="/private/", qop="auth"`)}
	tests := []struct {
		name      string
		url       string
		challenge *core.HTTPResponse
		kind      core.Kind
	}{
		{"apache", "http://h:8080/private/", apache, 0},
		{"no challenge", "http://h:8080/private/", nil, core.KindPlugin},
		{"no url", "", apache, core.KindConfig},
		{"not 401", "http://h:8080/private/", &core.HTTPResponse{Status: 200}, core.KindConfig},
		{"Basic only", "http://h:8080/private/", &core.HTTPResponse{Status: 401, Header: header(`Basic realm="x"`)}, core.KindUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := New().Login(context.Background(), core.LoginRequest{Config: cfg, URL: tt.url, Challenge: tt.challenge})
			if tt.kind != 0 {
				if core.KindOf(err) != tt.kind || cred != nil || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("cred %v err %v, want kind %v", cred, err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !cred.PerRequest || fmt.Sprint(cred.Scope) != "[http://h:8080/private/]" || cred.Token != "" || len(cred.Headers) != 0 {
				t.Errorf("credential %+v", cred)
			}
			if err := cred.Validate(); err != nil {
				t.Error(err)
			}
			if raw, _ := base64.RawURLEncoding.DecodeString(string(cred.State)); bytes.Contains(raw, []byte("s3cret")) || len(raw) == 0 {
				t.Errorf("the state holds the password: %s", cred.State)
			}
			// Apply counts up through the state the host hands back.
			for i, want := range []string{"00000001", "00000002", "00000003"} {
				res, err := New().Apply(context.Background(), core.ApplyRequest{Config: cfg, Credential: cred,
					Request: core.HTTPRequest{Method: "GET", URL: fmt.Sprintf("http://h:8080/private/%d", i)}})
				if err != nil {
					t.Fatal(err)
				}
				if p := verify(t, res.Headers[0].Value, "GET", "s3cret pw", nil); p["nc"] != want || p["opaque"] != "1" {
					t.Errorf("request %d: nc %s opaque %s", i, p["nc"], p["opaque"])
				}
				cred.State = res.State
			}
			if _, err := New().Apply(context.Background(), core.ApplyRequest{Config: cfg, Credential: cred,
				Request: core.HTTPRequest{Method: "GET", URL: "http://h:8080/public/"}}); core.KindOf(err) != core.KindConfig {
				t.Errorf("outside the protection space: %v", err)
			}
			if _, err := New().Apply(context.Background(), core.ApplyRequest{Config: cfg, Credential: &core.Credential{PerRequest: true, State: b64("{")},
				Request: core.HTTPRequest{Method: "GET", URL: "http://h:8080/private/"}}); core.KindOf(err) != core.KindCache {
				t.Errorf("a broken state: %v", err)
			}
		})
	}
}

func b64(s string) []byte { return []byte(base64.RawURLEncoding.EncodeToString([]byte(s))) }

func TestConfigure(t *testing.T) {
	tests := []struct {
		cfg  core.Config
		want string // the field of the first diagnostic, "" for none
	}{
		{core.Config{"username": "alice", "password": "p"}, ""},
		{core.Config{"username": "J\u00e4s\u00f8n Doe", "password": "p", "algorithm": "sha-256"}, ""},
		{core.Config{"password": "p"}, "username"},
		{core.Config{"username": "a\nb", "password": "p"}, "username"},
		{core.Config{"username": "alice", "password": "p", "algorithm": "SHA-1"}, "algorithm"},
		{core.Config{"username": "alice", "password": "p", "client_cert": "/etc/client.pem"}, "client_key"},
	}
	for _, tt := range tests {
		ds := New().Configure(context.Background(), tt.cfg)
		got := ""
		if len(ds) > 0 {
			got = ds[0].Field
		}
		if got != tt.want {
			t.Errorf("Configure(%v) = %v, want a diagnostic for %q", tt.cfg, ds, tt.want)
		}
	}
}

// BenchmarkApply is the plugin's own cost per signed request (decoding the
// state, one Digest response, encoding the state), without the RPC.
func BenchmarkApply(b *testing.B) {
	for _, alg := range []string{"MD5", "SHA-256-sess"} {
		b.Run(alg, func(b *testing.B) {
			o, err := choose(header(`Digest realm="r", nonce="n1", qop="auth", algorithm=`+alg), "")
			if err != nil {
				b.Fatal(err)
			}
			st, _ := newState(o, "http://h/")
			cred := credential(st)
			s := New()
			req := core.ApplyRequest{Config: cfg, Credential: cred, Request: core.HTTPRequest{Method: "GET", URL: "http://h/x?y=1"}}
			b.ReportAllocs()
			for b.Loop() {
				res, err := s.Apply(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				cred.State = res.State
			}
		})
	}
}
