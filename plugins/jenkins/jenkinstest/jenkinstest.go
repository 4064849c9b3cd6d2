// Package jenkinstest is a faithful, in-process emulator of the parts of a
// secured Jenkins controller that a scripted HTTP client meets: Basic
// authentication with a password or an API token, the CSRF crumb issuer and
// CrumbFilter, the anonymous "Authentication required" 403, /whoAmI, API token
// generation and revocation, and remote build triggers (core /job/…/build and
// the Build Authorization Token Root plugin's /buildByToken/…). Crumbs use the
// 2.543+ formula (no client IP) whatever Options.Version says.
//
// It is written to be exactly as strict as Jenkins and never friendlier. Every
// request goes through the same stages, in the order of Jenkins' servlet
// filters (web-fragment.xml):
//
//  1. Authentication (BasicHeaderProcessor). An "Authorization: Basic …"
//     header (scheme matched case-insensitively, Base64, UTF-8, split at the
//     first ':') must name a user and either one of the user's API tokens
//     (tried first) or the user's password. Anything else, including a header
//     without ':' or with bad Base64, is answered 401 with
//     `WWW-Authenticate: Basic realm="Jenkins"` and the container error page,
//     whatever the method or path. Any other Authorization header, or none,
//     leaves the caller anonymous. A session cookie never authenticates:
//     sessions only carry the crumb binding.
//  2. CSRF (CrumbFilter), for POST only, unless the path starts with
//     /buildByToken/, the caller authenticated with an API token, or
//     Options.CSRFDisabled is set. The crumb is read from the request header
//     named Options.CrumbField (header names are case-insensitive), else from
//     the request parameter of exactly that name (query string first, then an
//     application/x-www-form-urlencoded body). It must equal
//     Crumb(user, sessionID, salt) for the session named by the current
//     JSESSIONID.<8 hex> cookie; an unknown or absent session is replaced by a
//     new one (with Set-Cookie), which no crumb can match. Failure is a 403
//     container error page "No valid crumb was included in the request".
//  3. Overall/Read, which every path needs except /whoAmI/… and
//     /buildByToken/… (UnprotectedRootActions). Jenkins checks URLs
//     hierarchically, so an anonymous caller without Overall/Read gets the
//     "Authentication required" 403 (no WWW-Authenticate) even on
//     /job/NAME/build?token=… and on paths that do not exist.
//  4. The route's own checks (Item/Read to see a job, Item/Build or a job
//     token to build, POST-only endpoints, …).
//
// Every response carries X-Jenkins (Options.Version), X-Hudson: 1.395 and
// X-Jenkins-Session (8 hex characters, new at Start and at RestartSessions).
//
// Routes:
//
//	GET  /whoAmI/api/json                       who the caller is (unprotected)
//	GET  /api/json                              the controller and its top-level items
//	GET  /crumbIssuer/api/json, /api/xml        a crumb bound to the caller's session
//	POST /me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken
//	POST /user/ID/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken
//	POST …/jenkins.security.ApiTokenProperty/revoke
//	ANY  /job/NAME/build, /job/NAME/buildWithParameters (folders: /job/F/job/NAME/…)
//	GET  /job/NAME/api/json
//	ANY  /buildByToken/build, /buildWithParameters, /polling ?job=F/NAME&token=T
//	GET  /queue/item/N/api/json
//
// Anything else is a 404 container error page (after the Overall/Read check).
//
// Simplifications (none lets through a request that Jenkins refuses): no login form or
// session-based login (a cookie alone never authenticates, and the Basic
// header is checked on every request even when a session exists); user IDs
// are case-sensitive (Jenkins' own user database ignores case); a crumb in a
// multipart/form-data body is not read; the queue never folds a second
// trigger of a job into the waiting item (every accepted trigger is a new
// queue item, as if the previous one had already started); builds never run;
// the crumb issuer's XML API evaluates no XPath (the four allow-listed forms
// answer, every other xpath is refused with 403, where Jenkins would answer
// an element-valued one); error pages keep Go's standard reason phrase in the
// status line (Jetty may put the message there).
package jenkinstest

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Permission IDs used by the emulator (hudson.security.Permission and
// friends). A permission is held if it, or any permission in its impliedBy
// chain, is granted; hudson.model.Hudson.Administer is at the end of every
// chain, so it implies them all.
const (
	permAdminister    = "hudson.model.Hudson.Administer"
	permGenericRead   = "hudson.security.Permission.GenericRead"
	permGenericWrite  = "hudson.security.Permission.GenericWrite"
	permGenericCreate = "hudson.security.Permission.GenericCreate"
	permGenericUpdate = "hudson.security.Permission.GenericUpdate"
	permGenericDelete = "hudson.security.Permission.GenericDelete"
	permGenericConfig = "hudson.security.Permission.GenericConfigure"
	permRead          = "hudson.model.Hudson.Read"
	permItemRead      = "hudson.model.Item.Read"
	permItemDiscover  = "hudson.model.Item.Discover"
	permItemBuild     = "hudson.model.Item.Build"
	permItemCancel    = "hudson.model.Item.Cancel"
	permItemWorkspace = "hudson.model.Item.Workspace"
)

// impliedBy is Permission.impliedBy (Permission.java, Item.java, Jenkins.java).
var impliedBy = map[string]string{
	permGenericRead:   permAdminister,
	permGenericWrite:  permAdminister,
	permGenericCreate: permGenericWrite,
	permGenericUpdate: permGenericWrite,
	permGenericDelete: permGenericWrite,
	permGenericConfig: permGenericUpdate,
	permRead:          permGenericRead,
	permItemRead:      permGenericRead,
	permItemDiscover:  permItemRead,
	permItemBuild:     permGenericUpdate,
	permItemCancel:    permItemBuild,
	permItemWorkspace: permGenericRead,
}

// permTitle is "group title/name", as AccessDeniedException3's message shows it.
var permTitle = map[string]string{
	permAdminister:   "Overall/Administer",
	permRead:         "Overall/Read",
	permItemRead:     "Job/Read",
	permItemDiscover: "Job/Discover",
	permItemBuild:    "Job/Build",
}

// User is an account of the emulated security realm.
type User struct {
	// Password is the user's real password. It authenticates Basic requests
	// but, unlike an API token, does not exempt POSTs from the crumb check.
	Password string
	// Permissions are the permission IDs granted to the user everywhere, e.g.
	// "hudson.model.Hudson.Read", "hudson.model.Item.Read",
	// "hudson.model.Item.Build". "hudson.model.Hudson.Administer" implies all
	// of them and "hudson.security.Permission.GenericRead" implies every Read.
	// Note that seeing a job needs hudson.model.Item.Read besides Overall/Read,
	// as in Jenkins' matrix authorization: without it the job is a 404.
	Permissions []string
}

// Job is a freestyle job (a ParameterizedJob) of the emulated controller.
type Job struct {
	// Token is the job's "Trigger builds remotely" authentication token; ""
	// means none (then ?token= is ignored on /job/… and /buildByToken/… is a
	// 404).
	Token string
	// Parameterized says the job has parameter definitions: /build then wants
	// a POSTed form ("json" parameter) and /buildWithParameters is the API.
	Parameterized bool
	// Disabled makes the job not buildable: /job/…/build answers 409.
	Disabled bool
}

// Options configures a Server. The zero value is a secured Jenkins with one
// administrator, CSRF protection on and no jobs.
type Options struct {
	// Users are the accounts. nil means {"admin": {Password: "admin-pw",
	// Permissions: ["hudson.model.Hudson.Administer"]}}; an empty non-nil map
	// means no accounts at all.
	Users map[string]User
	// CrumbField is the crumb request field
	// (-Dhudson.security.csrf.requestfield); "" means "Jenkins-Crumb".
	CrumbField string
	// CSRFDisabled removes the crumb issuer (DISABLE_CSRF_PROTECTION):
	// /crumbIssuer/… is a 404 and no request is checked for a crumb.
	CSRFDisabled bool
	// Jobs are the jobs, keyed by full name: "name" at the top level,
	// "folder/name" (any depth) inside folders, whose existence is implied.
	Jobs map[string]Job
	// Version is the X-Jenkins header; "" means "2.545", a release whose crumbs use the formula emulated here.
	Version string
	// AnonymousRead grants anonymous callers GenericRead (Overall/Read and
	// Job/Read), as "Allow anonymous read access" does. By default anonymous
	// has no permission at all: a secured instance.
	AnonymousRead bool
	// Salt is the crumb salt, 16 hex characters; "" means a random one. Start
	// panics on any other length or on non-hex characters.
	Salt string
	// CrumbValue, when set, is the crumb the issuer answers instead of the
	// one it computes: a broken or hostile server (CrumbFilter still wants
	// the computed one). CrumbField may be anything too, e.g. a name holding
	// a newline.
	CrumbValue string
	// TLS, when set, serves https with this configuration (e.g. one that
	// requires client certificates) instead of http.
	TLS *tls.Config
}

// Server is a running emulator on 127.0.0.1. It is safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:<port>", without trailing slash.
	URL string

	ts         *httptest.Server
	users      map[string]User
	jobs       map[string]Job
	field      string
	csrf       bool
	version    string
	anonRead   bool
	salt       string
	crumbValue string
	crumbCount atomic.Int64

	mu          sync.Mutex
	cookieName  string              // JSESSIONID.<8 hex>
	sessionHash string              // X-Jenkins-Session
	sessions    map[string]struct{} // cluster session IDs
	sessionSeq  int64
	tokens      map[string][]apiToken // user → API tokens
	queue       map[int]queueItem
	queueSeq    int
	builds      map[string]int
	requests    map[string]int64 // method + " " + path
	headers     map[string]int64 // canonical header name → requests carrying it
}

