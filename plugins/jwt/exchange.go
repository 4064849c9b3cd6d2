package jwt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
	"github.com/authx/authx/core/redact"
)

// maxBody bounds how much of an answer (login, refresh, token endpoint,
// JWKS) is read.
const maxBody = 1 << 20

// maxRedirects is how many redirects an exchange follows, as net/http does.
const maxRedirects = 10

// exchange is one request to a login, refresh or token endpoint.
type exchange struct {
	what   string // "login", "refresh", "token request": for messages
	method string
	url    string
	body   []byte // nil: no body
	ctype  string
	// basicUser and basicPassword, when basicUser is set, are sent with HTTP
	// Basic (RFC 6749 §2.3.1 client authentication).
	basicUser, basicPassword string
	// secrets are values the request carries besides those of the settings
	// (a refresh token): an answer that echoes them is scrubbed.
	secrets []string
	// oauth2 says x goes to an OAuth2 token endpoint: a 2xx answer with an
	// "error" member and no access_token is that error (RFC 6749 §5.2),
	// as GitHub sends its errors, device flow polls included.
	oauth2 bool
	// dpop, when set, is the DPoP key and nonce every attempt's proof is
	// made with (RFC 9449 §5); its nonce is updated from the answers.
	dpop *dpopState
}

// do sends x and returns the decoded JSON of a 2xx answer. Every failure is
// one line without secrets: the URL without its query, the status, and the
// server's own message when it gave one, scrubbed of what was sent. A
// redirect may not leave the endpoint's host nor drop TLS.
func (s *Scheme) do(ctx context.Context, st *settings, x exchange) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	where := redact.RawURL(x.url)
	if x.basicUser != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(x.basicUser) + ":" + url.QueryEscape(x.basicPassword)))
		x.secrets = append(x.secrets, basic) // a server may quote the credentials it refused
	}
	secrets := append(st.secrets(), x.secrets...)
	status, header, raw, err := s.send(ctx, st, x)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		err := statusError(x.what, where, status, raw, secrets)
		if x.dpop != nil {
			err.(*statusErr).dpopNonce = validNonce(header.Get("DPoP-Nonce"))
		}
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, &statusErr{status: status, err: core.Errorf(core.KindBadAnswer, "%s %s: the server answered HTTP %d with %s, not JSON; is the URL the API's endpoint?",
			x.what, where, status, redact.Secrets(describeBody(header.Get("Content-Type"), raw), secrets...))}
	}
	if m, ok := doc.(map[string]any); ok && x.oauth2 && m["access_token"] == nil {
		if code, ok := m["error"].(string); ok {
			return nil, &statusErr{status: status, code: code, err: core.Errorf(core.KindRejected, "%s %s: HTTP %d with error %s: %s",
				x.what, where, status, printable(code), serverMessage(raw, secrets...))}
		}
	}
	return doc, nil
}

// send makes one round trip of x and reads the answer, bounded. With DPoP
// the request carries a fresh proof with the latest nonce, and a nonce the
// answer brings (a DPoP-Nonce header, RFC 9449 §8.2) is kept for the next
// request.
func (s *Scheme) send(ctx context.Context, st *settings, x exchange) (status int, header http.Header, raw []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, x.method, x.url, bytes.NewReader(x.body))
	if err != nil {
		return 0, nil, nil, core.Errorf(core.KindConfig, "%s: %v", x.what, err)
	}
	if x.body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	} else {
		req.Header.Set("Content-Type", x.ctype)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "authx-plugin-jwt/"+Version)
	for k, v := range st.headers {
		req.Header.Set(k, v)
	}
	if x.basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(x.basicUser), url.QueryEscape(x.basicPassword)) // RFC 6749 §2.3.1
	}
	if d := x.dpop; d != nil {
		proof, err := d.key.proof(x.method, x.url, "", d.TokenNonce, s.now())
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header.Set("DPoP", proof)
	}
	where, limit := redact.RawURL(x.url), st.timeout.String()+" (the profile's timeout)"
	client, err := s.httpClient(st)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := stayOnHost(client).Do(req)
	if err != nil {
		return 0, nil, nil, transportError(x.what, where, limit, err)
	}
	defer resp.Body.Close()
	raw, err = readBody(resp.Body)
	if err != nil {
		return 0, nil, nil, transportError(x.what, where, limit, err)
	}
	if n := resp.Header.Get("DPoP-Nonce"); x.dpop != nil && validNonce(n) {
		x.dpop.TokenNonce = n
	}
	return resp.StatusCode, resp.Header, raw, nil
}

