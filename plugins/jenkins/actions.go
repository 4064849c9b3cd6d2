package jenkins

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// apiTokenProperty is where Jenkins serves a user's API token operations.
const apiTokenProperty = "/me/descriptorByName/jenkins.security.ApiTokenProperty"

var actions = []core.Action{
	{Name: "whoami", Summary: "Print who Jenkins thinks the profile's user is (its /whoAmI answer)", NeedsProfile: true},
	{Name: "new-token", Summary: "Create an API token for the profile's user and print its value (shown once)", NeedsProfile: true,
		Flags: []core.Field{{Name: "name", Type: core.TypeString, Help: "the token's `NAME` in Jenkins (default: Jenkins' own, \"Token created on …\")"}}},
	{Name: "revoke-token", Summary: "Revoke one of the profile's user's API tokens", Usage: "UUID", NeedsProfile: true},
	{Name: "build", Summary: "Trigger a build (with the profile's build_token, if set) and print its queue item URL", Usage: "JOB [NAME=VALUE...]", NeedsProfile: true},
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
		_, body, err := s.post(ctx, st, req.Credential, apiTokenProperty+"/generateNewToken", form)
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
			return core.ActionResult{}, core.Errorf(core.KindBadAnswer, "%s%s/generateNewToken: the answer holds no token", redact.RawURL(st.url), apiTokenProperty)
		}
		return core.ActionResult{
			Stdout: []byte(answer.Data.Value + "\n"),
			Stderr: fmt.Appendf(nil, "authx: created API token %q (uuid %s) for user %q; it is shown only this once\n", answer.Data.Name, answer.Data.UUID, st.user),
		}, nil
	case "revoke-token":
		if len(req.Args) != 1 || req.Args[0] == "" {
			return core.ActionResult{}, core.Errorf(core.KindConfig, "revoke-token needs the token's UUID (authx jenkins new-token prints it)")
		}
		if _, _, err := s.post(ctx, st, req.Credential, apiTokenProperty+"/revoke", url.Values{"tokenUuid": {req.Args[0]}}); err != nil {
			return core.ActionResult{}, err
		}
		return core.ActionResult{Stderr: fmt.Appendf(nil, "authx: revoked API token %s of user %q\n", req.Args[0], st.user)}, nil
	case "build":
		return s.build(ctx, st, req)
	}
	return core.ActionResult{}, core.Errorf(core.KindUnsupported, "the jenkins scheme has no action %q", req.Action)
}

// build triggers JOB ("folder/name" for a job in a folder) with POST
// /job/…/build, or /job/…/buildWithParameters when parameters are given,
// adding the profile's build_token as token= when it has one.
func (s *Scheme) build(ctx context.Context, st *settings, req core.ActionRequest) (core.ActionResult, error) {
	if len(req.Args) == 0 || strings.Trim(req.Args[0], "/") == "" {
		return core.ActionResult{}, core.Errorf(core.KindConfig, "build needs the job's name (folder/name for a job in a folder)")
	}
	var path strings.Builder
	for _, part := range strings.Split(strings.Trim(req.Args[0], "/"), "/") {
		path.WriteString("/job/" + url.PathEscape(part))
	}
	form := url.Values{}
	for _, kv := range req.Args[1:] {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return core.ActionResult{}, core.Errorf(core.KindConfig, "build parameter %q: expected NAME=VALUE", kv)
		}
		form.Add(name, value)
	}
	endpoint := "/build"
	if len(form) > 0 {
		endpoint = "/buildWithParameters"
	}
	if st.buildToken != "" {
		form.Set("token", st.buildToken)
	}
	resp, _, err := s.post(ctx, st, req.Credential, path.String()+endpoint, form)
	if err != nil {
		return core.ActionResult{}, err
	}
	queued := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || queued == "" {
		return core.ActionResult{}, core.Errorf(core.KindBadAnswer, "POST %s%s%s: Jenkins answered HTTP %d without a queue item; the build may not have been triggered",
			redact.RawURL(st.url), path.String(), endpoint, resp.StatusCode)
	}
	return core.ActionResult{Stdout: []byte(queued + "\n")}, nil
}

// post sends a form POST with the profile's credentials. With a password it
// needs a crumb: the cached credential's when it has one, else a new one; a
// stale crumb is replaced once.
func (s *Scheme) post(ctx context.Context, st *settings, cached *core.Credential, path string, form url.Values) (*http.Response, []byte, error) {
	cred := cached
	if cred == nil || len(cred.Headers) == 0 {
		cred = st.credential(nil)
		if st.needsCrumb() {
			var err error
			if cred, err = s.withCrumb(ctx, st); err != nil {
				return nil, nil, err
			}
		}
	}
	for attempt := 0; ; attempt++ {
		resp, body, err := s.send(ctx, st, "POST", path, form, cred)
		if err != nil {
			return nil, nil, err
		}
		if attempt == 0 && staleCrumb(resp.StatusCode, body) && st.crumb != crumbNever {
			if cred, err = s.withCrumb(ctx, st); err != nil {
				return nil, nil, err
			}
			continue
		}
		if resp.StatusCode == http.StatusBadRequest {
			return nil, nil, core.Errorf(core.KindConfig, "POST %s%s: Jenkins answered HTTP 400: %s", redact.RawURL(st.url), path, st.secrets().Scrub(firstLine(body)))
		}
		if err := st.refusal(resp, body); err != nil {
			return nil, nil, err
		}
		return resp, body, nil
	}
}

// firstLine is the first line of an error page's text, tags removed.
func firstLine(body []byte) string {
	text := strings.TrimSpace(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(string(body), " "))
	line, _, _ := strings.Cut(text, "\n")
	return strings.Join(strings.Fields(line), " ")
}