// Start starts an emulator on 127.0.0.1 (never another interface) with the
// given options and returns it; Close stops it. Start panics on invalid
// options (a malformed Salt, an empty job-name segment) or if it cannot
// listen.
func Start(o Options) *Server {
	s := &Server{
		users:    map[string]User{},
		jobs:     map[string]Job{},
		field:    o.CrumbField,
		csrf:     !o.CSRFDisabled,
		version:  o.Version,
		anonRead: o.AnonymousRead,
		salt:     o.Salt,
		sessions: map[string]struct{}{},
		tokens:   map[string][]apiToken{},
		queue:    map[int]queueItem{},
		builds:   map[string]int{},
		requests: map[string]int64{},
	}
	s.headers, s.crumbValue = map[string]int64{}, o.CrumbValue
	if o.Users == nil {
		s.users["admin"] = User{Password: "admin-pw", Permissions: []string{permAdminister}}
	}
	for name, u := range o.Users {
		s.users[name] = User{Password: u.Password, Permissions: append([]string(nil), u.Permissions...)}
	}
	for name, j := range o.Jobs {
		for _, seg := range strings.Split(name, "/") {
			if seg == "" {
				panic(fmt.Sprintf("jenkinstest: invalid job name %q", name))
			}
		}
		s.jobs[name] = j
	}
	if s.field == "" {
		s.field = "Jenkins-Crumb"
	}
	if s.version == "" {
		s.version = "2.545"
	}
	if s.salt == "" {
		s.salt = randHex(8)
	} else if _, err := hex.DecodeString(s.salt); err != nil || len(s.salt) != 16 {
		panic(fmt.Sprintf("jenkinstest: Salt must be 16 hex characters, got %q", s.salt))
	}
	s.cookieName = "JSESSIONID." + randHex(4)
	s.sessionHash = randHex(4)

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("jenkinstest: cannot listen on 127.0.0.1: %v", err))
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.Listener.Close()
	s.ts.Listener = ln
	s.ts.Config.ReadHeaderTimeout = 10 * time.Second
	if o.TLS != nil {
		s.ts.TLS = o.TLS
		s.ts.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what tests provoke
		s.ts.StartTLS()
		s.URL = "https://" + ln.Addr().String()
		return s
	}
	s.ts.Start()
	s.URL = "http://" + ln.Addr().String()
	return s
}

