// Package jenkins is the Jenkins scheme: preemptive Basic authentication
// with a user's API token or password, and the CSRF crumb with its session
// cookie when Jenkins needs one.
//
// Jenkins never challenges an anonymous caller with a 401: it answers 403,
// so credentials are always sent with the first request. A request
// authenticated with an API token needs no crumb (Jenkins 2.96 and later);
// one authenticated with a password needs a crumb, which is bound to the web
// session that issued it, so the scheme keeps every cookie of the crumb
// answer and sends them back with the crumb. When Jenkins refuses a stale
// crumb ("No valid crumb was included in the request"), the scheme fetches
// a new crumb and session and the request is retried once: Jenkins refused
// it before acting, so even a POST is safe to send again.
package jenkins

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/httpauth"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/tlsconfig"
)

// Version of the scheme.
const Version = "0.1.0"

// Scheme implements core.Scheme, ChallengeHandler and ActionRunner.
type Scheme struct {
	// HTTP sends the scheme's own requests (crumb issuer, whoAmI, tokens);
	// nil means http.DefaultClient. Each is bounded by the profile's timeout.
	HTTP *http.Client
}

// New returns the scheme with the real network.
func New() *Scheme { return &Scheme{} }

var (
	_ core.ChallengeHandler = (*Scheme)(nil)
	_ core.ActionRunner     = (*Scheme)(nil)
)

// The crumb modes.
const (
	crumbAuto   = "auto"   // a crumb only with a password: API tokens are exempt
	crumbAlways = "always" // also with an API token (Jenkins before 2.96)
	crumbNever  = "never"
)

// Describe implements core.Scheme.
func (s *Scheme) Describe() core.Description {
	return core.Description{
		Name:    "jenkins",
		Version: Version,
		Summary: "Jenkins: preemptive Basic with an API token or password, CSRF crumb with its session cookie",
		Config: append([]core.Field{
			{Name: "user", Type: core.TypeString, Required: true, Help: "the Jenkins user ID"},
			{Name: "api_token", Type: core.TypeString, Secret: true, Help: "the user's API token (recommended: no crumb needed), usually env:NAME or file:PATH"},
			{Name: "password", Type: core.TypeString, Secret: true, Help: "the user's password, instead of api_token; POSTs then need a crumb"},
			{Name: "crumb", Type: core.TypeString, Default: crumbAuto, Enum: []string{crumbAuto, crumbAlways, crumbNever},
				Help: "auto: fetch a CSRF crumb only with a password; always: also with an API token (Jenkins before 2.96); never"},
			{Name: "build_token", Type: core.TypeString, Secret: true, Help: "a job's \"Trigger builds remotely\" token, sent as token= by 'authx jenkins build'"},
			{Name: "timeout", Type: core.TypeDuration, Default: "30s", Help: "bound on each request the scheme makes itself (crumb, whoAmI)"},
		}, tlsconfig.Fields()...),
		Actions: actions,
	}
}

// settings is a profile's config.
type settings struct {
	url        string // the Jenkins root URL, without a trailing slash
	user       string
	secret     string
	isToken    bool
	crumb      string
	buildToken string
	timeout    time.Duration
	tls        tlsconfig.Settings
	loaded     *tlsconfig.Loaded // tls read, by settingsFor; nil without TLS settings
	transport  *http.Transport   // the transport with loaded, made by send once
}

// Configure implements core.Scheme.
func (s *Scheme) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	_, ds := read(cfg)
	return ds
}

