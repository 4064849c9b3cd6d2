package jwt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authx/authx/core"
)

// maxAnswer bounds how much of a token endpoint's answer is read.
const maxAnswer = 1 << 20

// exchange is one request to a login, refresh or token endpoint.
type exchange struct {
	what    string // "login", "refresh", "token request": for messages
	method  string
	url     string
	body    []byte
	ctype   string
	headers map[string]string
	user    *url.Userinfo // HTTP Basic client authentication, if any
}

// answer is an endpoint's JSON answer.
type answer struct {
	status int
	header http.Header
	doc    any // the decoded JSON
}

// do sends x and decodes a 2xx JSON answer. Every failure is one line
// without secrets: the URL without its query, the status, and the server's
// own message when it gave one.
func (s *Scheme) do(ctx context.Context, st *settings, x exchange) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, x.method, x.url, bytes.NewReader(x.body))
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "%s: %v", x.what, err)
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
	if x.user != nil {
		pw, _ := x.user.Password()
		req.SetBasicAuth(url.QueryEscape(x.user.Username()), url.QueryEscape(pw)) // RFC 6749 §2.3.1
	}
	where := redact(x.url)
	resp, err := s.client().Do(req)
	if err != nil {
		return nil, transportError(x.what, where, st.timeout, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, transportError(x.what, where, st.timeout, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(x.what, where, resp, raw)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, core.Errorf(core.KindNetwork, "%s %s: the server answered HTTP %d with %s, not JSON; is the URL the API's endpoint?",
			x.what, where, resp.StatusCode, describeBody(resp.Header.Get("Content-Type"), raw))
	}
	return &answer{status: resp.StatusCode, header: resp.Header, doc: doc}, nil
}

// transportError classifies a failed round trip.
func transportError(what, where string, timeout time.Duration, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return core.Errorf(core.KindNetwork, "%s %s: no answer within %s (the profile's timeout)", what, where, timeout)
	case errors.Is(err, context.Canceled):
		return core.Errorf(core.KindNetwork, "%s %s: canceled", what, where)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return core.Errorf(core.KindNetwork, "%s %s: %v", what, where, err)
}

// statusError turns a non-2xx answer into an error carrying the server's
// message.
func statusError(what, where string, resp *http.Response, raw []byte) error {
	msg := serverMessage(raw)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	kind := core.KindNetwork
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		kind = core.KindConfig
		msg += "; check the URL and method"
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		kind = core.KindRejected
	}
	return &statusErr{err: core.Errorf(kind, "%s %s: HTTP %d: %s", what, where, resp.StatusCode, msg), code: oauthError(raw), status: resp.StatusCode}
}

// statusErr is a refused exchange; code is the OAuth2 "error" or WordPress
// "code" of the answer, when it has one.
type statusErr struct {
	err    *core.Error
	code   string
	status int
}

func (e *statusErr) Error() string { return e.err.Error() }
func (e *statusErr) Unwrap() error { return e.err }

// serverMessage extracts the human message of an error answer: a bare JSON
// string (json-server-auth), or the first of error_description, message,
// detail, error (OAuth2, WordPress, Django REST framework, most APIs), with
// HTML tags removed (WordPress puts HTML in its messages). It returns "" when
// the answer says nothing readable.
func serverMessage(raw []byte) string {
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
	return oneLine(stripHTML(msg), 300)
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

var tags = regexp.MustCompile(`<[^>]*>`)

// stripHTML removes tags and decodes entities.
func stripHTML(s string) string {
	return html.UnescapeString(tags.ReplaceAllString(s, ""))
}

// oneLine collapses whitespace and bounds the length.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// describeBody names what came instead of JSON, without quoting more than a
// page title.
func describeBody(ctype string, raw []byte) string {
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt == "" {
		mt = "a body of unknown type"
	}
	if m := regexp.MustCompile(`(?is)<title>(.*?)</title>`).FindSubmatch(raw); m != nil {
		return fmt.Sprintf("%s (page title %q)", mt, oneLine(stripHTML(string(m[1])), 60))
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return "an empty body"
	}
	return mt
}

// redact drops the query and user info of a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// lookup returns the value at a dot path (data.token) in a JSON document.
func lookup(doc any, path string) (any, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
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
func firstString(doc any, paths []string) (string, string, bool) {
	for _, p := range paths {
		if v, ok := lookup(doc, p); ok {
			if s, ok := v.(string); ok && s != "" {
				return s, p, true
			}
		}
	}
	return "", "", false
}

// seconds reads a lifetime in seconds (a JSON number or a numeric string).
func seconds(doc any, paths []string) (time.Duration, bool) {
	for _, p := range paths {
		v, ok := lookup(doc, p)
		if !ok {
			continue
		}
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case string:
			var err error
			if f, err = strconv.ParseFloat(n, 64); err != nil {
				continue
			}
		default:
			continue
		}
		if f > 0 {
			return time.Duration(f * float64(time.Second)), true
		}
	}
	return 0, false
}

// keys lists the dot paths of a JSON document's leaves (never their
// values), for an error that must say what the answer did hold.
func keys(doc any) []string {
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
			if path != "" {
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
