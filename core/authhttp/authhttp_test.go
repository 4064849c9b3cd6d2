package authhttp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

func bearer(tok string) *core.Credential {
	return &core.Credential{Token: tok, Headers: []core.Header{{Name: "Authorization", Value: "Bearer " + tok}},
		Cookies: []core.Cookie{{Name: "JSESSIONID.abcd1234", Value: "s1"}}}
}

func TestTransportAppliesOnlyInScopeAndLeavesTheRequestAlone(t *testing.T) {
	var gotAuth, gotCookie string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotCookie = r.Header.Get("Authorization"), r.Header.Get("Cookie")
	}))
	defer srv.Close()
	calls := 0
	src := SourceFunc(func(context.Context) (*core.Credential, error) { calls++; return bearer("t1"), nil })
	tr := &Transport{Source: src, Scope: []string{srv.URL + "/api"}}
	req, _ := http.NewRequest("GET", srv.URL+"/api/x", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gotAuth != "Bearer t1" || gotCookie != "JSESSIONID.abcd1234=s1" {
		t.Errorf("in scope: Authorization %q Cookie %q", gotAuth, gotCookie)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("RoundTrip modified the caller's request")
	}
	req, _ = http.NewRequest("GET", srv.URL+"/other", nil)
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gotAuth != "" || calls != 1 {
		t.Errorf("out of scope: Authorization %q, %d credential lookups", gotAuth, calls)
	}
	failing := &Transport{Source: SourceFunc(func(context.Context) (*core.Credential, error) {
		return nil, core.Errorf(core.KindLoginRequired, "login needs input")
	}), Scope: []string{srv.URL}}
	req, _ = http.NewRequest("GET", srv.URL+"/x", nil)
	if _, err := failing.RoundTrip(req); core.KindOf(err) != core.KindLoginRequired {
		t.Errorf("source error: %v", err)
	}
}

// challengeSource hands out t1, then t2 after a challenge.
type challengeSource struct {
	current    atomic.Value
	challenges atomic.Int32
	replaySafe bool
	fail       error
}

func (s *challengeSource) Credential(context.Context) (*core.Credential, error) {
	return bearer(s.current.Load().(string)), nil
}

func (s *challengeSource) Challenge(_ context.Context, cred *core.Credential, req core.HTTPRequest, resp core.HTTPResponse) (*core.Credential, bool, error) {
	s.challenges.Add(1)
	if s.fail != nil {
		return nil, false, s.fail
	}
	if resp.Status != 401 || !strings.Contains(string(resp.BodyPrefix), "expired") || req.Header.Get("Authorization") != "" {
		return nil, false, errors.New("unexpected challenge input")
	}
	s.current.Store("t2")
	return bearer("t2"), s.replaySafe, nil
}

func newChallengeSource(replaySafe bool) *challengeSource {
	s := &challengeSource{replaySafe: replaySafe}
	s.current.Store("t1")
	return s
}

// api accepts only t2 and records what it got.
func api(t *testing.T) (*httptest.Server, *[]string) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.Header.Get("Authorization")+" "+string(body))
		if r.Header.Get("Authorization") != "Bearer t2" {
			w.WriteHeader(401)
			io.WriteString(w, "token expired")
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestClientRetriesOnce(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		body       io.Reader
		replaySafe bool
		wantStatus int
		wantSeen   int
		wantErr    string
	}{
		{"GET", "GET", nil, false, 200, 2, ""},
		{"PUT with body", "PUT", strings.NewReader("data"), false, 200, 2, ""},
		{"POST replay-safe", "POST", strings.NewReader("data"), true, 200, 2, ""},
		{"POST not replay-safe", "POST", strings.NewReader("data"), false, 401, 1, "the server may have acted on it"},
		{"body without GetBody", "PUT", io.NopCloser(strings.NewReader("data")), true, 401, 1, "its body cannot be sent twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := api(t)
			src := newChallengeSource(tt.replaySafe)
			c := NewClient(src, []string{srv.URL}, nil)
			req, _ := http.NewRequest(tt.method, srv.URL+"/x", tt.body)
			resp, err := c.Do(req)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || len(*seen) != tt.wantSeen || src.challenges.Load() != 1 {
				t.Errorf("status %d, %d requests %v, %d challenges", resp.StatusCode, len(*seen), *seen, src.challenges.Load())
			}
			if tt.wantErr == "" && (err != nil || string(body) != "ok") {
				t.Errorf("err %v body %q", err, body)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || string(body) != "token expired") {
				t.Errorf("err %v body %q, want %q and the server's body", err, body, tt.wantErr)
			}
			if tt.wantSeen == 2 && (*seen)[1] != tt.method+" Bearer t2 "+map[bool]string{true: "data", false: ""}[tt.body != nil] {
				t.Errorf("retry sent %q", (*seen)[1])
			}
		})
	}
}

