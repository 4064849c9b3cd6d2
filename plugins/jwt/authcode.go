package jwt

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// defaultBrowserTimeout bounds a browser login: the user signs in, maybe
// with MFA, within it.
const defaultBrowserTimeout = 5 * time.Minute

// needsUser is the error of a login that needs the user when the host
// cannot reach them; the host appends the profile's name.
func needsUser(what string) error {
	return core.Errorf(core.KindLoginRequired, "%s needs the user, and this run cannot reach them (no terminal, --no-input or CI): run: authx login", what)
}

// waitEnded is the error of a login whose context ended while it waited
// for the user: the host's call_timeout (KindTimeout), else an
// interruption.
func waitEnded(what, until string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return core.Errorf(core.KindTimeout, "%s: the host stopped waiting (call_timeout) before %s", what, until)
	}
	return core.Errorf(core.KindInterrupted, "%s: canceled before %s", what, until)
}

// randomToken returns 32 random bytes, base64url without padding: a state,
// a nonce or a PKCE code verifier (RFC 7636 §4.1: 43 characters).
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pkceChallenge is the S256 code challenge of verifier (RFC 7636 §4.2).
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authRequest is one browser login in progress: what the authorization
// request sent and the callback must match.
type authRequest struct {
	state, nonce, verifier string
	redirectURI            string
}

// authorizationURL is the authorization request (RFC 6749 §4.1.1, RFC 7636
// §4.3, OIDC Core §3.1.2.1) at the endpoint, whose own query is kept, with
// the profile's resource indicators and extra_params.
func (st *settings) authorizationURL(ar authRequest) (string, error) {
	u, err := url.Parse(st.oidc.authorizationURL)
	if err != nil || !u.IsAbs() {
		return "", core.Errorf(core.KindConfig, "authorization_url %q is not an absolute URL", redact.RawURL(st.oidc.authorizationURL))
	}
	q := u.Query()
	for k, vs := range st.authorizationParams() {
		q[k] = vs
	}
	st.addAudience(q)
	q.Set("response_type", "code")
	q.Set("client_id", st.clientID)
	q.Set("redirect_uri", ar.redirectURI)
	q.Set("scope", strings.Join(st.scopes, " "))
	q.Set("state", ar.state)
	q.Set("code_challenge", pkceChallenge(ar.verifier))
	q.Set("code_challenge_method", "S256")
	if containsScope(st.scopes, "openid") {
		q.Set("nonce", ar.nonce)
	}
	if p := st.prompt(); p != "" {
		q.Set("prompt", p)
	}
	if st.dpopState != nil { // RFC 9449 §10: the code is bound to the key too
		q.Set("dpop_jkt", st.dpopState.key.jkt)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// prompt is the prompt parameter: the configured one, else consent when
// offline_access is asked for (OIDC Core §11: without it an IdP such as
// oidc-provider issues no refresh token), else none.
func (st *settings) prompt() string {
	if st.oidc.promptSet {
		return st.oidc.prompt
	}
	if containsScope(st.scopes, "offline_access") {
		return "consent"
	}
	return ""
}

// callback is the redirect the browser brought back, or why there is none.
type callback struct {
	code string
	err  error
	// reply receives the outcome of the code's exchange, for the page the
	// browser is waiting for.
	reply chan error
}

// authorizationCode runs a browser login (RFC 6749 §4.1 with PKCE, RFC 8252
// §7.3): a listener on 127.0.0.1, the authorization URL opened through the
// host, the redirect checked (state, iss) and its code exchanged with the
// verifier; the browser's tab then says how it ended.
func (s *Scheme) authorizationCode(ctx context.Context, st *settings, ui core.UI) (*core.Credential, error) {
	if ui == nil {
		return nil, needsUser("a browser login (grant authorization_code)")
	}
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(st.oidc.redirectPort)))
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "redirect_port: cannot listen on 127.0.0.1:%d for the browser's redirect: %v", st.oidc.redirectPort, errors.Unwrap(err))
	}
	ar := authRequest{state: randomToken(), nonce: randomToken(), verifier: randomToken(),
		redirectURI: "http://" + ln.Addr().String() + st.oidc.redirectPath}
	target, err := st.authorizationURL(ar)
	if err != nil {
		ln.Close()
		return nil, err
	}
	callbacks := make(chan callback, 1)
	srv := &http.Server{Handler: callbackHandler(st.oidc.redirectPath, ar.state, st.oidc.issuer, st.oidc.issRequired, callbacks), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx) // lets the landing page reach the browser
		_ = srv.Close()        // ends a callback still waiting, if any
	}()

	if err := ui.OpenURL(ctx, target); err != nil {
		return nil, core.Prefix("opening the browser", err, core.KindLoginRequired)
	}
	limit := s.BrowserTimeout
	if limit <= 0 {
		limit = defaultBrowserTimeout
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	var cb callback
	select {
	case cb = <-callbacks:
	case <-timer.C:
		return nil, core.Errorf(core.KindTimeout, "browser login: no sign-in within %s; run the login again", limit)
	case <-ctx.Done():
		return nil, waitEnded("browser login", "the sign-in completed", ctx.Err())
	}
	var cred *core.Credential
	if err = cb.err; err == nil {
		st.oidc.nonce = ar.nonce
		st.oidc.callSecrets = append(st.oidc.callSecrets, cb.code, ar.verifier)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.code}, "redirect_uri": {ar.redirectURI}, "code_verifier": {ar.verifier}}
		cred, err = s.oauth2Token(ctx, st, form, "")
	}
	cb.reply <- err
	return cred, err
}

