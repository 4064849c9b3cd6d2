package pluginrpc_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginrpc"
)

// stateful is a scheme of protocol minor 4: it declares LoginChallenge,
// records what Login and HandleChallenge got, and answers Apply with the
// state its config names.
type stateful struct {
	mu        sync.Mutex
	challenge *core.HTTPResponse
	retried   bool
}

var _ core.Applier = (*stateful)(nil)

func (*stateful) Describe() core.Description {
	return core.Description{Name: "stateful", Version: "0.0.1", Capabilities: core.Capabilities{LoginChallenge: true},
		Config: []core.Field{{Name: "state", Type: core.TypeString}}}
}
func (*stateful) Configure(context.Context, core.Config) []core.Diagnostic { return nil }
func (s *stateful) Login(_ context.Context, req core.LoginRequest) (*core.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.challenge = req.Challenge
	return &core.Credential{Token: "t", PerRequest: true}, nil
}
func (*stateful) Apply(_ context.Context, req core.ApplyRequest) (*core.ApplyResult, error) {
	switch req.Config.String("state", "") {
	case "keep":
		return &core.ApplyResult{Headers: []core.Header{{Name: "X-Seen", Value: string(req.Credential.State)}}}, nil
	case "clear":
		return &core.ApplyResult{State: []byte{}}, nil
	}
	return &core.ApplyResult{State: append(req.Credential.State, '+')}, nil
}
func (s *stateful) HandleChallenge(_ context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retried = req.Retried
	return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: "no"}, nil
}

// Issue 12, point 1: the minor-4 fields cross the wire both ways: Apply's
// state (absent, empty and set are three answers), the login's challenge,
// Capabilities.LoginChallenge and HandleChallengeRequest.retried.
func TestMinor4OverTheWire(t *testing.T) {
	ctx := context.Background()
	impl := &stateful{}
	c := connect(t, impl)
	d, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := core.Capabilities{Login: true, Apply: true, HandleChallenge: true, LoginChallenge: true}
	if d.Capabilities != want || d.ProtocolMinor != pluginrpc.ApplyStateMinor {
		t.Errorf("description = %+v, want capabilities %+v and minor %d", d, want, pluginrpc.ApplyStateMinor)
	}

	for _, tc := range []struct {
		mode, state string
		want        []byte // nil: unchanged
	}{
		{"keep", "n=7", nil},
		{"clear", "n=7", []byte{}},
		{"count", "n=7", []byte("n=7+")},
		{"count", "", []byte("+")},
	} {
		res, err := c.Apply(ctx, core.ApplyRequest{Config: core.Config{"state": tc.mode},
			Credential: &core.Credential{Token: "t", PerRequest: true, State: []byte(tc.state)},
			Request:    core.HTTPRequest{Method: "GET", URL: "https://api.example.test/"}})
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if (res.State == nil) != (tc.want == nil) || !bytes.Equal(res.State, tc.want) {
			t.Errorf("%s of %q: state = %q (nil %v), want %q (nil %v)", tc.mode, tc.state, res.State, res.State == nil, tc.want, tc.want == nil)
		}
		if tc.mode == "keep" && (len(res.Headers) != 1 || res.Headers[0].Value != tc.state) {
			t.Errorf("keep: headers = %v, want X-Seen: %s", res.Headers, tc.state)
		}
	}

	ch := &core.HTTPResponse{Status: 401, Header: http.Header{"Www-Authenticate": {`Digest realm="r", nonce="n"`}}, BodyPrefix: []byte("no")}
	if _, err := c.Login(ctx, core.LoginRequest{Config: core.Config{}, URL: "https://api.example.test/", Challenge: ch}); err != nil {
		t.Fatal(err)
	}
	if got := impl.challenge; got == nil || got.Status != 401 || got.Header.Get("WWW-Authenticate") != ch.Header.Get("WWW-Authenticate") || string(got.BodyPrefix) != "no" {
		t.Errorf("login challenge = %+v, want %+v", got, ch)
	}
	if _, err := c.Login(ctx, core.LoginRequest{Config: core.Config{}}); err != nil {
		t.Fatal(err)
	}
	if impl.challenge != nil {
		t.Errorf("login without a challenge got %+v", impl.challenge)
	}

	for _, retried := range []bool{true, false} {
		if _, err := c.HandleChallenge(ctx, core.ChallengeRequest{Config: core.Config{}, Credential: &core.Credential{Token: "t"},
			Response: core.HTTPResponse{Status: 401}, Retried: retried}); err != nil {
			t.Fatal(err)
		}
		if impl.retried != retried {
			t.Errorf("retried = %v, want %v", impl.retried, retried)
		}
	}
}