func TestClientReportsARefusal(t *testing.T) {
	srv, seen := api(t)
	src := newChallengeSource(false)
	src.fail = core.Errorf(core.KindRejected, "credentials rejected: user alice")
	resp, err := NewClient(src, []string{srv.URL}, nil).Do(mustRequest("GET", srv.URL))
	var ce *ChallengeError
	if !errors.As(err, &ce) || ce.Response != resp || core.KindOf(err) != core.KindRejected || len(*seen) != 1 {
		t.Fatalf("refusal: %v, %d requests", err, len(*seen))
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "token expired" {
		t.Errorf("body after the challenge peeked at it: %q", body)
	}
}

func TestClientDoesNotLoop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		io.WriteString(w, "token expired")
	}))
	defer srv.Close()
	src := newChallengeSource(false)
	resp, err := NewClient(src, []string{srv.URL}, nil).Do(mustRequest("GET", srv.URL))
	if resp == nil || resp.StatusCode != 401 || src.challenges.Load() != 1 || core.KindOf(err) != core.KindRejected {
		t.Fatalf("always-401 server: %v, %d challenges", err, src.challenges.Load())
	}
	resp.Body.Close()
}

// diagnosingSource is a challengeSource that explains a second refusal.
type diagnosingSource struct {
	*challengeSource
	diagnosis error
	got       []string // the credential and status of each Diagnose
}

func (s *diagnosingSource) Diagnose(_ context.Context, cred *core.Credential, _ core.HTTPRequest, resp core.HTTPResponse) error {
	s.got = append(s.got, fmt.Sprintf("%s %d %s", cred.Token, resp.Status, resp.BodyPrefix))
	return s.diagnosis
}

// Issue 12, point 3: a Diagnoser is asked about the refused retry, with
// the credential the retry carried; its error is reported, nil keeps the
// status code's. The body stays readable, and there is no third request.
func TestClientDiagnosesASecondRefusal(t *testing.T) {
	for _, tt := range []struct {
		name      string
		diagnosis error
		kind      core.Kind
		msg       string
	}{
		{"diagnosis", core.Errorf(core.KindForbidden, "the key lacks orders:write"), core.KindForbidden, "the key lacks orders:write"},
		{"none", nil, core.KindRejected, "again (HTTP 401) after the credential was renewed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var seen atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen.Add(1)
				w.WriteHeader(401)
				io.WriteString(w, "token expired")
			}))
			defer srv.Close()
			src := &diagnosingSource{challengeSource: newChallengeSource(false), diagnosis: tt.diagnosis}
			resp, err := NewClient(src, []string{srv.URL}, nil).Do(mustRequest("GET", srv.URL))
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var ce *ChallengeError
			if !errors.As(err, &ce) || core.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Do = %v (kind %v), want kind %v saying %q", err, core.KindOf(err), tt.kind, tt.msg)
			}
			if seen.Load() != 2 || src.challenges.Load() != 1 || strings.Join(src.got, "|") != "t2 401 token expired" || string(body) != "token expired" {
				t.Errorf("%d requests, %d challenges, diagnoses %q, body %q", seen.Load(), src.challenges.Load(), src.got, body)
			}
		})
	}
}

