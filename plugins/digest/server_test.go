package digest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/digest/digesttest"
)

// probe is what the host does before a login: a GET without credentials.
func probe(t *testing.T, url string) *core.HTTPResponse {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return &core.HTTPResponse{Status: resp.StatusCode, Header: resp.Header}
}

// get sends a GET signed by the scheme and returns the status and the new
// credential (its state updated as the host would store it).
func get(t *testing.T, s *Scheme, cfg core.Config, cred *core.Credential, url string) (int, http.Header, *core.Credential) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	res, err := s.Apply(context.Background(), core.ApplyRequest{Config: cfg, Credential: cred,
		Request: core.HTTPRequest{Method: "GET", URL: url, BodySHA256: emptySHA256[:]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	next := *cred
	next.State = res.State
	return resp.StatusCode, resp.Header, &next
}

// The scheme in process against the real servers: the nonce count the
// state carries is what the server checks, and a count used twice is a
// replay (which shows that Apache does check it here).
func TestRealServersInProcess(t *testing.T) {
	servers := []struct {
		name  string
		start func(testing.TB, digesttest.Options) *digesttest.Server
		opts  digesttest.Options
		alg   string
	}{
		{"apache", digesttest.Apache, digesttest.Options{}, "MD5"},
		{"lighttpd SHA-256", digesttest.Lighttpd, digesttest.Options{}, "SHA-256"},
		{"lighttpd MD5 or SHA-256", digesttest.Lighttpd, digesttest.Options{Algorithm: "MD5|SHA-256"}, "SHA-256"},
		{"lighttpd userhash", digesttest.Lighttpd, digesttest.Options{Userhash: true}, "SHA-256"},
	}
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			srv := sv.start(t, sv.opts)
			cfg := core.Config{"username": srv.User, "password": srv.Password}
			url := srv.URL + "/private/"
			s := New()
			cred, err := s.Login(context.Background(), core.LoginRequest{Config: cfg, URL: url, Challenge: probe(t, url)})
			if err != nil {
				t.Fatal(err)
			}
			st, _ := decodeState(cred.State)
			if st.Algorithm != sv.alg || st.Userhash != sv.opts.Userhash {
				t.Errorf("algorithm %s userhash %v, want %s %v", st.Algorithm, st.Userhash, sv.alg, sv.opts.Userhash)
			}
			replay := cred
			for i := range 3 {
				status, _, next := get(t, s, cfg, cred, url)
				if status != 200 {
					t.Fatalf("request %d: HTTP %d\n%s", i+1, status, srv.ErrorLog(t))
				}
				if i == 1 {
					replay = cred
				}
				cred = next
			}
			status, h, replayed := get(t, s, cfg, replay, url) // nc 2 again
			if sv.name == "apache" {
				if status != 401 {
					t.Errorf("a replayed nonce count: HTTP %d", status)
				}
				res, _ := s.HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: replayed,
					Request: core.HTTPRequest{Method: "GET", URL: url}, Response: core.HTTPResponse{Status: status, Header: h}})
				if res.Decision != core.DecisionRetry {
					t.Errorf("a used nonce refused: %+v", res)
				}
			}
			wrong := core.Config{"username": srv.User, "password": "not-" + srv.Password}
			status, h, bad := get(t, s, wrong, cred, url)
			if status != 401 {
				t.Fatalf("wrong password: HTTP %d", status)
			}
			_ = bad
			srv.Stop()
			var ncs []string
			for _, r := range srv.Requests(t) {
				if r.Status == 200 && r.Authorization != "" {
					ncs = append(ncs, r.Param("nc"))
				}
			}
			if sv.opts.Userhash && len(ncs) > 0 && strings.Contains(srv.Requests(t)[1].Authorization, `username="`+srv.User) {
				t.Errorf("userhash: the user name was sent in clear")
			}
			if len(ncs) < 3 || fmt.Sprint(ncs[:3]) != "[00000001 00000002 00000003]" {
				t.Errorf("nonce counts the server saw: %v", ncs)
			}
			if log := srv.ErrorLog(t); sv.name == "apache" && !strings.Contains(log, "AH01774") {
				t.Errorf("the replay is not in Apache's error log:\n%s", log)
			}
		})
	}
}

// Apache's nonce expires after AuthDigestNonceLifetime: the next request
// gets 401 stale=true, and the challenge's decision is one retry with the
// new nonce, which succeeds.
func TestApacheStaleNonce(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{NonceLifetime: 1})
	cfg := core.Config{"username": srv.User, "password": srv.Password}
	url := srv.URL + "/private/"
	s := New()
	cred, err := s.Login(context.Background(), core.LoginRequest{Config: cfg, URL: url, Challenge: probe(t, url)})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, next := get(t, s, cfg, cred, url); status != 200 {
		t.Fatalf("HTTP %d", status)
	} else {
		cred = next
	}
	time.Sleep(2500 * time.Millisecond)
	status, h, _ := get(t, s, cfg, cred, url)
	if status != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "stale=true") {
		t.Fatalf("after the nonce's lifetime: HTTP %d %q", status, h.Get("WWW-Authenticate"))
	}
	res, err := s.HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: cred,
		Request: core.HTTPRequest{Method: "GET", URL: url}, Response: core.HTTPResponse{Status: status, Header: h}})
	if err != nil || res.Decision != core.DecisionRetry {
		t.Fatalf("%v %+v", err, res)
	}
	if status, _, _ := get(t, s, cfg, res.Credential, url); status != 200 {
		t.Fatalf("the retry with the new nonce: HTTP %d", status)
	}
}
