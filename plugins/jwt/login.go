package jwt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
)

// login posts the credentials to the login endpoint and reads the token,
// the refresh token and the lifetime out of the JSON answer.
func (s *Scheme) login(ctx context.Context, st *settings) (*core.Credential, error) {
	vars := map[string]string{"username": st.username, "password": st.password}
	x, err := st.templated("login", st.method, st.loginURL, st.body, vars)
	if err != nil {
		return nil, err
	}
	a, err := s.do(ctx, st, x)
	if err != nil {
		return nil, err
	}
	return s.fromAnswer(st, "login", x.url, a, "")
}

// refresh exchanges the refresh token at refresh_url. A refusal means only a
// new login can help.
func (s *Scheme) refresh(ctx context.Context, st *settings, refreshToken string) (*core.Credential, error) {
	vars := map[string]string{"username": st.username, "password": st.password, "refresh_token": refreshToken}
	x, err := st.templated("refresh", st.refreshMethod, st.refreshURL, st.refreshBody, vars)
	if err != nil {
		return nil, err
	}
	a, err := s.do(ctx, st, x)
	if err != nil {
		if core.KindOf(err) == core.KindRejected {
			return nil, core.Wrap(core.KindLoginRequired, err, "the refresh token was refused; log in again")
		}
		return nil, err
	}
	return s.fromAnswer(st, "refresh", x.url, a, refreshToken)
}

// templated builds a login or refresh request from a body template.
func (st *settings) templated(what, method, target string, body map[string]any, vars map[string]string) (exchange, error) {
	x := exchange{what: what, method: method, url: target}
	if u, err := url.Parse(target); err != nil || !u.IsAbs() {
		return x, core.Errorf(core.KindConfig, "%s URL %q is relative: give the profile a url, or an absolute URL", what, target)
	}
	filled := expand(body, vars).(map[string]any)
	if method == "GET" || method == "HEAD" {
		return x, nil
	}
	if st.format == "form" {
		form := url.Values{}
		for k, v := range filled {
			form.Set(k, fmt.Sprint(v))
		}
		x.body, x.ctype = []byte(form.Encode()), "application/x-www-form-urlencoded"
		return x, nil
	}
	b, err := json.Marshal(filled)
	if err != nil {
		return x, core.Errorf(core.KindConfig, "%s body: %v", what, err)
	}
	x.body, x.ctype = b, "application/json"
	return x, nil
}

// fromAnswer builds the credential from a login or refresh answer. A
// refresh answer without a refresh token keeps the old one (oldRefresh); a
// rotated one replaces it.
func (s *Scheme) fromAnswer(st *settings, what, from string, a *answer, oldRefresh string) (*core.Credential, error) {
	token, _, ok := firstString(a.doc, st.tokenPaths)
	if !ok {
		found := keys(a.doc)
		hint := "set token_path to the key that holds it"
		if _, isString := a.doc.(string); isString || len(found) == 0 {
			found, hint = []string{"(none: the answer is not a JSON object)"}, "is the URL the login endpoint?"
		}
		return nil, core.Errorf(core.KindConfig, "%s %s: no token at %s in the answer; it has the keys %s: %s",
			what, redact(from), strings.Join(st.tokenPaths, ", "), strings.Join(found, ", "), hint)
	}
	refreshToken, _, _ := firstString(a.doc, st.refreshPaths)
	if refreshToken == "" {
		refreshToken = oldRefresh
	}
	lifetime, _ := seconds(a.doc, st.expiresPaths)
	return s.credential(st, token, refreshToken, lifetime, fmt.Sprintf("%s %s", what, redact(from)))
}