func TestRedirectDropsCredentialsAcrossOrigins(t *testing.T) {
	var got http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer other.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
	}))
	defer first.Close()
	src := SourceFunc(func(context.Context) (*core.Credential, error) { return bearer("t1"), nil })
	req := mustRequest("GET", first.URL)
	req.Header.Set("Proxy-Authorization", "Basic x")
	resp, err := NewClient(src, []string{first.URL}, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got == nil {
		t.Fatal("the redirect to the other origin was not followed")
	}
	for _, h := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
		if got.Get(h) != "" {
			t.Errorf("%s reached the other origin", h)
		}
	}
}

func mustRequest(method, u string) *http.Request {
	r, err := http.NewRequest(method, u, nil)
	if err != nil {
		panic(err)
	}
	return r
}

// signingSource asks for per-request signing and records what it was asked
// to sign.
type signingSource struct{ signed []core.HTTPRequest }

func (s *signingSource) Credential(context.Context) (*core.Credential, error) {
	return &core.Credential{PerRequest: true}, nil
}

func (s *signingSource) Sign(_ context.Context, _ *core.Credential, req core.HTTPRequest) ([]core.Header, error) {
	s.signed = append(s.signed, req)
	return []core.Header{{Name: "X-Signature", Value: fmt.Sprintf("%x", req.BodySHA256)}}, nil
}

// A signing scheme gets the SHA-256 of the body, and the body still arrives
// whole.
func TestTransportSignsTheBodyDigest(t *testing.T) {
	var gotBody, gotSig string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotSig = string(b), r.Header.Get("X-Signature")
	}))
	defer srv.Close()
	src := &signingSource{}
	client := &http.Client{Transport: &Transport{Source: src, Scope: []string{srv.URL + "/"}}}
	for _, body := range []string{"", "a=1&b=2"} {
		req, _ := http.NewRequest("POST", srv.URL+"/x", strings.NewReader(body))
		if body == "" {
			req.Body, req.GetBody = http.NoBody, nil
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := fmt.Sprintf("%x", sha256.Sum256([]byte(body)))
		if gotSig != want || gotBody != body {
			t.Errorf("body %q: signature over %s, server got %q; want %s", body, gotSig, gotBody, want)
		}
	}
	// A body that cannot be read twice cannot be signed: a clear error, not a wrong signature.
	req, _ := http.NewRequest("POST", srv.URL+"/x", io.NopCloser(strings.NewReader("once")))
	if _, err := client.Do(req); core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "GetBody") {
		t.Errorf("unreplayable body: %v", err)
	}
}

// uncachedSource logs in anew on every Credential call, as a session
// without a cache does: t1, t2, ... Its challenge returns "renewed".
type uncachedSource struct {
	logins     atomic.Int32
	challenged string
}

func (s *uncachedSource) Credential(context.Context) (*core.Credential, error) {
	return bearer(fmt.Sprintf("t%d", s.logins.Add(1))), nil
}

func (s *uncachedSource) Challenge(_ context.Context, cred *core.Credential, _ core.HTTPRequest, _ core.HTTPResponse) (*core.Credential, bool, error) {
	s.challenged = cred.Token
	return bearer("renewed"), false, nil
}

