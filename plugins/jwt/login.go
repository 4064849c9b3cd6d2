package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// login posts the credentials to the login endpoint and reads the token,
// the refresh token and the lifetime out of the JSON answer.
func (s *Scheme) login(ctx context.Context, st *settings) (*core.Credential, error) {
	vars := map[string]string{"username": st.username, "password": st.password}
	x, err := st.templated("login", st.method, st.loginURL, st.body, vars)
	if err != nil {
		return nil, err
	}
	doc, err := s.do(ctx, st, x)
	if err != nil && st.plainLoginURL != "" && notTheAPI(err) {
		// A site with plain permalinks: /wp-json/ is a page, the REST API
		// is at ?rest_route=.
		first := err
		x.url = st.plainLoginURL
		if doc, err = s.do(ctx, st, x); err != nil && notTheAPI(err) {
			err = first // no REST API either way: the URL to check is the first
		}
	}
	if err != nil {
		return nil, err
	}
	return s.fromAnswer(st, x, doc, "")
}

// notTheAPI reports whether a failed exchange reached something other than
// the REST API: a 404 that is not a REST error (no code), or a success
// answer that is not JSON. A site without pretty permalinks answers its
// /wp-json/ URLs this way.
func notTheAPI(err error) bool {
	se, ok := errors.AsType[*statusErr](err)
	return ok && (se.status == http.StatusNotFound && se.code == "" || se.status >= 200 && se.status <= 299)
}

// refresh exchanges the refresh token at refresh_url. A refusal is
// KindLoginRequired: only a new login can help.
func (s *Scheme) refresh(ctx context.Context, st *settings, refreshToken string) (*core.Credential, error) {
	vars := map[string]string{"username": st.username, "password": st.password, "refresh_token": refreshToken}
	x, err := st.templated("refresh", st.refreshMethod, st.refreshURL, st.refreshBody, vars)
	if err != nil {
		return nil, err
	}
	x.secrets = []string{refreshToken}
	doc, err := s.do(ctx, st, x)
	if err != nil {
		if core.KindOf(err) == core.KindRejected {
			return nil, core.Wrap(core.KindLoginRequired, err, "the refresh token was refused; log in again")
		}
		return nil, err
	}
	return s.fromAnswer(st, x, doc, refreshToken)
}

// templated builds a login or refresh request from a body template: the
// body is sent as JSON or as a form (body_format), and not at all with GET
// or HEAD.
func (st *settings) templated(what, method, target string, body map[string]any, vars map[string]string) (exchange, error) {
	x := exchange{what: what, method: method, url: target}
	if err := requireAbsolute(what+" URL", target); err != nil {
		return x, err
	}
	if method == "GET" || method == "HEAD" {
		return x, nil
	}
	filled := expand(body, vars).(map[string]any)
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

// requireAbsolute returns a KindConfig error unless target, the URL called
// name, is absolute: a relative one needs the profile's url.
func requireAbsolute(name, target string) error {
	if u, err := url.Parse(target); err != nil || !u.IsAbs() {
		return core.Errorf(core.KindConfig, "%s %q is relative: give the profile a url, or an absolute URL", name, redact.RawURL(target))
	}
	return nil
}

// fromAnswer builds the credential from the answer doc to the login or
// refresh request x. A refresh answer without a refresh token keeps the old
// one (oldRefresh); a rotated one replaces it.
func (s *Scheme) fromAnswer(st *settings, x exchange, doc any, oldRefresh string) (*core.Credential, error) {
	from := x.what + " " + redact.RawURL(x.url)
	token, ok := firstString(doc, st.tokenPaths...)
	if !ok {
		found, hint := leafPaths(doc), "set token_path to the key that holds it"
		if _, isString := doc.(string); isString || len(found) == 0 {
			found, hint = []string{"(none: the answer is not a JSON object)"}, "is the URL the login endpoint?"
		}
		return nil, core.Errorf(core.KindConfig, "%s: no token at %s in the answer; it has the keys %s: %s",
			from, strings.Join(st.tokenPaths, ", "), strings.Join(found, ", "), hint)
	}
	refreshToken, ok := firstString(doc, st.refreshPaths...)
	if !ok {
		refreshToken = oldRefresh
	}
	return s.credential(st, token, refreshToken, lifetime(doc, st.expiresPaths...), from)
}
