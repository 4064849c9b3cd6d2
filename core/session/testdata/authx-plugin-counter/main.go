// Command authx-plugin-counter is a scheme of protocol minor 4 for the
// session's tests, shaped like HTTP Digest: its credential's state is a
// count that every Apply increments and returns (Digest's nonce count), and
// its login records the challenge the host probed for it (LoginChallenge).
//
// Login's token is "challenged-401" when it got a 401 challenge, whose
// WWW-Authenticate and body it puts in the header X-Challenge, and
// "unchallenged" otherwise. Apply sets X-Count to the new count.
// HandleChallenge answers a first refusal with a retry credential (token
// "retry") and a second one (Retried) with a diagnosis, or with a
// KindForbidden error when the config says so.
package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/sdk"
)

type scheme struct{}

var (
	_ core.Applier          = scheme{}
	_ core.ChallengeHandler = scheme{}
)

func (scheme) Describe() core.Description {
	return core.Description{
		Name: "counter", Version: "0.0.1", Summary: "counts its Apply calls in the credential's state",
		Capabilities: core.Capabilities{LoginChallenge: true},
		Config: []core.Field{
			{Name: "stateless", Type: core.TypeBool, Help: "return no state from Apply"},
			{Name: "ca_file", Type: core.TypeString, Help: "the host's TLS setting, for its probe"},
			{Name: "second", Type: core.TypeString, Enum: []string{"", "diagnosis", "error", "retry"},
				Help: "the answer to a second refusal: a diagnosis (default), a forbidden error, or a retry the host must not follow"},
		},
	}
}

func (scheme) Configure(context.Context, core.Config) []core.Diagnostic { return nil }

func (scheme) Login(_ context.Context, req core.LoginRequest) (*core.Credential, error) {
	cred := &core.Credential{Token: "unchallenged", PerRequest: true, State: []byte("0")}
	if c := req.Challenge; c != nil {
		cred.Token = fmt.Sprintf("challenged-%d", c.Status)
		cred.Headers = []core.Header{{Name: "X-Challenge", Value: c.Header.Get("WWW-Authenticate") + " body=" + strings.TrimSpace(string(c.BodyPrefix))}}
	}
	return cred, nil
}

func (scheme) Apply(_ context.Context, req core.ApplyRequest) (*core.ApplyResult, error) {
	n, err := strconv.Atoi(string(req.Credential.State))
	if err != nil && len(req.Credential.State) > 0 {
		return nil, core.Errorf(core.KindPlugin, "the state %q is not a count", req.Credential.State)
	}
	n++
	res := &core.ApplyResult{Headers: []core.Header{{Name: "X-Count", Value: strconv.Itoa(n)}, {Name: "X-Token", Value: req.Credential.Token}}}
	if !req.Config.Bool("stateless", false) {
		res.State = []byte(strconv.Itoa(n))
	}
	return res, nil
}

func (scheme) HandleChallenge(_ context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	if !req.Retried {
		return core.ChallengeResponse{Decision: core.DecisionRetry, Credential: &core.Credential{Token: "retry", PerRequest: true}}, nil
	}
	switch req.Config.String("second", "") {
	case "error":
		return core.ChallengeResponse{}, core.Errorf(core.KindForbidden, "counter: the account lacks the permission (HTTP %d)", req.Response.Status)
	case "retry":
		return core.ChallengeResponse{Decision: core.DecisionRetry, Credential: &core.Credential{Token: "again", PerRequest: true}}, nil
	}
	return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: fmt.Sprintf("counter: refused again with token %q (HTTP %d)", req.Credential.Token, req.Response.Status)}, nil
}

func main() { sdk.Serve(scheme{}) }
