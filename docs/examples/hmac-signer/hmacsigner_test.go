package hmacsigner_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core"

	hmacsigner "example.com/authx-hmac-signer"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The example of README.md.
const (
	exampleKeyID  = "orders-client-1"
	exampleSecret = "example-secret-example-secret-0123"
	exampleDate   = "2026-03-01T12:00:00Z"
	exampleNonce  = "00112233445566778899aabbccddeeff"
	exampleURL    = "https://api.example.com/v1/orders?sort=desc&b=%7Ex&a=1&a=0&q=hello+world"
	exampleBody   = `{"id":1}`
	// exampleSignature was computed independently of this package:
	//	openssl dgst -sha256 -hmac example-secret-example-secret-0123 -binary \
	//	  <testdata/canonical/readme-example.txt | base64
	exampleSignature = "gFdW1pgEY4Lv60DhvWELMGlzxg0UYHbHMrF9bL7FhO0="
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hexString(sum[:])
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestCanonical checks canonical strings against the golden files in
// testdata/canonical, which other implementations can test against too.
func TestCanonical(t *testing.T) {
	tests := []struct {
		name, method, url, body string
	}{
		{"readme-example", "POST", exampleURL, exampleBody},
		{"empty-path-no-body", "GET", "https://api.example.com", ""},
		{"escaped-path", "GET", "https://api.example.com/files/a%20b/c%2Fd/caf%C3%A9?x", ""},
		{"query-edge-cases", "GET", "https://api.example.com/q?b=2&a=&a&=v&&c=%2b&d=+&e=%7e&f=%C3%A9&g=a%20b", ""},
		{"semicolon-in-query", "DELETE", "https://api.example.com/items/7?a=1;b=2", ""},
		{"method-case-kept", "patch", "https://api.example.com/items/7", `{"done":true}`},
		{"same-name-sorted-by-value", "GET", "https://api.example.com/?z=1&y=2&y=10&y=1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			c, err := hmacsigner.NewCanonical(tt.method, u, exampleDate, exampleNonce, hexSHA256(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "canonical", tt.name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(c.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if c.String() != string(want) {
				t.Errorf("canonical string:\n%s\nwant (%s):\n%s", c, golden, want)
			}
		})
	}
}

func TestCanonicalQueryRejectsBadEscapes(t *testing.T) {
	for _, q := range []string{"a=%zz", "%4=1", "a=%"} {
		if got, err := hmacsigner.CanonicalQuery(q); err == nil {
			t.Errorf("CanonicalQuery(%q) = %q, want an error", q, got)
		}
	}
}

func TestSignatureKnownAnswer(t *testing.T) {
	u, _ := url.Parse(exampleURL)
	c, err := hmacsigner.NewCanonical("POST", u, exampleDate, exampleNonce, hexSHA256(exampleBody))
	if err != nil {
		t.Fatal(err)
	}
	if got := hmacsigner.Signature([]byte(exampleSecret), c); got != exampleSignature {
		t.Errorf("Signature = %s, want %s", got, exampleSignature)
	}
}

func exampleConfig() core.Config {
	return core.Config{"key_id": exampleKeyID, "secret": exampleSecret}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		cfg        core.Config
		wantFields []string
		wantMsg    string
	}{
		{exampleConfig(), nil, ""},
		{core.Config{"key_id": "has space", "secret": exampleSecret}, []string{"key_id"}, "A-Z a-z 0-9"},
		{core.Config{"key_id": "a,b", "secret": exampleSecret}, []string{"key_id"}, "unquoted"},
		{core.Config{"key_id": strings.Repeat("k", 129), "secret": exampleSecret}, []string{"key_id"}, "1 to 128"},
		{core.Config{"key_id": "k", "secret": strings.Repeat("s", 31)}, []string{"secret"}, "shorter than 32 bytes"},
		{core.Config{"key_id": "", "secret": ""}, []string{"key_id", "secret"}, ""},
	}
	for _, tt := range tests {
		ds := hmacsigner.New().Configure(context.Background(), tt.cfg)
		var fields []string
		for _, d := range ds {
			fields = append(fields, d.Field)
			if d.Severity != core.SeverityError || !strings.Contains(d.Message, tt.wantMsg) {
				t.Errorf("%v: diagnostic %+v, want an error containing %q", tt.cfg["key_id"], d, tt.wantMsg)
			}
			if strings.Contains(d.Message, exampleSecret) {
				t.Errorf("diagnostic leaks the secret: %q", d.Message)
			}
		}
		if strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
			t.Errorf("%v: diagnostics on %v, want %v", tt.cfg["key_id"], fields, tt.wantFields)
		}
	}
}

