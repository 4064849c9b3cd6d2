package jenkinstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// object is a JSON object whose keys keep their order, as Stapler's exporter
// writes them.
type object []field

type field struct {
	key string
	val any
}

// MarshalJSON writes the fields in order, without HTML escaping (Stapler does
// not escape '<', '>' or '&').
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := marshal(f.val)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// rootURL is Jenkins' root URL as derived from the request (no root URL is
// configured), with a trailing slash.
func (x *exchange) rootURL() string { return "http://" + x.r.Host + "/" }

// requestURI is HttpServletRequest.getRequestURI: the raw path, no query.
func (x *exchange) requestURI() string { return x.r.URL.EscapedPath() }

// param is ServletRequest.getParameter: the first value of name from the
// query string, else from an application/x-www-form-urlencoded POST or PUT
// body. ok is false when the parameter is absent (null in Java).
func (x *exchange) param(name string) (string, bool) {
	if v := x.query[name]; len(v) > 0 {
		return v[0], true
	}
	x.parseForm()
	if v := x.r.PostForm[name]; len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// hasParams reports whether the request has any parameter at all
// (getParameterMap is not empty).
func (x *exchange) hasParams() bool {
	x.parseForm()
	return len(x.query) > 0 || len(x.r.PostForm) > 0
}

func (x *exchange) parseForm() {
	if x.form {
		return
	}
	x.form = true
	if x.r.Method == http.MethodPost || x.r.Method == http.MethodPut {
		_ = x.r.ParseForm() // as Jetty, a malformed body yields what parsed
	}
	if x.r.PostForm == nil {
		x.r.PostForm = map[string][]string{}
	}
}

// html writes an HTML page.
func (x *exchange) html(status int, body string) {
	x.w.Header().Set("Content-Type", "text/html;charset=utf-8")
	x.w.WriteHeader(status)
	_, _ = x.w.Write([]byte(body))
}

// apiJSON serves an exported bean as Api.doJson does (200, Api.setHeaders).
func (x *exchange) apiJSON(v any) {
	h := x.w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "deny")
	x.json(http.StatusOK, v)
}

func (x *exchange) json(status int, v any) {
	b, err := marshal(v)
	if err != nil {
		panic(err) // only our own values are marshalled
	}
	x.w.Header().Set("Content-Type", "application/json;charset=utf-8")
	x.w.WriteHeader(status)
	_, _ = x.w.Write(b)
}

// jsonpForbidden answers Api.doJson's refusal of ?jsonp= and reports whether
// it did.
func (x *exchange) jsonpForbidden() bool {
	if _, ok := x.param("jsonp"); !ok {
		return false
	}
	x.sendError(http.StatusForbidden, "jsonp forbidden; implement jenkins.security.SecureRequester")
	return true
}

// status is HttpResponses.status(code): the status and nothing else
// (HttpResponses.notFound(), forbidden(), ok()).
func (x *exchange) status(code int) { x.w.WriteHeader(code) }

// stackTrace is HttpResponses.error(code, exception): a text/plain body with
// the exception's stack trace, of which the emulator writes the first line.
func (x *exchange) stackTrace(code int, exception, msg string) {
	x.w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	x.w.WriteHeader(code)
	fmt.Fprintf(x.w, "%s: %s\n", exception, msg)
}

// notFound is Stapler's 404 for a URL nothing dispatches to.
func (x *exchange) notFound() { x.sendError(http.StatusNotFound, "Not Found") }

// sendError is HttpServletResponse.sendError as Jenkins' Jetty answers it:
// the container error page (Jetty 9.4 layout). msg "" means the reason
// phrase. The status line carries Go's standard reason phrase.
func (x *exchange) sendError(code int, msg string) {
	if msg == "" {
		msg = http.StatusText(code)
	}
	m := html.EscapeString(msg)
	h := x.w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	h.Set("Cache-Control", "must-revalidate,no-cache,no-store")
	x.w.WriteHeader(code)
	fmt.Fprintf(x.w, "<html>\n<head>\n"+
		"<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"+
		"<title>Error %d %s</title>\n"+
		"</head>\n"+
		"<body><h2>HTTP ERROR %d %s</h2>\n"+
		"<table>\n"+
		"<tr><th>URI:</th><td>%s</td></tr>\n"+
		"<tr><th>STATUS:</th><td>%d</td></tr>\n"+
		"<tr><th>MESSAGE:</th><td>%s</td></tr>\n"+
		"<tr><th>SERVLET:</th><td>Stapler</td></tr>\n"+
		"</table>\n"+
		"<hr><a href=\"https://eclipse.org/jetty\">Powered by Jetty:// 9.4.43.v20210629</a><hr/>\n"+
		"</body>\n</html>\n",
		code, m, code, m, html.EscapeString(x.requestURI()), code, m)
}

