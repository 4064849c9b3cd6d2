package jwt

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// loginAt logs in with a login-mode profile whose endpoint is url.
func loginAt(t *testing.T, url string, extra core.Config) (*core.Credential, error) {
	t.Helper()
	cfg := core.Config{"login_url": url, "username": "alice", "password": "hunter2-secret"}
	for k, v := range extra {
		cfg[k] = v
	}
	return New().Login(context.Background(), core.LoginRequest{Config: cfg})
}

func TestExchangeScrubsEchoedSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), "hunter2-secret") || r.Header.Get("X-Api-Key") != "key-0123456789" {
			t.Errorf("the request lacks the credentials: %s %v", body, r.Header)
		}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"password hunter2-secret with key key-0123456789 is wrong for alice"}`)
	}))
	defer srv.Close()
	_, err := loginAt(t, srv.URL+"/login?sig=abc", core.Config{"headers": map[string]any{"X-Api-Key": "key-0123456789"}})
	requireKind(t, err, core.KindRejected, "HTTP 401: password *** with key *** is wrong for alice", []byte("hunter2-secret"), []byte("key-0123456789"))
	if strings.Contains(err.Error(), "sig=abc") {
		t.Fatalf("the query leaked: %v", err)
	}
}

func TestExchangeRedirects(t *testing.T) {
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect-away" {
			t.Error("the redirect to another host was followed")
		}
		io.WriteString(w, `{"token":"opaque-token"}`)
	}))
	defer final.Close()
	// The same server under another host name: localhost instead of 127.0.0.1.
	elsewhere := strings.Replace(final.URL, "127.0.0.1", "localhost", 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login": // like Django's APPEND_SLASH, but keeping the method
			http.Redirect(w, r, "/login/", http.StatusPermanentRedirect)
		case "/login/":
			io.WriteString(w, `{"token":"opaque-token"}`)
		case "/away":
			http.Redirect(w, r, elsewhere+"/redirect-away?code=1", http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()

	c, err := loginAt(t, srv.URL+"/login", nil)
	if err != nil || c.Token != "opaque-token" {
		t.Fatalf("same-host redirect: %v %+v", err, c)
	}
	_, err = loginAt(t, srv.URL+"/away", nil)
	requireKind(t, err, core.KindConfig, "redirected to "+elsewhere+"/redirect-away, and authx sends no credentials to another origin")
	// The same host on another port is another origin: client_secret_basic
	// and the body would reach whatever listens there.
	otherPort := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect to another port was followed: %s %q", r.URL, r.Header.Get("Authorization"))
	}))
	defer otherPort.Close()
	hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherPort.URL+"/token", http.StatusTemporaryRedirect)
	}))
	defer hop.Close()
	_, err = New().Login(context.Background(), core.LoginRequest{Config: core.Config{"mode": "oauth2", "token_url": hop.URL + "/token",
		"grant": "client_credentials", "client_id": "cli", "client_secret": "s3cret-client"}})
	requireKind(t, err, core.KindConfig, "redirected to "+otherPort.URL+"/token", []byte("s3cret-client"))
	if strings.Contains(err.Error(), "code=1") {
		t.Fatalf("the query leaked: %v", err)
	}
}

func TestExchangeAnswerTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"token":"x","pad":"`+strings.Repeat("a", maxBody)+`"}`)
	}))
	defer srv.Close()
	_, err := loginAt(t, srv.URL+"/login", nil)
	requireKind(t, err, core.KindBadAnswer, "the answer is larger than 1048576 bytes")
}