func TestLogin(t *testing.T) {
	c, err := hmacsigner.New().Login(context.Background(), core.LoginRequest{Config: exampleConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if !c.PerRequest || c.Token != exampleKeyID || len(c.Headers) != 0 || len(c.State) != 0 || !c.ExpiresAt.IsZero() {
		t.Errorf("credential = %+v, want PerRequest and the key id as its token, nothing else", c)
	}
	_, err = hmacsigner.New().Login(context.Background(), core.LoginRequest{Config: core.Config{"key_id": "k", "secret": "tiny-secret"}})
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Kind != core.KindConfig || strings.Contains(err.Error(), "tiny-secret") {
		t.Errorf("Login with a short secret = %v, want a configuration error without the secret", err)
	}
}

// fixedScheme signs at t0 with the example nonce.
func fixedScheme() *hmacsigner.Scheme {
	nonce := []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	return &hmacsigner.Scheme{Now: func() time.Time { return t0.In(time.FixedZone("CET", 3600)) }, Rand: bytes.NewReader(nonce)}
}

func TestApply(t *testing.T) {
	sum := sha256.Sum256([]byte(exampleBody))
	res, err := fixedScheme().Apply(context.Background(), core.ApplyRequest{Config: exampleConfig(),
		Credential: &core.Credential{PerRequest: true},
		Request:    core.HTTPRequest{Method: "POST", URL: exampleURL, Header: http.Header{}, BodySHA256: sum[:]}})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != nil {
		t.Errorf("State = %q, want nil (unchanged)", res.State)
	}
	hs := res.Headers
	want := []core.Header{
		{Name: "X-Authx-Date", Value: exampleDate},
		{Name: "X-Authx-Nonce", Value: exampleNonce},
		{Name: "X-Content-SHA256", Value: hexSHA256(exampleBody)},
		{Name: "Authorization", Value: "AUTHX-HMAC-SHA256 KeyId=orders-client-1, SignedHeaders=x-authx-date;x-authx-nonce;x-content-sha256, Signature=" + exampleSignature},
	}
	if len(hs) != len(want) {
		t.Fatalf("headers = %v, want %v", hs, want)
	}
	for i := range want {
		if hs[i] != want[i] {
			t.Errorf("header %d = %s: %s, want %s: %s", i, hs[i].Name, hs[i].Value, want[i].Name, want[i].Value)
		}
	}
}

func TestApplyNeedsTheBodyDigest(t *testing.T) {
	_, err := hmacsigner.New().Apply(context.Background(), core.ApplyRequest{Config: exampleConfig(),
		Request: core.HTTPRequest{Method: "GET", URL: "https://api.example.com/"}})
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Kind != core.KindPlugin || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("Apply without BodySHA256 = %v, want a plugin error naming the digest", err)
	}
}

// signed returns a server-side request for method and target (absolute URL)
// with body, signed by s as the authx host would: the body's SHA-256, then
// Apply's headers.
func signed(t *testing.T, s *hmacsigner.Scheme, cfg core.Config, method, target, body string) *http.Request {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	res, err := s.Apply(context.Background(), core.ApplyRequest{Config: cfg, Credential: &core.Credential{PerRequest: true},
		Request: core.HTTPRequest{Method: method, URL: target, Header: http.Header{}, BodySHA256: sum[:]}})
	if err != nil {
		t.Fatal(err)
	}
	hs := res.Headers
	u, _ := url.Parse(target)
	r := httptest.NewRequest(method, u.RequestURI(), strings.NewReader(body))
	r.Host = u.Host
	for _, h := range hs {
		r.Header.Set(h.Name, h.Value)
	}
	return r
}

// backend is the handler behind Verify: it records what it was given.
type backend struct {
	calls atomic.Int32
	mu    sync.Mutex
	keyID string
	body  string
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	id, _ := hmacsigner.KeyID(r.Context())
	b.mu.Lock()
	b.keyID, b.body = id, string(body)
	b.mu.Unlock()
	io.WriteString(w, "ok")
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
func newClock(t time.Time) *clock    { return &clock{now: t} }
func keys() map[string][]byte        { return map[string][]byte{exampleKeyID: []byte(exampleSecret)} }
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRoundTrip(t *testing.T) {
	tests := []struct{ name, method, url, body string }{
		{"post with body", "POST", exampleURL, exampleBody},
		{"get without body", "GET", "http://127.0.0.1:8080/v1/orders", ""},
		{"escapes and repeated parameters", "PUT", "https://api.example.com/a%2Fb/caf%C3%A9?x=1&x=0&y=a+b&z=%7E", "x"},
		{"empty path", "GET", "https://api.example.com", ""},
	}
	s := &hmacsigner.Scheme{Now: newClock(t0).Now}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b backend
			h := hmacsigner.Verify(keys(), &b, hmacsigner.WithClock(newClock(t0.Add(3*time.Minute)).Now))
			w := serve(h, signed(t, s, exampleConfig(), tt.method, tt.url, tt.body))
			if w.Code != http.StatusOK || b.calls.Load() != 1 {
				t.Fatalf("status %d, backend called %d times: %s", w.Code, b.calls.Load(), w.Body)
			}
			if b.keyID != exampleKeyID || b.body != tt.body {
				t.Errorf("backend saw key id %q and body %q, want %q and %q", b.keyID, b.body, exampleKeyID, tt.body)
			}
		})
	}
}

