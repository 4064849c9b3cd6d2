package digest

import (
	"context"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

// A renewal (stale=true, or a lost nonce) may not answer a weaker
// algorithm than the login chose: a man in the middle of a plain-HTTP
// Digest exchange would otherwise turn SHA-256 into MD5 with one forged
// 401, without the profile's algorithm set.
func TestHandleChallengeNoDowngrade(t *testing.T) {
	const login = `Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth"`
	tests := []struct {
		name     string
		www      []string
		decision core.Decision
		alg      string // of the retry's state
	}{
		{"stale with MD5 only", []string{`Digest realm="r", nonce="n2", algorithm=MD5, qop="auth", stale=true`}, core.DecisionFail, ""},
		{"lost nonce with MD5-sess only", []string{`Digest realm="r", nonce="n2", algorithm=MD5-sess, qop="auth"`}, core.DecisionFail, ""},
		{"stale with MD5 and SHA-256", []string{`Digest realm="r", nonce="n2", algorithm=MD5, qop="auth", stale=true`, `Digest realm="r", nonce="n3", algorithm=SHA-256, qop="auth", stale=true`}, core.DecisionRetry, "SHA-256"},
		{"stale in another realm", []string{`Digest realm="elsewhere", nonce="n2", algorithm=SHA-256, qop="auth", stale=true`}, core.DecisionFail, ""},
		{"stale with a stronger one", []string{`Digest realm="r", nonce="n2", algorithm=SHA-512-256, qop="auth", stale=true`}, core.DecisionRetry, "SHA-512-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := testState(t, login, "http://h/private/")
			st.NC = 3
			res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: credential(st),
				Request:  core.HTTPRequest{Method: "GET", URL: "http://h/private/a"},
				Response: core.HTTPResponse{Status: 401, Header: header(tt.www...)}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.decision {
				t.Fatalf("decision %v %q, want %v", res.Decision, res.Diagnosis, tt.decision)
			}
			if tt.decision != core.DecisionRetry {
				if !strings.Contains(res.Diagnosis, "SHA-256") && !strings.Contains(res.Diagnosis, `"elsewhere"`) || strings.Contains(res.Diagnosis, "s3cret") {
					t.Errorf("diagnosis %q", res.Diagnosis)
				}
				return
			}
			next, err := decodeState(res.Credential.State)
			if err != nil || next.Algorithm != tt.alg {
				t.Errorf("retry state %+v %v, want algorithm %s", next, err, tt.alg)
			}
		})
	}
}

// A server's nonce (or realm, opaque) too large for the state that Apply
// reads back is refused at login and at renewal, with a message naming the
// server's answer: otherwise the login succeeds, every Apply fails with
// "run authx login again", and the next login does the same.
func TestOversizedChallengeRefused(t *testing.T) {
	huge := `Digest realm="r", nonce="` + strings.Repeat("n", maxState) + `", algorithm=MD5, qop="auth"`
	_, err := New().Login(context.Background(), core.LoginRequest{Config: cfg, URL: "http://h/private/",
		Challenge: &core.HTTPResponse{Status: 401, Header: header(huge)}})
	if core.KindOf(err) != core.KindBadAnswer || strings.Contains(err.Error(), "nnnn") {
		t.Errorf("login: %v, want a KindBadAnswer error", err)
	}
	st := testState(t, `Digest realm="r", nonce="n1", algorithm=MD5, qop="auth"`, "http://h/private/")
	st.NC = 2
	res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: credential(st),
		Request:  core.HTTPRequest{Method: "GET", URL: "http://h/private/a"},
		Response: core.HTTPResponse{Status: 401, Header: header(huge + ", stale=true")}})
	if err == nil && res.Decision == core.DecisionRetry {
		t.Errorf("renewal with an oversized nonce: retry with a state of %d bytes", len(res.Credential.State))
	}
}

// The phrase naming what a server offered stays short however many
// challenges its WWW-Authenticate holds.
func TestChooseMessageBounded(t *testing.T) {
	for _, v := range []string{
		strings.Repeat(`Foo, Bar, `, 50000),
		strings.Repeat(`Digest realm="r", nonce="n", algorithm=x1, Digest realm="r", nonce="n", algorithm=x2, `, 5000),
	} {
		_, err := choose(header(v), "")
		if err == nil || len(err.Error()) > 1024 {
			t.Errorf("%d bytes of challenges: message of %d bytes", len(v), len(err.Error()))
		}
		if !strings.Contains(err.Error(), "Foo") && !strings.Contains(err.Error(), "algorithm=x2") {
			t.Errorf("message %q", err)
		}
	}
}
