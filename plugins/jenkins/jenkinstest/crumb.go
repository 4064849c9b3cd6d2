package jenkinstest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// Crumb computes DefaultCrumbIssuer's crumb as Jenkins 2.543 and later do (no
// client IP): lowercase hex of SHA-256(UTF-8(user + ";" + sessionID) ||
// ASCII(salt)). user is "anonymous" for anonymous callers; sessionID is
// HttpSession.getId(), the session's cluster ID, which is the JSESSIONID
// cookie value without its ".node0" worker suffix.
func Crumb(user, sessionID, salt string) string {
	h := sha256.New()
	h.Write([]byte(user + ";" + sessionID))
	h.Write([]byte(salt))
	return hex.EncodeToString(h.Sum(nil))
}

// workerName is Jetty's default session worker name: cluster IDs start with
// it and cookie values (extended IDs) end with "." + it.
const workerName = "node0"

// lookupSession finds the session named by the request's session cookie, as
// Jetty does: every cookie with the current session cookie name is tried in
// order, its value stripped of the ".worker" suffix.
func (x *exchange) lookupSession() (string, bool) {
	if x.sid != "" {
		return x.sid, true
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	for _, c := range x.r.Cookies() {
		if c.Name != x.s.cookieName {
			continue
		}
		id := c.Value
		if i := strings.LastIndexByte(id, '.'); i > 0 {
			id = id[:i]
		}
		if _, ok := x.s.sessions[id]; ok {
			x.sid = id
			return id, true
		}
	}
	return "", false
}

// session is request.getSession(): the request's session, created (with
// Set-Cookie, and Jetty's Expires header that keeps the response out of
// caches) if the request names none that exists.
func (x *exchange) session() string {
	if id, ok := x.lookupSession(); ok {
		return id
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	x.s.mu.Lock()
	x.s.sessionSeq++
	id := workerName + strconv.FormatUint(binary.BigEndian.Uint64(b[:])>>1, 36) + strconv.FormatInt(x.s.sessionSeq, 10)
	x.s.sessions[id] = struct{}{}
	name := x.s.cookieName
	x.s.mu.Unlock()
	x.sid = id
	h := x.w.Header()
	h.Add("Set-Cookie", name+"="+id+"."+workerName+"; Path=/; HttpOnly")
	h.Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
	return id
}

// crumbFilter is CrumbFilter.doFilter; it reports whether the request may go
// on. Only POST is checked. The exclusions (build-token-root's /buildByToken/
// and ApiCrumbExclusion for API-token requests) run first. A crumb is looked
// for under the configured field name only (CrumbFilter also looks for
// ".crumb" but discards what it finds). The session is looked up, and created,
// only when a crumb was sent: validateCrumb is what calls getSession().
func (s *Server) crumbFilter(x *exchange) bool {
	if !s.csrf || x.r.Method != http.MethodPost {
		return true
	}
	if strings.HasPrefix(x.path, "/buildByToken/") || x.who.apiToken {
		return true
	}
	crumb, ok := x.extractCrumb()
	if ok {
		want := Crumb(x.who.name, x.session(), s.salt)
		if subtle.ConstantTimeCompare([]byte(want), []byte(crumb)) == 1 {
			return true
		}
	}
	x.sendError(http.StatusForbidden, "No valid crumb was included in the request")
	return false
}

// extractCrumb is CrumbFilter.extractCrumbFromRequest: the header first (even
// an empty one), else the parameter of exactly that name.
func (x *exchange) extractCrumb() (string, bool) {
	if v := x.r.Header.Values(x.s.field); len(v) > 0 {
		return v[0], true
	}
	return x.param(x.s.field)
}

// crumbIssuer serves /crumbIssuer/… (DefaultCrumbIssuer and its RestrictedApi).
func (s *Server) crumbIssuer(x *exchange, rest []string) {
	if !s.csrf || len(rest) != 2 || rest[0] != "api" {
		x.notFound()
		return
	}
	switch rest[1] {
	case "json":
		if x.jsonpForbidden() {
			return
		}
		crumb := Crumb(x.who.name, x.session(), s.salt)
		if s.crumbValue != "" {
			crumb = s.crumbValue
		}
		x.apiJSON(object{
			{"_class", "hudson.security.csrf.DefaultCrumbIssuer"},
			{"crumb", crumb},
			{"crumbRequestField", s.field},
		})
	case "xml":
		h := x.w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "deny")
		xpath, hasXPath := x.param("xpath")
		crumb := Crumb(x.who.name, x.session(), s.salt)
		var text string
		switch {
		case !hasXPath:
			h.Set("Content-Type", "application/xml;charset=utf-8")
			x.w.WriteHeader(http.StatusOK)
			_, _ = x.w.Write([]byte(`<defaultCrumbIssuer _class="hudson.security.csrf.DefaultCrumbIssuer">` +
				"<crumb>" + crumb + "</crumb><crumbRequestField>" + html.EscapeString(s.field) +
				"</crumbRequestField></defaultCrumbIssuer>"))
			return
		case xpath == "/*/crumbRequestField/text()":
			text = s.field
		case xpath == "/*/crumb/text()":
			text = crumb
		case xpath == `concat(//crumbRequestField,":",//crumb)`:
			text = s.field + ":" + crumb
		case xpath == `concat(//crumbRequestField,'=',//crumb)` &&
			(strings.HasPrefix(s.field, ".") || strings.Contains(s.field, "-")):
			text = s.field + "=" + crumb
		default:
			// Api.doXml evaluates anything else; a string result is refused.
			// The emulator evaluates no XPath and refuses them all.
			x.sendError(http.StatusForbidden, "primitive XPath result sets forbidden; implement jenkins.security.SecureRequester")
			return
		}
		h.Set("Content-Type", "text/plain;charset=utf-8")
		x.w.WriteHeader(http.StatusOK)
		_, _ = x.w.Write([]byte(text))
	default:
		x.notFound()
	}
}