// Close shuts the server down and waits for the requests in flight.
func (s *Server) Close() { s.ts.Close() }

// RestartSessions does to sessions what a Jenkins restart does: every session
// is forgotten (so every crumb bound to one stops validating), the session
// cookie gets a new random name JSESSIONID.<8 hex> (so the old cookie is not
// even looked at) and X-Jenkins-Session changes. Users, API tokens, the salt,
// jobs, the queue and the counters survive, as they live on disk.
func (s *Server) RestartSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[string]struct{}{}
	for old := s.cookieName; s.cookieName == old; {
		s.cookieName = "JSESSIONID." + randHex(4)
	}
	for old := s.sessionHash; s.sessionHash == old; {
		s.sessionHash = randHex(4)
	}
}

// CrumbRequests reports how many GET requests for /crumbIssuer/api/… (json or
// xml, with any query) the server has received, whatever their outcome (a 401
// or 403 counts too).
func (s *Server) CrumbRequests() int64 { return s.crumbCount.Load() }

// Requests reports how many requests with this method and URL path (as sent,
// percent-decoded, without the query) the server has received, whatever their
// outcome.
func (s *Server) Requests(method, path string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method+" "+path]
}

// HeaderRequests reports how many requests carried a header of this name
// (any case), whatever their outcome: a test's check that no injected header
// reached the server.
func (s *Server) HeaderRequests(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[http.CanonicalHeaderKey(name)]
}