// The path is taken from the request line, so Verify may sit inside
// http.StripPrefix.
func TestRoundTripBehindStripPrefix(t *testing.T) {
	var b backend
	h := http.StripPrefix("/api", hmacsigner.Verify(keys(), &b, hmacsigner.WithClock(newClock(t0).Now)))
	s := &hmacsigner.Scheme{Now: newClock(t0).Now}
	if w := serve(h, signed(t, s, exampleConfig(), "GET", "https://api.example.com/api/v1/orders?a=1", "")); w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// rejection checks that w is a refusal for reason and returns its body.
func rejection(t *testing.T, w *httptest.ResponseRecorder, status int, reason hmacsigner.Reason) hmacsigner.Rejection {
	t.Helper()
	var rej hmacsigner.Rejection
	if err := json.Unmarshal(w.Body.Bytes(), &rej); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if w.Code != status || rej.Reason != reason {
		t.Fatalf("status %d reason %q (%s), want %d %q", w.Code, rej.Reason, rej.Message, status, reason)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if status == http.StatusUnauthorized {
		if got, want := w.Header().Get("WWW-Authenticate"), `AUTHX-HMAC-SHA256 error="`+string(reason)+`"`; got != want {
			t.Errorf("WWW-Authenticate %q, want %q", got, want)
		}
	}
	if strings.Contains(w.Body.String(), exampleSecret) {
		t.Errorf("the refusal leaks the secret: %s", w.Body)
	}
	return rej
}

func TestVerifyRejects(t *testing.T) {
	s := &hmacsigner.Scheme{Now: newClock(t0).Now}
	sign := func(t *testing.T) *http.Request {
		return signed(t, s, exampleConfig(), "POST", exampleURL, exampleBody)
	}
	tests := []struct {
		name   string
		clock  time.Time // the server's
		tamper func(t *testing.T, r *http.Request) *http.Request
		status int
		reason hmacsigner.Reason
	}{
		{"altered body", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Body = io.NopCloser(strings.NewReader(`{"id":2}`))
			return r
		}, 401, hmacsigner.ReasonBodyMismatch},
		{"altered body with its digest", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Body = io.NopCloser(strings.NewReader(`{"id":2}`))
			r.Header.Set("X-Content-SHA256", hexSHA256(`{"id":2}`))
			return r
		}, 401, hmacsigner.ReasonBadSignature},
		{"altered query", t0, func(t *testing.T, r *http.Request) *http.Request {
			return withTarget(r, "/v1/orders?sort=asc&b=%7Ex&a=1&a=0&q=hello+world")
		}, 401, hmacsigner.ReasonBadSignature},
		{"added query parameter", t0, func(t *testing.T, r *http.Request) *http.Request {
			return withTarget(r, "/v1/orders?sort=desc&b=%7Ex&a=1&a=0&q=hello+world&admin=1")
		}, 401, hmacsigner.ReasonBadSignature},
		{"+ turned into %2B", t0, func(t *testing.T, r *http.Request) *http.Request {
			return withTarget(r, "/v1/orders?sort=desc&b=%7Ex&a=1&a=0&q=hello%2Bworld")
		}, 401, hmacsigner.ReasonBadSignature},
		{"altered path", t0, func(t *testing.T, r *http.Request) *http.Request {
			return withTarget(r, "/v1/orders/../admin?sort=desc&b=%7Ex&a=1&a=0&q=hello+world")
		}, 401, hmacsigner.ReasonBadSignature},
		{"altered method", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Method = "PUT"
			return r
		}, 401, hmacsigner.ReasonBadSignature},
		{"altered date", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Set("X-Authx-Date", "2026-03-01T12:00:01Z")
			return r
		}, 401, hmacsigner.ReasonBadSignature},
		{"old timestamp", t0.Add(5*time.Minute + time.Second), nil, 401, hmacsigner.ReasonClockSkew},
		{"timestamp from the future", t0.Add(-5*time.Minute - time.Second), nil, 401, hmacsigner.ReasonClockSkew},
		{"unknown key id", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), exampleKeyID, "someone-else", 1))
			return r
		}, 401, hmacsigner.ReasonUnknownKey},
		{"wrong secret", t0, func(t *testing.T, r *http.Request) *http.Request {
			return signed(t, s, core.Config{"key_id": exampleKeyID, "secret": strings.Repeat("x", 32)}, "POST", exampleURL, exampleBody)
		}, 401, hmacsigner.ReasonBadSignature},
		{"no signature", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Del("Authorization")
			return r
		}, 401, hmacsigner.ReasonMissingSignature},
		{"another scheme", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Set("Authorization", "Bearer x")
			return r
		}, 401, hmacsigner.ReasonMissingSignature},
		{"other signed headers", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-content-sha256", "", 1))
			return r
		}, 401, hmacsigner.ReasonMalformed},
		{"two dates", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Add("X-Authx-Date", exampleDate)
			return r
		}, 401, hmacsigner.ReasonMalformed},
		{"date with a zone", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Set("X-Authx-Date", "2026-03-01T13:00:00+01:00")
			return r
		}, 401, hmacsigner.ReasonMalformed},
		{"short nonce", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Set("X-Authx-Nonce", "0011")
			return r
		}, 401, hmacsigner.ReasonMalformed},
		{"no body digest", t0, func(t *testing.T, r *http.Request) *http.Request {
			r.Header.Del("X-Content-SHA256")
			return r
		}, 401, hmacsigner.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b backend
			h := hmacsigner.Verify(keys(), &b, hmacsigner.WithClock(newClock(tt.clock).Now))
			r := sign(t)
			if tt.tamper != nil {
				r = tt.tamper(t, r)
			}
			rej := rejection(t, serve(h, r), tt.status, tt.reason)
			if b.calls.Load() != 0 {
				t.Error("the backend was called")
			}
			if tt.reason == hmacsigner.ReasonClockSkew && rej.ServerTime != tt.clock.Format(hmacsigner.DateFormat) {
				t.Errorf("server_time = %q", rej.ServerTime)
			}
			if tt.reason == hmacsigner.ReasonBadSignature && !strings.HasPrefix(rej.Canonical, "AUTHX-HMAC-SHA256\n") {
				t.Errorf("canonical = %q", rej.Canonical)
			}
		})
	}
}