// requirePOST is the 405 a GET (or any non-POST) gets from a POST-only
// endpoint: `Allow: POST` and the "This URL requires POST" page with a
// "Retry using POST" form (CrumbFilter/retry.jelly, requirePOST.jelly).
func (x *exchange) requirePOST() {
	u := x.rootURL() + strings.TrimPrefix(x.r.URL.RequestURI(), "/")
	x.w.Header().Add("Allow", "POST")
	x.html(http.StatusMethodNotAllowed, "<!DOCTYPE html><html><head><title>Jenkins</title></head><body>"+
		"<h1>This URL requires POST</h1>"+
		"<p>The URL you're trying to access requires that requests be sent using POST (like a form submission). "+
		"The button below allows you to retry accessing this URL using POST. URL being accessed:</p>"+
		"<pre>"+html.EscapeString(u)+"</pre>"+
		"<p>If you were sent here from an untrusted source, please proceed with caution.</p>"+
		"<form method=\"post\" action=\""+html.EscapeString(u)+"\"><input type=\"submit\" value=\"Retry using POST\"></form>"+
		"</body></html>")
}

// denyPermission answers an AccessDeniedException3 for perm: the caller lacks
// it. Anonymous callers get HudsonAuthenticationEntryPoint's 403
// "Authentication required" page, authenticated ones AccessDeniedHandlerImpl's
// /accessDenied page; both carry the diagnostic X-… headers.
func (x *exchange) denyPermission(perm string) { x.deny(perm, "") }

// denyMessage answers a plain AccessDeniedException (no permission attached,
// so no diagnostic headers), e.g. "Invalid token provided.".
func (x *exchange) denyMessage(msg string) { x.deny("", msg) }

func (x *exchange) deny(perm, msg string) {
	if perm != "" {
		msg = fmt.Sprintf("%s is missing the %s permission", x.who.name, title(perm))
	}
	if x.who.anonymous {
		x.authenticationRequired(perm)
		return
	}
	if perm != "" {
		x.reportAsHeaders(perm)
	}
	x.html(http.StatusForbidden, "<!DOCTYPE html><html><head><title>Access Denied [Jenkins]</title></head>"+
		"<body><div id=\"main-panel\"><h1>Access Denied</h1><p>"+html.EscapeString(msg)+"</p></div></body></html>")
}

func title(perm string) string {
	if t, ok := permTitle[perm]; ok {
		return t
	}
	i := strings.LastIndexByte(perm, '.')
	return perm[i+1:]
}

// reportAsHeaders is AccessDeniedException3.reportAsHeaders.
func (x *exchange) reportAsHeaders(perm string) {
	h := x.w.Header()
	h.Add("X-You-Are-Authenticated-As", x.who.name)
	h.Add("X-You-Are-In-Group-Disabled", "JENKINS-39402: use -Dhudson.security.AccessDeniedException2.REPORT_GROUP_HEADERS=true or use /whoAmI to diagnose")
	h.Add("X-Required-Permission", perm)
	for p := impliedBy[perm]; p != ""; p = impliedBy[p] {
		h.Add("X-Permission-Implied-By", p)
	}
}

// authenticationRequired is HudsonAuthenticationEntryPoint.commence: 403 (not
// 401, no WWW-Authenticate), a white page that redirects browsers to the login
// form, the AccessDeniedException3 report in an HTML comment when there is
// one, and 300 spaces of padding. An XMLHttpRequest gets a bare sendError(403).
func (x *exchange) authenticationRequired(perm string) {
	if x.r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		x.sendError(http.StatusForbidden, "")
		return
	}
	from := x.requestURI()
	if q := x.r.URL.RawQuery; q != "" {
		from += "?" + q
	}
	login := "/login?from=" + javaURLEncode(from)
	x.s.mu.Lock()
	hash := x.s.sessionHash
	x.s.mu.Unlock()
	if perm != "" {
		x.reportAsHeaders(perm)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<html><head><meta http-equiv='refresh' content='1;url=%[1]s'/>"+
		"<script id='redirect' data-redirect-url='%[1]s' src='/static/%[2]s/scripts/redirect.js'></script>"+
		"</head><body style='background-color:white; color:white;'>\n\n\nAuthentication required\n<!--\n", login, hash)
	if perm != "" {
		fmt.Fprintf(&b, "You are authenticated as: %s\n", x.who.name)
		b.WriteString("Groups that you are in:\n")
		for _, a := range x.who.authorities() {
			fmt.Fprintf(&b, "  %s\n", a)
		}
		fmt.Fprintf(&b, "Permission you need to have (but didn't): %s\n", perm)
		for p := impliedBy[perm]; p != ""; p = impliedBy[p] {
			fmt.Fprintf(&b, " ... which is implied by: %s\n", p)
		}
	}
	b.WriteString("-->\n\n</body></html>")
	b.WriteString(strings.Repeat(" ", 300))
	x.w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	x.w.WriteHeader(http.StatusForbidden)
	_, _ = x.w.Write([]byte(b.String()))
}

// javaURLEncode is java.net.URLEncoder.encode(s, UTF_8): letters, digits and
// ".-*_" stay, ' ' becomes '+', every other byte is %XX.
func javaURLEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
