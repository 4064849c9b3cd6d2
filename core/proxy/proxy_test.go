package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// fakeSource hands out "Bearer t1", then "Bearer t2" after a challenge;
// with perRequest, signs each request with X-Sig: METHOD URL SHA256(body).
type fakeSource struct {
	perRequest bool
	replaySafe bool
	cookie     string   // a cookie name the credential sets, if any
	scope      []string // the credential's own scope, if any
	mu         sync.Mutex
	gen        int
	challenges atomic.Int32
	signs      atomic.Int32
}

func (s *fakeSource) cred() *core.Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := fmt.Sprintf("t%d", s.gen+1)
	c := &core.Credential{Token: tok, PerRequest: s.perRequest, Scope: s.scope}
	if !s.perRequest {
		c.Headers = []core.Header{{Name: "Authorization", Value: "Bearer " + tok}}
	}
	if s.cookie != "" {
		c.Cookies = []core.Cookie{{Name: s.cookie, Value: "from-profile"}}
	}
	return c
}

func (s *fakeSource) Credential(context.Context) (*core.Credential, error) { return s.cred(), nil }

func (s *fakeSource) Sign(_ context.Context, c *core.Credential, r core.HTTPRequest) ([]core.Header, error) {
	s.signs.Add(1)
	return []core.Header{{Name: "Authorization", Value: "Sig " + c.Token},
		{Name: "X-Sig", Value: r.Method + " " + r.URL + " " + hex.EncodeToString(r.BodySHA256)}}, nil
}

func (s *fakeSource) Challenge(_ context.Context, _ *core.Credential, _ core.HTTPRequest, resp core.HTTPResponse) (*core.Credential, bool, error) {
	s.challenges.Add(1)
	if resp.Status != http.StatusUnauthorized {
		return nil, false, core.Errorf(core.KindHTTP, "forbidden")
	}
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
	return s.cred(), s.replaySafe, nil
}

// seen is what the upstream received.
type seen struct {
	Method, Path, Query, Auth, Sig, Cookie, XFF, Hop, Host string
	Body                                                   string
	BodyLen                                                int
}

// upstream echoes what it received as JSON; /api/strict refuses t1 with
// 401, /api/redirect redirects to ?to=, /api/stream streams.
func upstream(t testing.TB, release <-chan struct{}) (*httptest.Server, func() []seen) {
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"),
			Sig: r.Header.Get("X-Sig"), Cookie: r.Header.Get("Cookie"), XFF: r.Header.Get("X-Forwarded-For"),
			Hop: r.Header.Get("X-Hop"), Host: r.Host, BodyLen: len(body)}
		if len(body) <= 64 {
			s.Body = string(body)
		}
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
		switch r.URL.Path {
		case "/api/strict":
			if s.Auth == "Bearer t1" || s.Auth == "Sig t1" {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, "expired")
				return
			}
		case "/api/redirect":
			w.Header().Set("Location", r.URL.Query().Get("to"))
			w.WriteHeader(http.StatusFound)
			return
		case "/api/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "first\n")
			w.(http.Flusher).Flush()
			<-release
			io.WriteString(w, "second\n")
			return
		}
		json.NewEncoder(w).Encode(s)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen { mu.Lock(); defer mu.Unlock(); return append([]seen(nil), got...) }
}

