package jenkins

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
)

// apiTokenProperty is where Jenkins serves a user's API token operations.
const apiTokenProperty = "/me/descriptorByName/jenkins.security.ApiTokenProperty"

var actions = []core.Action{
	{Name: "whoami", Summary: "Print who Jenkins thinks the profile's user is (its /whoAmI answer)", NeedsProfile: true},
	{Name: "new-token", Summary: "Create an API token for the profile's user and print its value (shown once)", NeedsProfile: true,
		Flags: []core.Field{{Name: "name", Type: core.TypeString, Help: "the token's `NAME` in Jenkins (default: Jenkins' own, \"Token created on …\")"}}},
	{Name: "revoke-token", Summary: "Revoke one of the profile's user's API tokens", Usage: "UUID", NeedsProfile: true},
}

// RunAction implements core.ActionRunner.
func (s *Scheme) RunAction(ctx context.Context, req core.ActionRequest) (core.ActionResult, error) {
	st, err := settingsFor(req.Config, req.URL)
	if err != nil {
		return core.ActionResult{}, err
	}
	switch req.Action {
	case "whoami":
		who, err := s.whoAmI(ctx, st, nil)
		if err != nil {
			return core.ActionResult{}, err
		}
		out, _ := json.MarshalIndent(who, "", "  ")
		return core.ActionResult{Stdout: append(out, '\n')}, nil
	case "new-token":
		form := url.Values{}
		if name := req.Flags["name"]; name != "" {
			form.Set("newTokenName", name)
		}
		body, err := s.post(ctx, st, req.Credential, apiTokenProperty+"/generateNewToken", form)
		if err != nil {
			return core.ActionResult{}, err
		}
		var answer struct {
			Status string `json:"status"`
			Data   struct {
				UUID  string `json:"tokenUuid"`
				Name  string `json:"tokenName"`
				Value string `json:"tokenValue"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &answer) != nil || answer.Status != "ok" || answer.Data.Value == "" {
			return core.ActionResult{}, core.Errorf(core.KindNetwork, "%s%s/generateNewToken: the answer holds no token", st.url, apiTokenProperty)
		}
		return core.ActionResult{
			Stdout: []byte(answer.Data.Value + "\n"),
			Stderr: fmt.Appendf(nil, "authx: created API token %q (uuid %s) for user %q; it is shown only this once\n", answer.Data.Name, answer.Data.UUID, st.user),
		}, nil
	case "revoke-token":
		if len(req.Args) != 1 || req.Args[0] == "" {
			return core.ActionResult{}, core.Errorf(core.KindConfig, "revoke-token needs the token's UUID (authx jenkins new-token prints it)")
		}
		if _, err := s.post(ctx, st, req.Credential, apiTokenProperty+"/revoke", url.Values{"tokenUuid": {req.Args[0]}}); err != nil {
			return core.ActionResult{}, err
		}
		return core.ActionResult{Stderr: fmt.Appendf(nil, "authx: revoked API token %s of user %q\n", req.Args[0], st.user)}, nil
	}
	return core.ActionResult{}, core.Errorf(core.KindUnsupported, "the jenkins scheme has no action %q", req.Action)
}

// post sends a form POST with the profile's credentials. With a password it
// needs a crumb: the cached credential's when it has one, else a new one; a
// stale crumb is replaced once.
func (s *Scheme) post(ctx context.Context, st *settings, cached *core.Credential, path string, form url.Values) ([]byte, error) {
	cred := cached
	if cred == nil || len(cred.Headers) == 0 {
		cred = st.credential(nil)
		if st.needsCrumb() {
			var err error
			if cred, err = s.withCrumb(ctx, st); err != nil {
				return nil, err
			}
		}
	}
	for attempt := 0; ; attempt++ {
		resp, body, err := s.send(ctx, st, "POST", path, form, cred)
		if err != nil {
			return nil, err
		}
		if attempt == 0 && staleCrumb(resp.StatusCode, body) && st.crumb != crumbNever {
			if cred, err = s.withCrumb(ctx, st); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode == http.StatusBadRequest {
			return nil, core.Errorf(core.KindConfig, "POST %s%s: Jenkins answered HTTP 400: %s", st.url, path, strings.TrimSpace(string(body)))
		}
		if err := st.refusal(resp, body); err != nil {
			return nil, err
		}
		return body, nil
	}
}