// Builds reports how many builds of the job (full name, "folder/name") have
// been queued by accepted triggers.
func (s *Server) Builds(job string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.builds[job]
}

// principal is the authentication a request runs as.
type principal struct {
	name      string
	anonymous bool
	apiToken  bool // authenticated by an API token: exempt from CSRF
	perms     map[string]bool
}

// authorities is what /whoAmI and the permission report list as groups.
func (p principal) authorities() []string {
	if p.anonymous {
		return []string{"anonymous"}
	}
	return []string{"authenticated"}
}

// has reports whether p holds perm, directly or through its impliedBy chain.
func (p principal) has(perm string) bool {
	for q := perm; q != ""; q = impliedBy[q] {
		if p.perms[q] {
			return true
		}
	}
	return false
}

func (s *Server) anonymous() principal {
	p := principal{name: "anonymous", anonymous: true, perms: map[string]bool{}}
	if s.anonRead {
		p.perms[permGenericRead] = true
	}
	return p
}

func (s *Server) user(name string, apiToken bool) principal {
	p := principal{name: name, apiToken: apiToken, perms: map[string]bool{}}
	for _, perm := range s.users[name].Permissions {
		p.perms[perm] = true
	}
	return p
}

// exchange is one request being served.
type exchange struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	path  string   // canonical raw path (Stapler canonicalPath)
	segs  []string // its segments, percent-decoded, without empty ones
	query url.Values
	who   principal
	sid   string // session ID of this request once looked up or created
	form  bool   // body parsed
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.Method+" "+r.URL.Path]++
	for name := range r.Header {
		s.headers[name]++
	}
	hash := s.sessionHash
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-Jenkins", s.version)
	h.Set("X-Hudson", "1.395")
	h.Set("X-Jenkins-Session", hash)

	x := &exchange{s: s, w: w, r: r, query: r.URL.Query()}
	x.path, x.segs = canonicalPath(r.URL.EscapedPath())
	if r.Method == http.MethodGet && len(x.segs) >= 3 && x.segs[0] == "crumbIssuer" && x.segs[1] == "api" {
		s.crumbCount.Add(1)
	}

	// 1. authentication-filter
	who, ok := s.authenticate(r)
	if !ok {
		h.Set("WWW-Authenticate", `Basic realm="Jenkins"`)
		x.sendError(http.StatusUnauthorized, "Unauthorized")
		return
	}
	x.who = who

	// 2. csrf-filter
	if !s.crumbFilter(x) {
		return
	}

	// 3. Stapler: UnprotectedRootActions, then Jenkins.getTarget().
	if len(x.segs) > 0 {
		switch x.segs[0] {
		case "whoAmI":
			s.whoAmI(x)
			return
		case "buildByToken":
			s.buildByToken(x)
			return
		}
	}
	if !x.who.has(permRead) {
		x.denyPermission(permRead)
		return
	}
	if len(x.segs) == 0 {
		x.html(http.StatusOK, "<!DOCTYPE html><html><head><title>Dashboard [Jenkins]</title></head><body><h1>Welcome to Jenkins!</h1></body></html>")
		return
	}
	rest := x.segs[1:]
	switch x.segs[0] {
	case "api":
		if len(rest) == 1 && rest[0] == "json" {
			s.rootJSON(x)
			return
		}
	case "crumbIssuer":
		s.crumbIssuer(x, rest)
		return
	case "job":
		s.jobRoute(x, x.segs)
		return
	case "queue":
		s.queueRoute(x, rest)
		return
	case "me":
		s.meRoute(x, rest)
		return
	case "user":
		s.userRoute(x, rest)
		return
	}
	x.notFound()
}