// start runs a proxy for up over src, in scope under up/api/, answering to
// its own listener's address only.
func start(t testing.TB, up *httptest.Server, src Source, log io.Writer, mod func(*Options)) *httptest.Server {
	t.Helper()
	u, _ := url.Parse(up.URL)
	ps := httptest.NewUnstartedServer(nil)
	o := Options{Upstream: u, Scope: []string{up.URL + "/api/"}, Source: src, Hosts: []string{ps.Listener.Addr().String()}, Log: log}
	if mod != nil {
		mod(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ps.Config.Handler = p
	ps.Start()
	t.Cleanup(ps.Close)
	return ps
}

func do(t *testing.T, method, u string, body io.Reader, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func echo(t *testing.T, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("not an echo: %q", body)
	}
	return s
}

// Credentials only inside the scope; the client's own Authorization never;
// hop-by-hop headers and X-Forwarded-For not forwarded.
func TestScopeAndHeaders(t *testing.T) {
	up, _ := upstream(t, nil)
	src := &fakeSource{cookie: "SESSION"}
	px := start(t, up, src, nil, nil)
	tests := []struct {
		path, wantAuth, wantCookie string
	}{
		{"/api/items?x=1", "Bearer t1", "app=1; SESSION=from-profile"},
		{"/other/items", "", "app=1; SESSION=mine"},                // outside: no credential, the client's cookies as they were
		{"/api/../other", "", "app=1; SESSION=mine"},               // normalized, it is outside
		{"/api/%2e%2e/other", "", "app=1; SESSION=mine"},           // so is this
		{"/api/a%2Fb", "Bearer t1", "app=1; SESSION=from-profile"}, // an escaped slash stays escaped
	}
	for _, tt := range tests {
		resp, body := do(t, "GET", px.URL+tt.path, nil, "Authorization", "Basic Y2xpZW50OnB3", "Cookie", "app=1; SESSION=mine",
			"Connection", "X-Hop", "X-Hop", "1", "X-Forwarded-For", "6.6.6.6")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tt.path, resp.StatusCode, body)
		}
		s := echo(t, body)
		if s.Auth != tt.wantAuth || s.Cookie != tt.wantCookie || s.Hop != "" || s.XFF != "" {
			t.Errorf("%s: upstream saw Authorization %q Cookie %q X-Hop %q X-Forwarded-For %q; want %q, %q, none, none",
				tt.path, s.Auth, s.Cookie, s.Hop, s.XFF, tt.wantAuth, tt.wantCookie)
		}
		if u, _ := url.Parse(up.URL); s.Host != u.Host {
			t.Errorf("%s: upstream saw Host %q", tt.path, s.Host)
		}
		if want, _, _ := strings.Cut(tt.path, "?"); s.Path != want && !strings.Contains(tt.path, "..") && !strings.Contains(tt.path, "%2e") {
			t.Errorf("upstream saw path %q, want %q", s.Path, want)
		}
	}
}

// A credential with a scope of its own goes only there, even inside the
// profile's prefixes.
func TestCredentialScope(t *testing.T) {
	up, _ := upstream(t, nil)
	px := start(t, up, &fakeSource{scope: []string{up.URL + "/api/v2/"}}, nil, nil)
	for path, want := range map[string]string{"/api/v2/x": "Bearer t1", "/api/v1/x": ""} {
		if _, body := do(t, "GET", px.URL+path, nil); echo(t, body).Auth != want {
			t.Errorf("%s: Authorization %q, want %q", path, echo(t, body).Auth, want)
		}
	}
}

// Per-request signing: every request signed with its own body's digest,
// a body larger than the replay limit spooled for it.
func TestSigning(t *testing.T) {
	up, got := upstream(t, nil)
	src := &fakeSource{perRequest: true}
	px := start(t, up, src, nil, func(o *Options) { o.ReplayLimit = 16 })
	big := bytes.Repeat([]byte("0123456789"), 1000)
	for _, body := range [][]byte{nil, []byte("small"), big} {
		resp, out := do(t, "POST", px.URL+"/api/orders?b=2&a=1", bytes.NewReader(body))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
		s := echo(t, out)
		sum := sha256.Sum256(body)
		want := "POST " + up.URL + "/api/orders?b=2&a=1 " + hex.EncodeToString(sum[:])
		if s.Sig != want || s.Auth != "Sig t1" || s.BodyLen != len(body) {
			t.Errorf("upstream saw X-Sig %q Authorization %q and %d bytes; want %q, Sig t1, %d", s.Sig, s.Auth, s.BodyLen, want, len(body))
		}
	}
	// Outside the scope nothing is signed.
	do(t, "GET", px.URL+"/public", nil)
	if last := got()[len(got())-1]; last.Sig != "" || last.Auth != "" || src.signs.Load() != 3 {
		t.Errorf("outside the scope: %+v, %d signatures", last, src.signs.Load())
	}
}