// The challenge is about the credential that was sent, the retry carries
// the one the challenge returned, and a redirect hop in scope reuses the
// first: the source is asked once.
func TestClientAsksTheSourceOnce(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path+" "+r.Header.Get("Authorization"))
		switch {
		case r.URL.Path == "/old":
			http.Redirect(w, r, "/new", http.StatusFound)
		case r.Header.Get("Authorization") != "Bearer renewed":
			w.WriteHeader(401)
		}
	}))
	defer srv.Close()
	src := &uncachedSource{}
	resp, err := NewClient(src, []string{srv.URL}, nil).Do(mustRequest("GET", srv.URL+"/old"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []string{"/old Bearer t1", "/new Bearer t1", "/old Bearer renewed", "/new Bearer renewed"}
	if resp.StatusCode != 200 || !slices.Equal(seen, want) {
		t.Errorf("status %d, requests %q; want 200 after %q", resp.StatusCode, seen, want)
	}
	if src.logins.Load() != 1 || src.challenged != "t1" {
		t.Errorf("%d logins, challenge about %q; want 1 login and the challenge about t1", src.logins.Load(), src.challenged)
	}
}

// updatingSource renews by changing its own state and returns no credential
// from Challenge: the retry must ask it again, not resend the refused one.
type updatingSource struct{ token string }

func (s *updatingSource) Credential(context.Context) (*core.Credential, error) {
	return bearer(s.token), nil
}

func (s *updatingSource) Challenge(context.Context, *core.Credential, core.HTTPRequest, core.HTTPResponse) (*core.Credential, bool, error) {
	s.token = "t2"
	return nil, false, nil
}

func TestRetryAsksTheSourceWhenTheChallengeReturnsNoCredential(t *testing.T) {
	srv, seen := api(t)
	resp, err := NewClient(&updatingSource{token: "t1"}, []string{srv.URL}, nil).Do(mustRequest("GET", srv.URL+"/x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := []string{"GET Bearer t1 ", "GET Bearer t2 "}; resp.StatusCode != 200 || !slices.Equal(*seen, want) {
		t.Errorf("status %d, requests %q; want %q", resp.StatusCode, *seen, want)
	}
}

// A request built with the context of another client's response carries
// that client's credential nowhere: each client sends its own source's.
func TestContextsDoNotCarryCredentialsAcrossClients(t *testing.T) {
	var got string
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") }))
	defer b.Close()
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer a.Close()
	clientA := NewClient(SourceFunc(func(context.Context) (*core.Credential, error) { return bearer("secret-for-A"), nil }), []string{a.URL}, nil)
	clientB := NewClient(SourceFunc(func(context.Context) (*core.Credential, error) { return bearer("for-B"), nil }), []string{b.URL}, nil)
	respA, err := clientA.Do(mustRequest("GET", a.URL))
	if err != nil {
		t.Fatal(err)
	}
	respA.Body.Close()
	req, _ := http.NewRequestWithContext(respA.Request.Context(), "GET", b.URL, nil)
	respB, err := clientB.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	respB.Body.Close()
	if got != "Bearer for-B" {
		t.Errorf("B received %q, want its own credential", got)
	}
}

// failingSource cannot give a credential.
type failingSource struct{ err error }

func (s failingSource) Credential(context.Context) (*core.Credential, error) { return nil, s.err }

func TestClientClassifiesEveryError(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // its port now refuses connections
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer slow.Close()
	defer close(hang)
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer loop.Close()
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(50*time.Millisecond))
	defer cancel()

	tests := []struct {
		name    string
		src     Source
		ctx     context.Context
		url     string
		kind    core.Kind
		urlErr  bool   // the cause is the round trip's *url.Error
		message string // a part of the message
	}{
		{"refused connection", newChallengeSource(false), context.Background(), closed.URL + "/x?access_token=s3cret",
			core.KindNetwork, true, `Get "` + closed.URL + `/x": dial tcp`},
		{"deadline", newChallengeSource(false), expired, slow.URL + "/slow?sig=s3cret",
			core.KindTimeout, true, `Get "` + slow.URL + `/slow": context deadline exceeded`},
		{"redirect loop", newChallengeSource(false), context.Background(), loop.URL + "/again",
			core.KindBadAnswer, false, "stopped after 10 redirects"},
		{"the source's failure", failingSource{core.Errorf(core.KindLoginRequired, "log in first")}, context.Background(), slow.URL,
			core.KindLoginRequired, false, "log in first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(tt.ctx, "GET", tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := NewClient(tt.src, []string{closed.URL, slow.URL, loop.URL}, nil).Do(req)
			if resp != nil {
				resp.Body.Close()
				t.Errorf("a response with the error %v", err)
			}
			var ue *url.Error
			if core.KindOf(err) != tt.kind || errors.As(err, &ue) != tt.urlErr {
				t.Errorf("error %v: kind %v, *url.Error %v; want %v, %v", err, core.KindOf(err), ue != nil, tt.kind, tt.urlErr)
			}
			if err == nil || !strings.Contains(err.Error(), tt.message) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("message %q, want it to hold %q and no query", err, tt.message)
			}
		})
	}
}