func read(cfg core.Config) (*settings, []core.Diagnostic) {
	st := &settings{
		user:       cfg.String("user", ""),
		crumb:      cfg.String("crumb", crumbAuto),
		buildToken: cfg.String("build_token", ""),
		timeout:    cfg.Duration("timeout", 30*time.Second),
	}
	var ds []core.Diagnostic
	token, hasToken := cfg["api_token"].(string)
	password, hasPassword := cfg["password"].(string)
	switch {
	case hasToken && hasPassword:
		ds = append(ds, core.DiagError("password", "give api_token or password, not both"))
	case hasToken:
		st.secret, st.isToken = token, true
	case hasPassword:
		st.secret = password
	default:
		ds = append(ds, core.DiagError("api_token", "required (or password): create one in Jenkins under your user → Security → API Token, then api_token: env:JENKINS_TOKEN"))
	}
	if st.timeout <= 0 {
		ds = append(ds, core.DiagError("timeout", "must be positive, e.g. 30s"))
	}
	if strings.Contains(st.user, ":") {
		ds = append(ds, core.DiagError("user", "a user ID may not contain ':' (Basic credentials, RFC 7617)"))
	}
	var err error
	if st.tls, err = tlsconfig.FromConfig(cfg); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		ds = append(ds, core.DiagError(field, "%s", msg))
	}
	return st, ds
}