// A refusal is cured by one renewal and one retry when the request can be
// replayed; otherwise the client gets the refusal and the next request the
// renewed credential.
func TestChallengeRetry(t *testing.T) {
	tests := []struct {
		name, method string
		body         []byte
		perRequest   bool
		replaySafe   bool
		wantStatus   int
		wantSent     int // requests the upstream saw
	}{
		{"GET retried", "GET", nil, false, false, 200, 2},
		{"PUT small body retried", "PUT", []byte("x=1"), false, false, 200, 2},
		{"POST small body retried when replay-safe", "POST", []byte("x=1"), false, true, 200, 2},
		{"POST not retried unless replay-safe", "POST", []byte("x=1"), false, false, 401, 1},
		{"PUT big streamed body not retried", "PUT", bytes.Repeat([]byte("b"), 100), false, true, 401, 1},
		{"signed GET retried with a new signature", "GET", nil, true, false, 200, 2},
		{"signed big spooled body retried", "PUT", bytes.Repeat([]byte("b"), 100), true, true, 200, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, got := upstream(t, nil)
			src := &fakeSource{perRequest: tt.perRequest, replaySafe: tt.replaySafe}
			var log bytes.Buffer
			px := start(t, up, src, &syncWriter{w: &log}, func(o *Options) { o.ReplayLimit = 16 })
			var body io.Reader
			if tt.body != nil {
				body = bytes.NewReader(tt.body)
			}
			resp, out := do(t, tt.method, px.URL+"/api/strict", body)
			if resp.StatusCode != tt.wantStatus || len(got()) != tt.wantSent || src.challenges.Load() != 1 {
				t.Fatalf("status %d, %d requests sent, %d challenges; want %d, %d, 1 (%s)", resp.StatusCode, len(got()), src.challenges.Load(), tt.wantStatus, tt.wantSent, out)
			}
			last := got()[len(got())-1]
			if last.BodyLen != len(tt.body) {
				t.Errorf("the upstream got %d bytes, want %d", last.BodyLen, len(tt.body))
			}
			if tt.wantStatus == 401 {
				if out != "expired" || strings.Count(log.String(), "\n") != 1 || !strings.Contains(log.String(), "not retried") {
					t.Errorf("the client got %q, the log %q; want the server's refusal and one line saying why", out, log.String())
				}
				// The renewed credential serves the next request.
				if resp, _ := do(t, "GET", px.URL+"/api/strict", nil); resp.StatusCode != 200 {
					t.Errorf("next request: %d", resp.StatusCode)
				}
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// Redirects are passed through, not followed; one to the upstream origin
// points at the proxy.
func TestRedirectsPassThrough(t *testing.T) {
	up, got := upstream(t, nil)
	px := start(t, up, &fakeSource{}, nil, nil)
	tests := []struct{ to, want string }{
		{up.URL + "/api/next?q=1", px.URL + "/api/next?q=1"},
		{"/api/relative", "/api/relative"},
		{"https://elsewhere.example/x", "https://elsewhere.example/x"},
	}
	for _, tt := range tests {
		resp, _ := do(t, "GET", px.URL+"/api/redirect?to="+url.QueryEscape(tt.to), nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.want {
			t.Errorf("Location %q → %d %q, want 302 %q", tt.to, resp.StatusCode, resp.Header.Get("Location"), tt.want)
		}
	}
	if n := len(got()); n != len(tests) {
		t.Errorf("the upstream saw %d requests: the proxy followed a redirect", n)
	}
}

// Requests a web page could make the browser send, or that name another
// host (DNS rebinding), are refused before anything is sent.
func TestRefusals(t *testing.T) {
	up, got := upstream(t, nil)
	px := start(t, up, &fakeSource{}, nil, nil)
	self := strings.TrimPrefix(px.URL, "http://")
	tests := []struct {
		name   string
		method string
		hdr    []string
		status int
	}{
		{"another host", "GET", []string{"Host", "evil.example:80"}, http.StatusMisdirectedRequest},
		{"another origin", "POST", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", "GET", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"CONNECT", "CONNECT", nil, http.StatusMethodNotAllowed},
		{"own origin", "POST", []string{"Origin", "http://" + self, "Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"localhost", "GET", []string{"Host", strings.Replace(self, "127.0.0.1", "LOCALHOST", 1)}, http.StatusMisdirectedRequest},
	}
	for _, tt := range tests {
		before := len(got())
		resp, body := do(t, tt.method, px.URL+"/api/x", nil, tt.hdr...)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %q, want %d", tt.name, resp.StatusCode, body, tt.status)
		}
		if sent := len(got()) - before; (tt.status == 200) != (sent == 1) {
			t.Errorf("%s: %d requests reached the upstream", tt.name, sent)
		}
	}
}

// An unreachable upstream is a 502 with one line, and one line of log.
func TestUpstreamDown(t *testing.T) {
	up, _ := upstream(t, nil)
	var log bytes.Buffer
	px := start(t, up, &fakeSource{}, &syncWriter{w: &log}, nil)
	up.Close()
	resp, body := do(t, "GET", px.URL+"/api/x?token=s3cret-query", nil)
	if resp.StatusCode != http.StatusBadGateway || strings.Count(body, "\n") != 1 || !strings.HasPrefix(body, "authx proxy: ") {
		t.Errorf("%d %q, want 502 and one line", resp.StatusCode, body)
	}
	if strings.Count(log.String(), "\n") != 1 || strings.Contains(log.String()+body, "s3cret-query") {
		t.Errorf("log %q", log.String())
	}
}

// A streamed response reaches the client as it comes.
func TestStreamedResponseIsFlushed(t *testing.T) {
	release := make(chan struct{})
	up, _ := upstream(t, release)
	px := start(t, up, &fakeSource{}, nil, nil)
	resp, err := http.Get(px.URL + "/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		first <- line
	}()
	select {
	case line := <-first:
		if line != "first\n" {
			t.Errorf("first line %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Error("the first chunk did not arrive before the response ended")
	}
	close(release)
}

func TestNewRefusesBadUpstream(t *testing.T) {
	for _, raw := range []string{"", "ftp://x/", "http://", "/relative"} {
		u, _ := url.Parse(raw)
		if _, err := New(Options{Upstream: u, Source: &fakeSource{}}); err == nil || core.KindOf(err) != core.KindConfig {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func TestRewriteLocation(t *testing.T) {
	up, _ := url.Parse("https://api.example.com")
	const base = "http://127.0.0.1:8080"
	tests := []struct{ in, want string }{
		{"https://api.example.com/a/b?c=d#f", base + "/a/b?c=d#f"},
		{"https://API.example.com:443/a", base + "/a"},
		{"//api.example.com/a", base + "/a"},
		{"https://user:pw@api.example.com/a", base + "/a"},
		{"http://api.example.com/a", "http://api.example.com/a"}, // another scheme is another origin
		{"https://api.example.com:8443/a", "https://api.example.com:8443/a"},
		{"https://evil.example/a", "https://evil.example/a"},
		{"/a/b", "/a/b"},
		{"a/b", "a/b"},
		{"%zz", "%zz"},
	}
	for _, tt := range tests {
		if got := RewriteLocation(tt.in, up, base); got != tt.want {
			t.Errorf("RewriteLocation(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRewriteLocation(f *testing.F) {
	for _, s := range []string{"https://api.example.com/a?b#c", "//api.example.com/x", "/rel", "https://other/", "https://api.example.com:443/%2F", "http://[::1]/"} {
		f.Add(s)
	}
	up, _ := url.Parse("https://api.example.com")
	const base = "http://127.0.0.1:8080"
	f.Fuzz(func(t *testing.T, loc string) {
		got := RewriteLocation(loc, up, base)
		if got == loc {
			return
		}
		// Rewritten: it points at the proxy, and only because it pointed at
		// the upstream origin, with the same path and query.
		in, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("%q does not parse but was rewritten to %q", loc, got)
		}
		out, err := url.Parse(got)
		if err != nil || out.Scheme != "http" || out.Host != "127.0.0.1:8080" || out.User != nil {
			t.Fatalf("%q → %q: not on the proxy", loc, got)
		}
		if !strings.EqualFold(in.Hostname(), "api.example.com") || out.EscapedPath() != in.EscapedPath() || out.RawQuery != in.RawQuery {
			t.Fatalf("%q → %q", loc, got)
		}
	})
}