// stayOnHost returns a copy of c that refuses a redirect to another origin
// (scheme, host or port; net/http's own rule ignores the port), except the
// upgrade from http to https on the same host and default ports: a 307 or
// 308 sends the body (password, client secret, refresh token) again, and
// net/http forwards custom headers and Basic client authentication, which
// are secrets, to any host.
func stayOnHost(c *http.Client) *http.Client {
	cc := *c
	next := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		from, to := via[0].URL, req.URL
		upgrade := from.Scheme == "http" && to.Scheme == "https" && strings.EqualFold(to.Hostname(), from.Hostname()) && from.Port() == "" && to.Port() == ""
		if !authhttp.SameOrigin(from, to) && !upgrade {
			return core.Errorf(core.KindConfig, "redirected to %s, and authx sends no credentials to another origin or over plain http: put that URL in the profile if you trust it", redact.RawURL(to.String()))
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return core.Errorf(core.KindBadAnswer, "stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &cc
}

// readBody reads an answer of at most maxBody bytes; a longer one is a
// KindBadAnswer error rather than silently cut.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err == nil && len(b) > maxBody {
		err = core.Errorf(core.KindBadAnswer, "the answer is larger than %d bytes", maxBody)
	}
	return b, err
}

// transportError classifies a failed round trip of what to where (a
// redacted URL): KindTimeout when time ran out (limit describes the bound),
// else KindNetwork; an error that has its kind keeps it.
func transportError(what, where, limit string, err error) error {
	switch {
	case core.IsTimeout(err):
		return core.Errorf(core.KindTimeout, "%s %s: no answer within %s", what, where, limit)
	case errors.Is(err, context.Canceled):
		return core.Errorf(core.KindNetwork, "%s %s: canceled", what, where)
	case core.KindOf(err) != core.KindInternal:
		return core.Prefix(what+" "+where, err, core.KindNetwork)
	}
	// A *url.Error repeats the URL, query included; a *net.OpError the
	// addresses, which where already names.
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Err != nil {
		err = oe.Err
	}
	return core.Errorf(core.KindNetwork, "%s %s: %v", what, where, err)
}

// statusError turns a non-2xx answer into an error carrying the server's
// message, scrubbed of secrets: KindConfig for 404 and 405 (a wrong URL or
// method), KindRejected for other 4xx, KindHTTPServer for 5xx, KindBadAnswer
// otherwise.
func statusError(what, where string, status int, raw []byte, secrets []string) error {
	msg := serverMessage(raw, secrets...)
	if msg == "" {
		msg = http.StatusText(status)
	}
	kind := core.KindBadAnswer
	switch {
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		kind = core.KindConfig
		msg += "; check the URL and method"
	case status >= 400 && status < 500:
		kind = core.KindRejected
	case status >= 500:
		kind = core.KindHTTPServer
	}
	return &statusErr{err: core.Errorf(kind, "%s %s: HTTP %d: %s", what, where, status, msg), code: oauthError(raw), status: status}
}

// statusErr is an exchange the server answered with a refusal, or with a
// 2xx status but no JSON; code is the OAuth2 "error" or WordPress "code" of
// the answer, when it has one. Its kind is err's.
type statusErr struct {
	err    *core.Error
	code   string
	status int
	// dpopNonce says the answer carried a valid DPoP-Nonce header (RFC
	// 9449 §8), which the exchange's DPoP state now holds.
	dpopNonce bool
}

func (e *statusErr) Error() string { return e.err.Error() }
func (e *statusErr) Unwrap() error { return e.err }