// settingsFor reads cfg for a call against the Jenkins at base.
func settingsFor(cfg core.Config, base string) (*settings, error) {
	st, ds := read(cfg)
	if len(ds) > 0 {
		return nil, core.Errorf(core.KindConfig, "%s: %s", ds[0].Field, ds[0].Message)
	}
	u, err := url.Parse(base)
	if base == "" || err != nil || !u.IsAbs() {
		return nil, core.Errorf(core.KindConfig, "the profile needs url: the Jenkins root URL, e.g. url: https://ci.example.com/")
	}
	st.url = strings.TrimSuffix(base, "/")
	if !st.tls.IsZero() {
		if st.loaded, err = st.tls.Load(); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// needsCrumb says whether the profile's credential carries a crumb.
func (st *settings) needsCrumb() bool {
	return st.crumb == crumbAlways || st.crumb == crumbAuto && !st.isToken
}

// what names the user's secret for messages.
func (st *settings) what() string {
	if st.isToken {
		return "API token"
	}
	return "password"
}

// secrets returns what a message quoting Jenkins must not show, in any
// encoding: the token or password, alone and as the Basic credentials sent,
// and the job's build token.
func (st *settings) secrets() *redact.Set {
	set := redact.New(st.buildToken)
	set.AddBasic(st.user, st.secret)
	return set
}

func (st *settings) basic() string {
	return base64.StdEncoding.EncodeToString([]byte(st.user + ":" + st.secret))
}

// Login implements core.Scheme: it checks the credentials with Jenkins and,
// when a crumb is needed, fetches it with its session cookies.
func (s *Scheme) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	st, err := settingsFor(req.Config, req.URL)
	if err != nil {
		return nil, err
	}
	if st.needsCrumb() {
		return s.withCrumb(ctx, st)
	}
	if _, err := s.whoAmI(ctx, st, nil); err != nil {
		return nil, err
	}
	return st.credential(nil), nil
}

// credential is the profile's preemptive Basic credential, with a crumb
// header and its session cookies when c is set.
func (st *settings) credential(c *crumb) *core.Credential {
	cred := &core.Credential{
		Token:   st.basic(),
		Headers: []core.Header{{Name: "Authorization", Value: "Basic " + st.basic()}},
		Scope:   []string{st.url + "/"},
	}
	if c != nil {
		cred.Headers = append(cred.Headers, core.Header{Name: c.Field, Value: c.Value})
		cred.Cookies = c.Cookies
	}
	return cred
}

// crumb is a crumb and the session it is bound to.
type crumb struct {
	Field, Value string
	Cookies      []core.Cookie
}

// withCrumb fetches a crumb and returns the credential carrying it. A
// Jenkins without CSRF protection (404) needs none.
func (s *Scheme) withCrumb(ctx context.Context, st *settings) (*core.Credential, error) {
	c, err := s.fetchCrumb(ctx, st)
	if err != nil {
		return nil, err
	}
	return st.credential(c), nil
}

// fetchCrumb asks the crumb issuer, with the profile's credentials, for a
// crumb and a new session; nil when CSRF protection is off.
func (s *Scheme) fetchCrumb(ctx context.Context, st *settings) (*crumb, error) {
	resp, body, err := s.get(ctx, st, "/crumbIssuer/api/json", nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil // CSRF protection is off: no crumb, nothing to keep
	}
	if err := st.refusal(resp, body); err != nil {
		return nil, err
	}
	c, err := parseCrumb(body)
	if err != nil {
		return nil, core.Prefix(redact.RawURL(st.url)+"/crumbIssuer/api/json", err, core.KindBadAnswer)
	}
	c.Cookies = sessionCookies(resp)
	return c, nil
}

// maxCrumbSize bounds a crumb: Jenkins' are 64 hex digits.
const maxCrumbSize = 1024

// parseCrumb reads a crumb issuer's JSON answer. The crumb goes into a
// request header (and a curl config, a wgetrc), so crumbRequestField must be
// an HTTP header name (an RFC 9110 token) and the crumb at most 1 KiB with
// no whitespace or control character; an answer that breaks this is a bad
// answer (KindBadAnswer) whose message quotes neither.
func parseCrumb(body []byte) (*crumb, error) {
	var answer struct {
		Crumb string `json:"crumb"`
		Field string `json:"crumbRequestField"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Crumb == "" || answer.Field == "" {
		return nil, core.Errorf(core.KindBadAnswer, "the answer holds no crumb and crumbRequestField; is url the Jenkins root?")
	}
	if !core.ValidHeaderName(answer.Field) {
		return nil, core.Errorf(core.KindBadAnswer, "crumbRequestField is not an HTTP header name (it holds a separator, space or control character, or is too long); refusing to send it")
	}
	if len(answer.Crumb) > maxCrumbSize || strings.ContainsFunc(answer.Crumb, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, core.Errorf(core.KindBadAnswer, "the crumb holds whitespace or a control character, or is longer than %d bytes; refusing to send it", maxCrumbSize)
	}
	return &crumb{Field: answer.Field, Value: answer.Crumb}, nil
}

// maxCookies bounds the cookies kept from one answer.
const maxCookies = 16

// sessionCookies returns the cookies resp sets, to be sent back with the
// crumb. The session cookie's name is random per Jenkins start, so all are
// kept, but only those a Cookie header can carry unchanged (RFC 6265: a
// token name, cookie-octets for the value), at most maxCookies.
func sessionCookies(resp *http.Response) []core.Cookie {
	var out []core.Cookie
	for _, k := range resp.Cookies() {
		if len(out) == maxCookies {
			break
		}
		c := core.Cookie{Name: k.Name, Value: k.Value, Path: k.Path, HTTPOnly: k.HttpOnly, Secure: k.Secure}
		if (&core.Credential{Cookies: []core.Cookie{c}}).Validate() == nil {
			out = append(out, c)
		}
	}
	return out
}

// whoAmI asks Jenkins who the profile's credentials are; cred adds a crumb
// session when given.
func (s *Scheme) whoAmI(ctx context.Context, st *settings, cred *core.Credential) (map[string]any, error) {
	resp, body, err := s.get(ctx, st, "/whoAmI/api/json", cred)
	if err != nil {
		return nil, err
	}
	if err := st.refusal(resp, body); err != nil {
		return nil, err
	}
	var who map[string]any
	if json.Unmarshal(body, &who) != nil {
		return nil, core.Errorf(core.KindBadAnswer, "%s/whoAmI/api/json: the answer is not JSON; is url the Jenkins root?", redact.RawURL(st.url))
	}
	if who["anonymous"] == true {
		return nil, core.Errorf(core.KindConfig, "Jenkins treated the credentials of user %q as anonymous: they did not reach it (a proxy in between may strip Authorization)", st.user)
	}
	return who, nil
}

// get sends one GET with the profile's credentials.
func (s *Scheme) get(ctx context.Context, st *settings, path string, cred *core.Credential) (*http.Response, []byte, error) {
	return s.send(ctx, st, "GET", path, nil, cred)
}

// send sends one request of the scheme's own with the profile's Basic
// credentials (and cred's crumb and cookies when given), and reads at most
// 1 MiB of the answer.
func (s *Scheme) send(ctx context.Context, st *settings, method, path string, form url.Values, cred *core.Credential) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, st.url+path, body)
	if err != nil {
		return nil, nil, core.Errorf(core.KindConfig, "url %q is not a valid URL", redact.RawURL(st.url))
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", "Basic "+st.basic())
	if cred != nil {
		for _, h := range cred.Headers[1:] {
			req.Header.Set(h.Name, h.Value)
		}
		if ck := cred.CookieHeader(); ck != "" {
			req.Header.Set("Cookie", ck)
		}
	}
	client := *http.DefaultClient
	if s.HTTP != nil {
		client = *s.HTTP
	}
	if st.loaded != nil { // the profile's ca_file, client_cert and client_key
		if st.transport == nil {
			if st.transport, err = st.loaded.Transport(client.Transport); err != nil {
				return nil, nil, err
			}
		}
		client.Transport = st.transport
	}
	// Never follow a redirect: net/http would resend the Basic credentials
	// (and the crumb) to wherever it points. A Jenkins API endpoint that
	// redirects means url is not the Jenkins root; refusal says so.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil || core.IsTimeout(err) {
			return nil, nil, core.Errorf(core.KindTimeout, "%s %s%s: no answer within %s (the profile's timeout)", method, redact.RawURL(st.url), path, st.timeout)
		}
		return nil, nil, core.Errorf(core.KindNetwork, "%s %s%s: %v", method, redact.RawURL(st.url), path, unwrapURLError(err)) // url.Error's text would repeat the URL
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		kind := core.KindNetwork
		if core.IsTimeout(err) {
			kind = core.KindTimeout
		}
		return nil, nil, core.Errorf(kind, "%s %s%s: reading the answer: %v", method, redact.RawURL(st.url), path, err)
	}
	return resp, data, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// refusal turns a non-2xx answer to one of the scheme's own requests into
// the diagnosis a user needs, or nil for a 2xx.
func (st *settings) refusal(resp *http.Response, body []byte) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	if d := diagnose(st, resp.StatusCode, resp.Header, body); d != nil {
		return d
	}
	kind := core.KindHTTP
	if resp.StatusCode >= 500 {
		kind = core.KindHTTPServer
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		return core.Errorf(core.KindConfig, "%s %s: Jenkins redirects to %s; set url to the Jenkins root as it serves itself (scheme, host and path), authx follows no redirect with credentials",
			resp.Request.Method, redact.RawURL(resp.Request.URL.String()), redact.RawURL(loc))
	}
	return core.Errorf(kind, "%s %s: Jenkins answered HTTP %d", resp.Request.Method, redact.RawURL(resp.Request.URL.String()), resp.StatusCode)
}

// diagnose explains a Jenkins refusal, or returns nil when it is none of
// the known ones. Each case has its own kind, so that scripts can tell them
// apart by exit code:
//
//	401                                  the user's token or password is wrong: KindRejected (4)
//	403 X-You-Are-Authenticated-As: anonymous    no credentials reached Jenkins: KindConfig (2)
//	403 X-Required-Permission for a user         the user lacks a permission: KindForbidden (14)
//	403 "Invalid token provided"                 a job's build token is wrong: KindHTTP (7)
func diagnose(st *settings, status int, h http.Header, body []byte) *core.Error {
	switch {
	case status == http.StatusUnauthorized:
		realm := ""
		if c, ok := httpauth.Find(httpauth.ParseHeader(h, "WWW-Authenticate"), "Basic"); ok && c.Params["realm"] != "" {
			realm = fmt.Sprintf(", realm %q", st.secrets().Scrub(c.Params["realm"]))
		}
		return core.Errorf(core.KindRejected, "Jenkins rejected user %q's %s (HTTP 401%s): check user and %s", st.user, st.what(), realm, keyOf(st))
	case status != http.StatusForbidden:
		return nil
	case strings.EqualFold(h.Get("X-You-Are-Authenticated-As"), "anonymous"):
		return core.Errorf(core.KindConfig, "Jenkins saw the request as anonymous (it needs %s): it was sent without credentials; is the URL under the profile's url, or does a proxy strip Authorization?", st.secrets().Scrub(or(h.Get("X-Required-Permission"), "Overall/Read")))
	case h.Get("X-Required-Permission") != "":
		return core.Errorf(core.KindForbidden, "Jenkins user %q lacks the permission %s", st.secrets().Scrub(or(h.Get("X-You-Are-Authenticated-As"), st.user)), st.secrets().Scrub(h.Get("X-Required-Permission")))
	case strings.Contains(string(body), "Invalid token provided"):
		return core.Errorf(core.KindHTTP, "Jenkins refused the job's build token (the token= parameter): check the job's \"Trigger builds remotely\" token")
	}
	return nil
}

// staleCrumb reports a CrumbFilter refusal.
func staleCrumb(status int, body []byte) bool {
	return status == http.StatusForbidden && strings.Contains(string(body), "No valid crumb")
}

func keyOf(st *settings) string {
	if st.isToken {
		return "api_token"
	}
	return "password"
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// HandleChallenge implements core.ChallengeHandler. A stale crumb ("No valid
// crumb", also when the profile sent none because Jenkins did not take its
// API token as one) gets a new crumb and session and one retry, safe even
// for a POST: CrumbFilter refused before anything ran. Every other refusal
// is a diagnosis, returned as a classified error.
func (s *Scheme) HandleChallenge(ctx context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	st, err := settingsFor(req.Config, req.URL)
	if err != nil {
		return core.ChallengeResponse{}, err
	}
	if staleCrumb(req.Response.Status, req.Response.BodyPrefix) {
		if st.crumb == crumbNever {
			return core.ChallengeResponse{}, core.Errorf(core.KindHTTP, "Jenkins wants a CSRF crumb (No valid crumb was included in the request) but the profile says crumb: never")
		}
		c, err := s.fetchCrumb(ctx, st)
		if err != nil {
			return core.ChallengeResponse{}, err
		}
		if c == nil {
			return core.ChallengeResponse{}, core.Errorf(core.KindHTTP, "Jenkins refused the crumb, but its crumb issuer is off (404)")
		}
		return core.ChallengeResponse{Decision: core.DecisionRetry, Credential: st.credential(c), ReplaySafe: true,
			Diagnosis: "Jenkins refused the crumb (its session expired or Jenkins restarted): fetched a new one"}, nil
	}
	if req.Response.Status == http.StatusUnauthorized && req.Credential != nil && req.Credential.Token != st.basic() {
		// The token or password was rotated since the credential was cached.
		// Jenkins authenticates before anything else, so a POST is safe too.
		return core.ChallengeResponse{Decision: core.DecisionLogin, ReplaySafe: true,
			Diagnosis: fmt.Sprintf("user %q's %s changed since the credential was cached", st.user, st.what())}, nil
	}
	if d := diagnose(st, req.Response.Status, req.Response.Header, req.Response.BodyPrefix); d != nil {
		return core.ChallengeResponse{}, d
	}
	return core.ChallengeResponse{Decision: core.DecisionFail,
		Diagnosis: fmt.Sprintf("Jenkins refused %s %s (HTTP %d)", req.Request.Method, redact.RawURL(req.Request.URL), req.Response.Status)}, nil
}