// withTarget changes the request line's target.
func withTarget(r *http.Request, target string) *http.Request {
	r.RequestURI = target
	r.URL, _ = url.ParseRequestURI(target)
	return r
}

func TestVerifyRejectsReplay(t *testing.T) {
	var b backend
	c := newClock(t0)
	h := hmacsigner.Verify(keys(), &b, hmacsigner.WithClock(c.Now))
	s := &hmacsigner.Scheme{Now: newClock(t0).Now}
	r := signed(t, s, exampleConfig(), "POST", exampleURL, exampleBody)
	again := r.Clone(context.Background())
	again.Body = io.NopCloser(strings.NewReader(exampleBody))
	if w := serve(h, r); w.Code != http.StatusOK {
		t.Fatalf("first: %d %s", w.Code, w.Body)
	}
	c.Add(5 * time.Minute) // the last second the date is accepted, and so the nonce remembered
	rejection(t, serve(h, again), 401, hmacsigner.ReasonReplay)
	if b.calls.Load() != 1 {
		t.Errorf("backend called %d times, want 1", b.calls.Load())
	}
	// A fresh signature of the same request is accepted.
	if w := serve(h, signed(t, &hmacsigner.Scheme{Now: c.Now}, exampleConfig(), "POST", exampleURL, exampleBody)); w.Code != http.StatusOK {
		t.Fatalf("fresh signature: %d %s", w.Code, w.Body)
	}
}