// Each way a login endpoint can fail has its own kind, so that a script
// can tell a wrong URL from a server that is down or slow.
func TestExchangeFailureKinds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"message":"maintenance"}`)
		case "/moved": // a 3xx without Location: net/http hands it back
			w.WriteHeader(http.StatusMultipleChoices)
		case "/missing":
			http.NotFound(w, r)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()
	tests := []struct {
		path  string
		extra core.Config
		kind  core.Kind
		want  string
	}{
		{"/down", nil, core.KindHTTPServer, "HTTP 503: maintenance"},
		{"/moved", nil, core.KindBadAnswer, "HTTP 300"},
		{"/missing", nil, core.KindConfig, "HTTP 404"},
		{"/slow", core.Config{"timeout": "100ms"}, core.KindTimeout, "no answer within 100ms"},
		{"/loop", nil, core.KindBadAnswer, "stopped after 10 redirects"},
	}
	for _, tt := range tests {
		_, err := loginAt(t, srv.URL+tt.path, tt.extra)
		requireKind(t, err, tt.kind, tt.want)
	}
}

func TestExchangeLifetime(t *testing.T) {
	tests := []struct {
		v    any
		want time.Duration
	}{
		{3600.0, time.Hour},
		{"90", 90 * time.Second},
		{0.5, 500 * time.Millisecond},
		{0.0, 0},
		{-5.0, 0},
		{1e300, 0}, // does not fit a time.Duration: unknown, not a wrapped-around expiry
		{"Inf", 0},
		{"NaN", 0},
		{math.MaxInt64 / 1e9, 0},
		{"soon", 0},
		{true, 0},
		{nil, 0},
	}
	for _, tt := range tests {
		if got := lifetime(map[string]any{"expires_in": tt.v}, "expires_in"); got != tt.want {
			t.Errorf("lifetime(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
	// The first path with a usable value wins.
	doc := map[string]any{"expires_in": "never", "data": map[string]any{"expiresIn": 60.0}}
	if got := lifetime(doc, "expires_in", "data.expiresIn"); got != time.Minute {
		t.Errorf("fallback path: %v", got)
	}
}

func TestMessagesOneLine(t *testing.T) {
	if got := oneLine("  a\n\tb   c ", 10); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
	// A cut never splits a rune.
	if got := oneLine(strings.Repeat("é", 5), 3); got != "ééé…" || !utf8.ValidString(got) {
		t.Errorf("oneLine = %q", got)
	}
	if got := printable("a\"\n" + strings.Repeat("x", 100)); got != `"a\"\n`+strings.Repeat("x", 61)+`…"` {
		t.Errorf("printable = %s", got)
	}
	if got := redact.RawURL("https://u:p@example.com/p?q=1#f"); got != "https://example.com/p" {
		t.Errorf("redact = %s", got)
	}
	if got := redact.Secrets("token abcd and ab", "abcd", "ab", ""); got != "token *** and ab" {
		t.Errorf("scrub = %q", got)
	}
}

// A refused refresh token is KindLoginRequired, and neither it nor the
// client secret reaches the message when the server echoes them.
func TestOAuth2RefreshRefusedIsScrubbed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token `+r.PostForm.Get("refresh_token")+` of client secret `+r.PostForm.Get("client_secret")+` expired"}`)
	}))
	defer srv.Close()
	state := []byte(`{"refresh_token":"rt-0123456789"}`)
	_, err := New().Refresh(context.Background(), core.RefreshRequest{
		Config:     core.Config{"mode": "oauth2", "token_url": srv.URL, "client_id": "c", "client_secret": "cs-0123456789", "client_auth": "body"},
		Credential: &core.Credential{Token: "old", State: state},
	})
	requireKind(t, err, core.KindLoginRequired, "the refresh token was refused; request a new token: refresh "+srv.URL+": HTTP 400: refresh token *** of client secret *** expired (invalid_grant)",
		[]byte("rt-0123456789"), []byte("cs-0123456789"))
}

func TestSchemeChallengeScrubsTheToken(t *testing.T) {
	res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{
		Config:     core.Config{"mode": "login"},
		Credential: &core.Credential{Token: "tok-0123456789", State: []byte(`{"refresh_token":"rt-0123456789"}`)},
		Request:    core.HTTPRequest{Method: "GET", URL: "https://api.example.com/x"},
		Response:   core.HTTPResponse{Status: 403, BodyPrefix: []byte(`{"message":"token tok-0123456789 (refresh rt-0123456789) may not read x"}`)},
	})
	requireKind(t, err, core.KindForbidden, "forbidden: GET https://api.example.com/x answered HTTP 403: token *** (refresh ***) may not read x",
		[]byte("tok-0123456789"), []byte("rt-0123456789"))
	if res.Diagnosis != "" {
		t.Errorf("diagnosis beside the error: %+v", res)
	}
}

// A secret straddling the cut of a long message, or a literal value of the
// login body, is scrubbed too.
func TestExchangeScrubsBeforeCutting(t *testing.T) {
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	answer = `{"message":"` + strings.Repeat("x", 290) + ` bad password: hunter2-secret"}`
	_, err := loginAt(t, srv.URL, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a password at the cut: %v", err)
	}
	answer = `{"message":"bad api key: sk-ABCDEFGH12345"}`
	_, err = loginAt(t, srv.URL, core.Config{"body": map[string]any{"user": "{{username}}", "key": "sk-ABCDEFGH12345"}})
	if err == nil || strings.Contains(err.Error(), "sk-ABCDEFGH12345") || !strings.Contains(err.Error(), "bad api key: ***") {
		t.Errorf("a literal body secret: %v", err)
	}
}