// rootJSON is GET /api/json (hudson.model.Hudson, depth 0).
func (s *Server) rootJSON(x *exchange) {
	if x.jsonpForbidden() {
		return
	}
	base := x.rootURL()
	top := map[string]bool{}
	for name := range s.jobs {
		top[strings.SplitN(name, "/", 2)[0]] = true
	}
	names := make([]string, 0, len(top))
	for n := range top {
		names = append(names, n)
	}
	// Jenkins keeps items in a case-insensitive sorted map.
	sort.Slice(names, func(i, j int) bool {
		a, b := strings.ToLower(names[i]), strings.ToLower(names[j])
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	jobs := []any{}
	if x.who.has(permItemRead) {
		for _, n := range names {
			if j, ok := s.jobs[n]; ok {
				jobs = append(jobs, object{
					{"_class", "hudson.model.FreeStyleProject"},
					{"name", n},
					{"url", base + "job/" + pathEscape(n) + "/"},
					{"color", color(j)},
				})
			} else {
				jobs = append(jobs, object{
					{"_class", "com.cloudbees.hudson.plugins.folder.Folder"},
					{"name", n},
					{"url", base + "job/" + pathEscape(n) + "/"},
				})
			}
		}
	}
	x.apiJSON(object{
		{"_class", "hudson.model.Hudson"},
		{"mode", "NORMAL"},
		{"nodeDescription", "the Jenkins controller's built-in node"},
		{"useCrumbs", s.csrf},
		{"useSecurity", true},
		{"jobs", jobs},
	})
}

// whoAmI is /whoAmI/api/json (hudson.security.WhoAmI, an
// UnprotectedRootAction). Anonymous callers are "authenticated" too, as
// Spring's AnonymousAuthenticationToken is.
func (s *Server) whoAmI(x *exchange) {
	if len(x.segs) != 3 || x.segs[1] != "api" || x.segs[2] != "json" {
		x.notFound()
		return
	}
	if x.jsonpForbidden() {
		return
	}
	x.apiJSON(object{
		{"_class", "hudson.security.WhoAmI"},
		{"anonymous", x.who.anonymous},
		{"authenticated", true},
		{"authorities", x.who.authorities()},
		{"name", x.who.name},
	})
}

// randHex returns 2n random lowercase hex characters.
func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// canonicalPath mirrors Stapler's canonicalPath, which CrumbFilter's
// exclusions (on the raw request URI) and Stapler's dispatch both use:
// repeated slashes collapse, "." segments vanish and ".." removes the previous
// segment; a trailing slash is kept. It returns the canonical raw path and its
// non-empty segments, each percent-decoded as Stapler decodes URL tokens.
func canonicalPath(escaped string) (string, []string) {
	var kept []string
	for _, seg := range strings.Split(escaped, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(kept) > 0 {
				kept = kept[:len(kept)-1]
			}
		default:
			kept = append(kept, seg)
		}
	}
	p := "/" + strings.Join(kept, "/")
	if strings.HasSuffix(escaped, "/") && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	segs := make([]string, len(kept))
	for i, seg := range kept {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		} else {
			segs[i] = seg
		}
	}
	return p, segs
}

// pathEscape escapes one URL path segment the way Jenkins' Util.rawEncode does
// for the characters that matter here.
func pathEscape(seg string) string { return url.PathEscape(seg) }