// Copies of one signed request sent at once: exactly one gets through.
func TestVerifyConcurrentReplays(t *testing.T) {
	var b backend
	h := hmacsigner.Verify(keys(), &b, hmacsigner.WithClock(newClock(t0).Now))
	r := signed(t, &hmacsigner.Scheme{Now: newClock(t0).Now}, exampleConfig(), "POST", exampleURL, exampleBody)
	const n = 16
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range n {
		c := r.Clone(context.Background())
		c.Body = io.NopCloser(strings.NewReader(exampleBody))
		wg.Go(func() {
			if serve(h, c).Code == http.StatusOK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || b.calls.Load() != 1 {
		t.Errorf("%d of %d copies accepted, want 1", ok.Load(), n)
	}
}

// The in-memory nonce store is bounded: full, it refuses (fails closed);
// nonces are forgotten once their request's date leaves the window.
func TestVerifyNonceMemoryIsBounded(t *testing.T) {
	c := newClock(t0)
	h := hmacsigner.Verify(keys(), http.NotFoundHandler(), hmacsigner.WithClock(c.Now), hmacsigner.WithMaxNonces(2))
	s := &hmacsigner.Scheme{Now: c.Now}
	for i := range 2 {
		if w := serve(h, signed(t, s, exampleConfig(), "GET", "https://api.example.com/", "")); w.Code != http.StatusNotFound {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	rejection(t, serve(h, signed(t, s, exampleConfig(), "GET", "https://api.example.com/", "")), 503, hmacsigner.ReasonReplayCheckUnavailable)
	c.Add(5*time.Minute + time.Second)
	if w := serve(h, signed(t, s, exampleConfig(), "GET", "https://api.example.com/", "")); w.Code != http.StatusNotFound {
		t.Fatalf("after the first nonces expired: %d %s", w.Code, w.Body)
	}
}

type failingStore struct{}

func (failingStore) Remember(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("redis: connection refused")
}

func TestVerifyFailsClosedWithoutNonceStore(t *testing.T) {
	var b backend
	h := hmacsigner.Verify(keys(), &b, hmacsigner.WithClock(newClock(t0).Now), hmacsigner.WithNonceStore(failingStore{}))
	rejection(t, serve(h, signed(t, &hmacsigner.Scheme{Now: newClock(t0).Now}, exampleConfig(), "GET", "https://api.example.com/", "")),
		503, hmacsigner.ReasonReplayCheckUnavailable)
	if b.calls.Load() != 0 {
		t.Error("the backend was called")
	}
}

func TestVerifyBodyLimit(t *testing.T) {
	var b backend
	h := hmacsigner.Verify(keys(), &b, hmacsigner.WithClock(newClock(t0).Now), hmacsigner.WithMaxBody(8))
	s := &hmacsigner.Scheme{Now: newClock(t0).Now}
	if w := serve(h, signed(t, s, exampleConfig(), "POST", exampleURL, "12345678")); w.Code != http.StatusOK {
		t.Fatalf("8 bytes: %d %s", w.Code, w.Body)
	}
	rejection(t, serve(h, signed(t, s, exampleConfig(), "POST", exampleURL, "123456789")), 413, hmacsigner.ReasonBodyTooLarge)
}

func TestVerifyPanicsOnShortSecret(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || strings.Contains(r.(string), "short-secret") {
			t.Errorf("recover() = %v, want a panic naming the key id only", r)
		}
	}()
	hmacsigner.Verify(map[string][]byte{"k": []byte("short-secret")}, http.NotFoundHandler())
}

// TestHandleChallenge feeds the verifier's real refusals to the scheme, as
// the authx host would.
func TestHandleChallenge(t *testing.T) {
	client := &hmacsigner.Scheme{Now: newClock(t0).Now}
	tests := []struct {
		name     string
		server   time.Time
		keys     map[string][]byte
		request  func(t *testing.T) *http.Request // as the client signed it
		received func(r *http.Request) *http.Request
		want     []string
	}{
		{name: "clock ahead", server: t0.Add(-7*time.Minute - 12*time.Second),
			want: []string{"clock is 7m12s ahead of the server's", "NTP", "every new signature is refused too"}},
		{name: "clock behind", server: t0.Add(10 * time.Minute),
			want: []string{"clock is 10m0s behind the server's"}},
		{name: "wrong secret", server: t0, keys: map[string][]byte{exampleKeyID: bytes.Repeat([]byte("x"), 32)},
			want: []string{`secret for key id "orders-client-1" does not match the server's`, "would not help"}},
		{name: "path rewritten by a proxy", server: t0, received: func(r *http.Request) *http.Request {
			return withTarget(r, "/api/v1/orders?sort=desc&b=%7Ex&a=1&a=0&q=hello+world")
		}, want: []string{"the server saw path /api/v1/orders where authx signed /v1/orders"}},
		{name: "query rewritten", server: t0, received: func(r *http.Request) *http.Request {
			return withTarget(r, "/v1/orders?sort=desc")
		}, want: []string{"different query than authx signed"}},
		{name: "body changed", server: t0, received: func(r *http.Request) *http.Request {
			r.Body = io.NopCloser(strings.NewReader("{}"))
			return r
		}, want: []string{"does not match the SHA-256 authx signed"}},
		{name: "unknown key", server: t0, keys: map[string][]byte{"other": []byte(exampleSecret)},
			want: []string{`does not know key id "orders-client-1"`}},
		{name: "signature stripped", server: t0, received: func(r *http.Request) *http.Request {
			r.Header.Del("Authorization")
			return r
		}, want: []string{"received no AUTHX-HMAC-SHA256 signature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.keys
			if k == nil {
				k = keys()
			}
			h := hmacsigner.Verify(k, http.NotFoundHandler(), hmacsigner.WithClock(newClock(tt.server).Now))
			sent := signed(t, client, exampleConfig(), "POST", exampleURL, exampleBody)
			received := sent.Clone(context.Background())
			received.Body = sent.Body
			if tt.received != nil {
				received = tt.received(received)
			}
			w := serve(h, received)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("the verifier answered %d", w.Code)
			}
			got := challenge(t, sent, w)
			for _, s := range tt.want {
				if !strings.Contains(got, s) {
					t.Errorf("diagnosis %q\ndoes not say %q", got, s)
				}
			}
		})
	}
}

// challenge calls HandleChallenge as the host would after w's answer to
// sent, and returns the diagnosis of a DecisionFail.
func challenge(t *testing.T, sent *http.Request, w *httptest.ResponseRecorder) string {
	t.Helper()
	header := sent.Header.Clone()
	header.Del("Authorization") // the host never shows a plugin credentials again
	res, err := hmacsigner.New().HandleChallenge(context.Background(), core.ChallengeRequest{Config: exampleConfig(),
		Request:  core.HTTPRequest{Method: sent.Method, URL: "https://api.example.com" + sent.RequestURI, Header: header},
		Response: core.HTTPResponse{Status: w.Code, Header: w.Header(), BodyPrefix: w.Body.Bytes()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decision != core.DecisionFail || res.Credential != nil || strings.Contains(res.Diagnosis, "\n") {
		t.Fatalf("challenge answer %+v, want a one-line DecisionFail", res)
	}
	return res.Diagnosis
}

func TestHandleChallengeWithoutVerifier(t *testing.T) {
	sent := signed(t, hmacsigner.New(), exampleConfig(), "GET", "https://api.example.com/x?token=s3cret", "")
	tests := []struct {
		status int
		header http.Header
		body   string
		want   string
	}{
		{401, http.Header{"Www-Authenticate": {`Basic realm="x"`}}, "", "without an AUTHX-HMAC-SHA256 reason"},
		{403, nil, "", `accepted the signature of key id "orders-client-1" but refuses it access to https://api.example.com/x (HTTP 403)`},
		{401, http.Header{"Www-Authenticate": {`AUTHX-HMAC-SHA256 error="quota"`}}, `{"message":"too many\nlines\u0007"}`, "the server refused the signature (quota): too many?lines?"},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		for k, v := range tt.header {
			w.Header()[k] = v
		}
		w.Code = tt.status
		w.Body = bytes.NewBufferString(tt.body)
		got := challenge(t, sent, w)
		if !strings.Contains(got, tt.want) || strings.Contains(got, "s3cret") {
			t.Errorf("HTTP %d: diagnosis %q, want %q (and no query)", tt.status, got, tt.want)
		}
	}
}