// callbackHandler serves the redirect URI: the first request to path
// carrying this login's state with a code or an error ends the wait (sent
// on out); its page waits for the exchange's outcome. A request with
// another state (a stale tab, or a forged request from any local process
// or web page) gets 400 and the login keeps waiting. Other paths are 404,
// later requests say the login is over.
func callbackHandler(path, state, issuer string, issRequired bool, out chan<- callback) http.Handler {
	var taken atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if r.Method != http.MethodGet || !q.Has("code") && !q.Has("error") {
			landingPage(w, http.StatusBadRequest, errors.New("this is not an authorization response"))
			return
		}
		if !sameState(q.Get("state"), state) {
			landingPage(w, http.StatusBadRequest, errors.New("this redirect is not for the sign-in authx is waiting for (another state); it keeps waiting"))
			return
		}
		if !taken.CompareAndSwap(false, true) {
			landingPage(w, http.StatusGone, errors.New("this sign-in is already over"))
			return
		}
		code, err := parseCallback(q, state, issuer, issRequired)
		reply := make(chan error, 1)
		out <- callback{code: code, err: err, reply: reply}
		select {
		case err = <-reply:
		case <-r.Context().Done():
			return
		}
		status := http.StatusOK
		if err != nil {
			status = http.StatusBadRequest
		}
		landingPage(w, status, err)
	})
}

// parseCallback reads an authorization response (RFC 6749 §4.1.2, §4.1.2.1;
// RFC 9207 iss): the code when the state is the one sent, else a one-line
// error. The state is checked first, an error's too: a response that is
// not for this login says nothing about it. issuer, when known, must equal
// an iss parameter, which must be there when issRequired (the metadata's
// authorization_response_iss_parameter_supported). Nothing of the query but the error's code and a
// cleaned description reaches a message.
func parseCallback(q url.Values, state, issuer string, issRequired bool) (string, error) {
	switch {
	case !sameState(q.Get("state"), state):
		return "", core.Errorf(core.KindRejected, "browser login: the redirect carries another state than the one sent (a stale tab, or a forged request); run the login again")
	case issuer != "" && issRequired && !q.Has("iss"):
		return "", core.Errorf(core.KindRejected, "browser login: the redirect carries no iss, which %s says it always sends (RFC 9207: a mix-up attack?)", redact.RawURL(issuer))
	case issuer != "" && q.Has("iss") && q.Get("iss") != issuer:
		return "", core.Errorf(core.KindRejected, "browser login: the redirect comes from the issuer %s, not %s (RFC 9207: a mix-up attack?)", printable(redact.RawURL(q.Get("iss"))), redact.RawURL(issuer))
	case q.Get("error") != "":
		return "", authorizationError(q.Get("error"), q.Get("error_description"))
	case q.Get("code") == "" || len(q["code"]) > 1:
		return "", core.Errorf(core.KindBadAnswer, "browser login: the redirect carries no single code")
	}
	return q.Get("code"), nil
}

// sameState compares a redirect's state with the one sent, in constant
// time.
func sameState(got, sent string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(sent)) == 1
}

// authorizationError classifies the error of an authorization response:
// access_denied is a refusal, the *_required ones need an interactive
// login, server_error and temporarily_unavailable are the server's fault,
// the others a client registration or configuration problem.
func authorizationError(code, desc string) error {
	kind := core.KindConfig
	switch code {
	case "access_denied":
		kind = core.KindRejected
	case "login_required", "consent_required", "interaction_required", "account_selection_required":
		kind = core.KindLoginRequired
	case "server_error", "temporarily_unavailable":
		kind = core.KindHTTPServer
	}
	msg := safeText(code, 60)
	if d := safeText(desc, 200); d != "" {
		msg = d + " (" + msg + ")"
	}
	return core.Errorf(kind, "browser login: the identity provider answered: %s", msg)
}

// safeText renders a server's text for a message: control and other
// unprintable characters become spaces, whitespace runs one space, at most
// n runes.
func safeText(s string, n int) string {
	return oneLine(strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s), n)
}

// landingPage answers the browser: done, or why not.
func landingPage(w http.ResponseWriter, status int, err error) {
	title, text := "authx: signed in", "authx: signed in, you can close this tab."
	if err != nil {
		title, text = "authx: sign-in failed", "authx: sign-in failed: "+err.Error()+". You can close this tab."
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head><body><p>%s</p></body></html>\n",
		html.EscapeString(title), html.EscapeString(text))
}