// serverMessage extracts the human message of an error answer: a bare JSON
// string (json-server-auth), or the first of error_description, message,
// detail, error, title (OAuth2, WordPress, Django REST framework, most
// APIs), with HTML tags removed (WordPress puts HTML in its messages), on
// one line of at most 300 runes. It returns "" when the answer says nothing
// readable.
//
// secrets are replaced before anything is cut or rewritten, so that no part
// of one survives at a cut or inside a tag.
func serverMessage(raw []byte, secrets ...string) string {
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	var msg string
	switch v := doc.(type) {
	case string:
		msg = v
	case map[string]any:
		for _, k := range []string{"error_description", "message", "detail", "error", "title"} {
			if s, ok := v[k].(string); ok && s != "" {
				msg = s
				break
			}
		}
		for _, k := range []string{"error", "code"} { // the machine-readable reason, too
			if c, ok := v[k].(string); ok && c != "" && msg != "" && !strings.Contains(msg, c) {
				msg += " (" + c + ")"
				break
			}
		}
		if e, ok := v["error"].(map[string]any); ok && msg == "" { // {"error": {"message": ...}}
			msg, _ = e["message"].(string)
		}
	}
	return oneLine(stripHTML(redact.Secrets(msg, secrets...)), 300)
}

// oauthError returns the OAuth2 "error" or the WordPress "code" of an answer.
func oauthError(raw []byte) string {
	var v struct {
		Error any    `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	if s, ok := v.Error.(string); ok {
		return s
	}
	return v.Code
}

var (
	tags      = regexp.MustCompile(`<[^>]*>`)
	pageTitle = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
)

// stripHTML removes tags and decodes entities.
func stripHTML(s string) string {
	return html.UnescapeString(tags.ReplaceAllString(s, ""))
}

// describeBody names what came instead of JSON, without quoting more than a
// page title.
func describeBody(ctype string, raw []byte) string {
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt == "" {
		mt = "a body of unknown type"
	}
	if m := pageTitle.FindSubmatch(raw); m != nil {
		return fmt.Sprintf("%s (page title %q)", mt, oneLine(stripHTML(string(m[1])), 60))
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return "an empty body"
	}
	return mt
}

// lookup returns the value at a dot path (data.token) in a JSON document.
func lookup(doc any, path string) (any, bool) {
	cur := doc
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// firstString returns the first non-empty string found at one of paths.
func firstString(doc any, paths ...string) (string, bool) {
	for _, p := range paths {
		v, _ := lookup(doc, p)
		if s, ok := v.(string); ok && s != "" {
			return s, true
		}
	}
	return "", false
}

// maxLifetime is the largest lifetime, in seconds, a time.Duration holds.
const maxLifetime = float64(math.MaxInt64 / int64(time.Second))

// lifetime reads a lifetime in seconds (a JSON number or a numeric string)
// at the first of paths that holds a positive one. It returns 0, meaning
// unknown, when none does or the value does not fit a time.Duration.
func lifetime(doc any, paths ...string) time.Duration {
	for _, p := range paths {
		v, _ := lookup(doc, p)
		if s, ok := v.(string); ok {
			v = json.Number(s)
		}
		if f, ok := number(v); ok && f > 0 && f < maxLifetime {
			return time.Duration(f * float64(time.Second))
		}
	}
	return 0
}

// leafPaths lists the dot paths of a JSON document's leaves (never their
// values), sorted and at most 20, for an error that must say what the
// answer did hold.
func leafPaths(doc any) []string {
	var out []string
	var walk func(v any, path string, depth int)
	walk = func(v any, path string, depth int) {
		m, ok := v.(map[string]any)
		if !ok || depth > 4 {
			if path != "" {
				out = append(out, path)
			}
			return
		}
		if len(m) == 0 && path != "" {
			out = append(out, path)
		}
		for k, e := range m {
			p := k
			if depth > 0 { // an empty key is a path of its own
				p = path + "." + k
			}
			walk(e, p, depth+1)
		}
	}
	walk(doc, "", 0)
	slices.Sort(out)
	if len(out) > 20 {
		out = append(out[:20], "…")
	}
	return out
}
