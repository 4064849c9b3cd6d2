package jenkinstest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const salt = "0123456789abcdef"

var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type resp struct {
	status int
	h      http.Header
	body   string
}

// call is one HTTP request to an emulator.
type call struct {
	method  string
	path    string // with the query, if any
	auth    string // raw Authorization header
	header  map[string]string
	form    url.Values // urlencoded POST body
	cookies []*http.Cookie
}

func send(t *testing.T, s *Server, c call) resp {
	t.Helper()
	var body io.Reader
	if c.form != nil {
		body = strings.NewReader(c.form.Encode())
	}
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, s.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, string(b)}
}

// sessionCookie returns the JSESSIONID.<8 hex> cookie a response set.
func sessionCookie(t *testing.T, r resp) *http.Cookie {
	t.Helper()
	res := http.Response{Header: r.h}
	for _, c := range res.Cookies() {
		if strings.HasPrefix(c.Name, "JSESSIONID.") {
			return c
		}
	}
	return nil
}

// crumbFor fetches a crumb and the session cookie bound to it.
func crumbFor(t *testing.T, s *Server, auth string) (crumb string, cookie *http.Cookie) {
	t.Helper()
	r := send(t, s, call{path: "/crumbIssuer/api/json", auth: auth})
	if r.status != http.StatusOK {
		t.Fatalf("crumb issuer: %d %s", r.status, r.body)
	}
	var v struct{ Crumb, CrumbRequestField string }
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatal(err)
	}
	return v.Crumb, sessionCookie(t, r)
}

// clusterID is the session ID a crumb is bound to: the cookie value without
// Jetty's ".node0" worker suffix.
func clusterID(c *http.Cookie) string { return strings.TrimSuffix(c.Value, ".node0") }

var (
	hex64     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	tokenRE   = regexp.MustCompile(`^11[0-9a-f]{32}$`)
	uuidRE    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	cookieRE  = regexp.MustCompile(`^JSESSIONID\.[0-9a-f]{8}=node0[0-9a-z]+\.node0; Path=/; HttpOnly$`)
	sessionRE = regexp.MustCompile(`^[0-9a-f]{8}$`)
)

func testUsers() map[string]User {
	return map[string]User{
		"admin": {Password: "admin-pw", Permissions: []string{permAdminister}},
		// bob may read everything but build nothing.
		"bob":   {Password: "bob-pw", Permissions: []string{permRead, permItemRead}},
		"carol": {Password: "pa:ss", Permissions: []string{permRead}},
		// dave has Overall/Read and Job/Build but cannot see jobs.
		"dave": {Password: "dave-pw", Permissions: []string{permRead, permItemBuild}},
	}
}

func testJobs() map[string]Job {
	return map[string]Job{
		"app":          {Token: "tok"},
		"notoken":      {},
		"folder/inner": {Token: "inner-tok"},
		"off":          {Token: "off-tok", Disabled: true},
		"params":       {Token: "p-tok", Parameterized: true},
	}
}

func TestCrumbPublishedExample(t *testing.T) {
	// Rule §1.4: hex(sha256(user+";"+sessionID || salt)), no client IP (2.543+).
	got := Crumb("admin", "node0abcdef1234567890.node0", salt)
	if want := "74dcf8b090eade27673979e260584d5fa281861aa96163601ea2ff8d7aeb3b57"; got != want {
		t.Fatalf("Crumb = %s, want %s", got, want)
	}
}

// TestDecisionTable pins the filter order and each route's answer.
func TestDecisionTable(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs(), Salt: salt})
	defer s.Close()
	ro := Start(Options{Users: testUsers(), Jobs: testJobs(), Salt: salt, AnonymousRead: true})
	defer ro.Close()
	_, adminTok := s.NewAPIToken("admin", "t")
	_, bobTok := s.NewAPIToken("bob", "t")
	_, daveTok := s.NewAPIToken("dave", "t")
	admin := basic("admin", adminTok)
	implied := []string{permGenericUpdate, permGenericWrite, permAdminister}

	rows := []struct {
		rule       string
		srv        *Server
		c          call
		status     int
		header     map[string][]string // exact values
		noHeader   []string
		bodyHas    []string
		bodyNot    []string
		emptyBody  bool
		locationRE string
	}{
		{rule: "§1.1 wrong password → 401 before any crumb check (POST without crumb)",
			c:      call{method: "POST", path: "/job/app/build", auth: basic("admin", "wrong")},
			status: 401, header: map[string][]string{"Www-Authenticate": {`Basic realm="Jenkins"`}},
			bodyHas: []string{"HTTP ERROR 401 Unauthorized", "<tr><th>URI:</th><td>/job/app/build</td></tr>"},
			bodyNot: []string{"crumb"}},
		{rule: "§1.6 unknown user → 401",
			c:      call{path: "/whoAmI/api/json", auth: basic("nobody", "admin-pw")},
			status: 401, header: map[string][]string{"Www-Authenticate": {`Basic realm="Jenkins"`}}},
		{rule: "§1.6 no ':' in the credentials → 401 (malformed header)",
			c:      call{path: "/whoAmI/api/json", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("admin"))},
			status: 401, header: map[string][]string{"Www-Authenticate": {`Basic realm="Jenkins"`}}},
		{rule: "§1.6 bad Base64 → 401",
			c:      call{path: "/whoAmI/api/json", auth: "Basic !!!not-base64"},
			status: 401, header: map[string][]string{"Www-Authenticate": {`Basic realm="Jenkins"`}}},
		{rule: "§1.6 the Basic scheme is matched case-insensitively",
			c:      call{path: "/whoAmI/api/json", auth: "bAsIc " + base64.StdEncoding.EncodeToString([]byte("admin:admin-pw"))},
			status: 200, bodyHas: []string{`"name":"admin"`}},
		{rule: "§1.6 split at the first ':' (password with a colon)",
			c:      call{path: "/whoAmI/api/json", auth: basic("carol", "pa:ss")},
			status: 200, bodyHas: []string{`"name":"carol"`}},
		{rule: "§1.6 java.util.Base64 accepts unpadded input",
			c:      call{path: "/whoAmI/api/json", auth: "Basic " + base64.RawStdEncoding.EncodeToString([]byte("carol:pa:ss"))},
			status: 200, bodyHas: []string{`"name":"carol"`}},
		{rule: "§1.11 a non-Basic Authorization header leaves the caller anonymous",
			c:      call{path: "/api/json", auth: "Bearer abc"},
			status: 403, header: map[string][]string{"X-You-Are-Authenticated-As": {"anonymous"}}, noHeader: []string{"Www-Authenticate"}},
		{rule: "§1.1 anonymous POST without crumb → 403 No valid crumb BEFORE the permission check",
			c:      call{method: "POST", path: "/job/app/build"},
			status: 403, noHeader: []string{"X-Required-Permission", "X-You-Are-Authenticated-As", "Www-Authenticate"},
			bodyHas: []string{"HTTP ERROR 403 No valid crumb was included in the request",
				"<tr><th>URI:</th><td>/job/app/build</td></tr>", "<tr><th>MESSAGE:</th><td>No valid crumb was included in the request</td></tr>"}},
		{rule: "§1.1/§1.10 anonymous POST with the right job token but no crumb → 403 No valid crumb (the crumb filter runs before the token check)",
			srv: ro, c: call{method: "POST", path: "/job/app/build?token=tok"},
			status: 403, bodyHas: []string{"No valid crumb was included in the request"}},
		{rule: "§1.5 API-token POST needs no crumb → 201",
			c:      call{method: "POST", path: "/job/app/build", auth: admin},
			status: 201, emptyBody: true, locationRE: `^http://127\.0\.0\.1:\d+/queue/item/\d+/$`},
		{rule: "§1.1 password POST without crumb → 403 No valid crumb",
			c:      call{method: "POST", path: "/job/app/build", auth: basic("admin", "admin-pw")},
			status: 403, bodyHas: []string{"No valid crumb was included in the request"}},
		{rule: "§1.3 only POST is checked: PUT with a password and no crumb reaches the route",
			c:      call{method: "PUT", path: "/job/app/build", auth: basic("admin", "admin-pw")},
			status: 405, header: map[string][]string{"Allow": {"POST"}}},
		{rule: "§1.7b anonymous GET /api/json → 403 with diagnostics headers and no WWW-Authenticate",
			c:      call{path: "/api/json"},
			status: 403,
			header: map[string][]string{
				"X-You-Are-Authenticated-As":  {"anonymous"},
				"X-You-Are-In-Group-Disabled": {"JENKINS-39402: use -Dhudson.security.AccessDeniedException2.REPORT_GROUP_HEADERS=true or use /whoAmI to diagnose"},
				"X-Required-Permission":       {permRead},
				"X-Permission-Implied-By":     {permGenericRead, permAdminister},
			},
			noHeader: []string{"Www-Authenticate"},
			bodyHas:  []string{"Authentication required", "/login?from=%2Fapi%2Fjson"}},
		{rule: "§1.7b XMLHttpRequest gets a bare sendError(403)",
			c:      call{path: "/api/json", header: map[string]string{"X-Requested-With": "XMLHttpRequest"}},
			status: 403, noHeader: []string{"X-Required-Permission", "Www-Authenticate"}, bodyHas: []string{"HTTP ERROR 403 Forbidden"}},
		{rule: "§1.7b anonymous without Overall/Read: even an unknown path is 403, not 404",
			c:      call{path: "/no/such/thing"},
			status: 403, header: map[string][]string{"X-Required-Permission": {permRead}}},
		{rule: "§1.7d a user without Item.Build → 403 with X-Required-Permission: hudson.model.Item.Build",
			c:      call{method: "POST", path: "/job/app/build", auth: basic("bob", bobTok)},
			status: 403,
			header: map[string][]string{
				"X-You-Are-Authenticated-As": {"bob"},
				"X-Required-Permission":      {permItemBuild},
				"X-Permission-Implied-By":    implied,
			},
			noHeader: []string{"Www-Authenticate"},
			bodyHas:  []string{"Access Denied", "bob is missing the Job/Build permission"}},
		{rule: "§1.7d no Job/Read: the job does not exist for the caller (404), Build alone does not help",
			c:      call{method: "POST", path: "/job/app/build", auth: basic("dave", daveTok)},
			status: 404},
		{rule: "§1.7e build GET without token → 405 Allow: POST",
			c:      call{path: "/job/app/build", auth: admin},
			status: 405, header: map[string][]string{"Allow": {"POST"}}, bodyHas: []string{"This URL requires POST", "Retry using POST"}},
		{rule: "§1.10 ?token= is ignored on a job without a token: GET → 405",
			c:      call{path: "/job/notoken/build?token=x", auth: admin},
			status: 405, header: map[string][]string{"Allow": {"POST"}}},
		{rule: "§1.10 job token by GET, caller without Item.Build → 201 with Location",
			c:      call{path: "/job/app/build?token=tok", auth: basic("bob", bobTok)},
			status: 201, emptyBody: true, locationRE: `^http://127\.0\.0\.1:\d+/queue/item/\d+/$`},
		{rule: "§1.10 job token by anonymous GET when anonymous may read → 201",
			srv: ro, c: call{path: "/job/app/build?token=tok&cause=ci"},
			status: 201, locationRE: `/queue/item/\d+/$`},
		{rule: "§1.2/§1.10 job token by anonymous GET on a secured instance → 403 Authentication required (why /buildByToken exists)",
			c:      call{path: "/job/app/build?token=tok"},
			status: 403, header: map[string][]string{"X-Required-Permission": {permRead}}, bodyHas: []string{"Authentication required"}},
		{rule: "§1.10 wrong job token → 403 Invalid token provided. (plain AccessDenied, no permission headers)",
			c:      call{path: "/job/app/build?token=nope", auth: admin},
			status: 403, noHeader: []string{"X-Required-Permission"}, bodyHas: []string{"Invalid token provided."}},
		{rule: "§1.10 wrong job token, anonymous → the login 403 without a permission report",
			srv: ro, c: call{path: "/job/app/build?token=nope"},
			status: 403, noHeader: []string{"X-Required-Permission"}, bodyHas: []string{"Authentication required"}, bodyNot: []string{"Permission you need"}},
		{rule: "§1.10 folder job path /job/F/job/NAME/build",
			c:      call{method: "POST", path: "/job/folder/job/inner/build", auth: admin},
			status: 201, locationRE: `/queue/item/\d+/$`},
		{rule: "§1.10 folder job path with its token by GET",
			c:      call{path: "/job/folder/job/inner/build?token=inner-tok", auth: basic("bob", bobTok)},
			status: 201},
		{rule: "§1.10 the folder itself is not buildable",
			c:      call{method: "POST", path: "/job/folder/build", auth: admin},
			status: 404},
		{rule: "§1.10 disabled job → 409 before any permission check",
			c:      call{method: "POST", path: "/job/off/build", auth: basic("bob", bobTok)},
			status: 409, bodyHas: []string{"off is not buildable"}},
		{rule: "§1.10 buildWithParameters on a job without parameters → 400",
			c:      call{method: "POST", path: "/job/app/buildWithParameters", auth: admin},
			status: 400, bodyHas: []string{"app is not parameterized"}},
		{rule: "§1.10 unknown job → 404",
			c:      call{method: "POST", path: "/job/nope/build", auth: admin},
			status: 404, bodyHas: []string{"HTTP ERROR 404 Not Found"}},
		{rule: "§1.10 /buildByToken/build: anonymous GET with the token → 201",
			c:      call{path: "/buildByToken/build?job=app&token=tok"},
			status: 201, emptyBody: true, locationRE: `^http://127\.0\.0\.1:\d+/queue/item/\d+/$`},
		{rule: "§1.10 /buildByToken/ is excluded from the crumb filter: anonymous POST → 201",
			c:      call{method: "POST", path: "/buildByToken/build", form: url.Values{"job": {"folder/inner"}, "token": {"inner-tok"}}},
			status: 201},
		{rule: "§1.10 /buildByToken/ wrong token → 403",
			c:      call{path: "/buildByToken/build?job=app&token=nope"},
			status: 403, bodyHas: []string{"Authentication required"}},
		{rule: "§1.10 /buildByToken/ unknown job → bare 404",
			c:      call{path: "/buildByToken/build?job=ghost&token=tok"},
			status: 404, emptyBody: true},
		{rule: "§1.10 /buildByToken/ job without a token → bare 404",
			c:      call{path: "/buildByToken/build?job=notoken&token=x"},
			status: 404, emptyBody: true},
		{rule: "§1.10 /buildByToken/build on a parameterized job → 400",
			c:      call{path: "/buildByToken/build?job=params&token=p-tok"},
			status: 400, bodyHas: []string{"Use /buildByToken/buildWithParameters for this job since it takes parameters"}},
		{rule: "§1.10 /buildByToken/ still fails Basic auth first → 401",
			c:      call{path: "/buildByToken/build?job=app&token=tok", auth: basic("admin", "wrong")},
			status: 401},
		{rule: "§1.8 whoAmI anonymous: authenticated:true, anonymous:true",
			c:      call{path: "/whoAmI/api/json"},
			status: 200, bodyHas: []string{`{"_class":"hudson.security.WhoAmI","anonymous":true,"authenticated":true,"authorities":["anonymous"],"name":"anonymous"}`}},
		{rule: "§1.8 whoAmI with a password",
			c:      call{path: "/whoAmI/api/json", auth: basic("bob", "bob-pw")},
			status: 200, bodyHas: []string{`{"_class":"hudson.security.WhoAmI","anonymous":false,"authenticated":true,"authorities":["authenticated"],"name":"bob"}`}},
		{rule: "§1.2 /crumbIssuer needs Overall/Read: anonymous → 403 login response",
			c:      call{path: "/crumbIssuer/api/json"},
			status: 403, header: map[string][]string{"X-Required-Permission": {permRead}}, noHeader: []string{"Set-Cookie"}},
		{rule: "§1.2 ?jsonp= → 403",
			c:      call{path: "/crumbIssuer/api/json?jsonp=f", auth: admin},
			status: 403, bodyHas: []string{"jsonp forbidden"}},
		{rule: "§1.2 a hack XPath → 403",
			c:      call{path: "/crumbIssuer/api/xml?xpath=" + url.QueryEscape(`concat('hack=',//crumb)`), auth: admin},
			status: 403},
		{rule: "unknown path → 404 Jetty page",
			c:      call{path: "/no/such/thing", auth: admin},
			status: 404, bodyHas: []string{"<title>Error 404 Not Found</title>", "<tr><th>URI:</th><td>/no/such/thing</td></tr>"}},
	}
	for _, row := range rows {
		t.Run(row.rule, func(t *testing.T) {
			srv := row.srv
			if srv == nil {
				srv = s
			}
			r := send(t, srv, row.c)
			if r.status != row.status {
				t.Fatalf("status %d, want %d; body:\n%s", r.status, row.status, r.body)
			}
			for k, want := range row.header {
				if got := r.h.Values(k); !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, k := range row.noHeader {
				if v := r.h.Values(k); len(v) > 0 {
					t.Errorf("unexpected %s: %q", k, v)
				}
			}
			for _, sub := range row.bodyHas {
				if !strings.Contains(r.body, sub) {
					t.Errorf("body lacks %q:\n%s", sub, r.body)
				}
			}
			for _, sub := range row.bodyNot {
				if strings.Contains(r.body, sub) {
					t.Errorf("body has %q:\n%s", sub, r.body)
				}
			}
			if row.emptyBody && r.body != "" {
				t.Errorf("body %q, want empty", r.body)
			}
			if row.locationRE != "" {
				if loc := r.h.Get("Location"); !regexp.MustCompile(row.locationRE).MatchString(loc) {
					t.Errorf("Location %q does not match %s", loc, row.locationRE)
				}
			}
			// §1.11: every response carries the version headers.
			if r.h.Get("X-Jenkins") != "2.545" || r.h.Get("X-Hudson") != "1.395" || !sessionRE.MatchString(r.h.Get("X-Jenkins-Session")) {
				t.Errorf("version headers: X-Jenkins=%q X-Hudson=%q X-Jenkins-Session=%q",
					r.h.Get("X-Jenkins"), r.h.Get("X-Hudson"), r.h.Get("X-Jenkins-Session"))
			}
		})
	}
}

// TestAuthenticationRequiredPage pins HudsonAuthenticationEntryPoint's body
// byte for byte (§1.7b), including the login redirect and the padding.
func TestAuthenticationRequiredPage(t *testing.T) {
	s := Start(Options{Salt: salt})
	defer s.Close()
	r := send(t, s, call{path: "/api/json?tree=jobs[name]&x=a*b~"})
	hash := r.h.Get("X-Jenkins-Session")
	login := "/login?from=%2Fapi%2Fjson%3Ftree%3Djobs%5Bname%5D%26x%3Da*b%7E"
	want := "<html><head><meta http-equiv='refresh' content='1;url=" + login + "'/>" +
		"<script id='redirect' data-redirect-url='" + login + "' src='/static/" + hash + "/scripts/redirect.js'></script>" +
		"</head><body style='background-color:white; color:white;'>\n\n\nAuthentication required\n<!--\n" +
		"You are authenticated as: anonymous\n" +
		"Groups that you are in:\n" +
		"  anonymous\n" +
		"Permission you need to have (but didn't): hudson.model.Hudson.Read\n" +
		" ... which is implied by: hudson.security.Permission.GenericRead\n" +
		" ... which is implied by: hudson.model.Hudson.Administer\n" +
		"-->\n\n</body></html>" + strings.Repeat(" ", 300)
	if r.status != 403 || r.body != want {
		t.Fatalf("status %d, body\n%q\nwant\n%q", r.status, r.body, want)
	}
	if ct := r.h.Get("Content-Type"); ct != "text/html;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

// TestPasswordCrumbFlow: a password POST needs the crumb AND the session
// cookie it is bound to, and the crumb is per user (§1.4, §1.11 step 2).
func TestPasswordCrumbFlow(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs(), Salt: salt})
	defer s.Close()
	admin := basic("admin", "admin-pw")

	r := send(t, s, call{path: "/crumbIssuer/api/json", auth: admin})
	if r.status != 200 {
		t.Fatalf("crumb issuer: %d", r.status)
	}
	if got := r.h.Values("Set-Cookie"); len(got) != 1 || !cookieRE.MatchString(got[0]) {
		t.Fatalf("Set-Cookie %q", got)
	}
	if r.h.Get("Expires") != "Thu, 01 Jan 1970 00:00:00 GMT" {
		t.Errorf("Expires %q", r.h.Get("Expires"))
	}
	cookie := sessionCookie(t, r)
	var v struct{ Crumb string }
	_ = json.Unmarshal([]byte(r.body), &v)
	wantBody := `{"_class":"hudson.security.csrf.DefaultCrumbIssuer","crumb":"` + v.Crumb + `","crumbRequestField":"Jenkins-Crumb"}`
	if r.body != wantBody || !hex64.MatchString(v.Crumb) {
		t.Fatalf("body %s", r.body)
	}
	if want := Crumb("admin", clusterID(cookie), salt); v.Crumb != want {
		t.Fatalf("crumb %s, want Crumb(admin, %s, salt) = %s", v.Crumb, clusterID(cookie), want)
	}

	// Asking again with the cookie reuses the session: no new cookie, same crumb.
	again := send(t, s, call{path: "/crumbIssuer/api/json", auth: admin, cookies: []*http.Cookie{cookie}})
	if again.h.Get("Set-Cookie") != "" || !strings.Contains(again.body, v.Crumb) {
		t.Fatalf("second crumb request: Set-Cookie %q body %s", again.h.Get("Set-Cookie"), again.body)
	}

	bobCrumb, bobCookie := crumbFor(t, s, basic("bob", "bob-pw"))
	post := func(auth string, hdr map[string]string, cookies ...*http.Cookie) resp {
		return send(t, s, call{method: "POST", path: "/job/app/build", auth: auth, header: hdr, cookies: cookies})
	}
	for _, tc := range []struct {
		rule   string
		r      resp
		status int
	}{
		{"crumb without the session cookie → 403", post(admin, map[string]string{"Jenkins-Crumb": v.Crumb}), 403},
		{"session cookie without the crumb → 403", post(admin, nil, cookie), 403},
		{"crumb + cookie → 201", post(admin, map[string]string{"Jenkins-Crumb": v.Crumb}, cookie), 201},
		{"header names are case-insensitive → 201", post(admin, map[string]string{"jenkins-crumb": v.Crumb}, cookie), 201},
		{"another user's crumb and session → 403", post(admin, map[string]string{"Jenkins-Crumb": bobCrumb}, bobCookie), 403},
		{"own crumb with another user's session → 403", post(admin, map[string]string{"Jenkins-Crumb": v.Crumb}, bobCookie), 403},
		{"a wrong crumb value → 403", post(admin, map[string]string{"Jenkins-Crumb": strings.Repeat("0", 64)}, cookie), 403},
		{"an empty crumb header hides a valid parameter → 403",
			send(t, s, call{method: "POST", path: "/job/app/build?Jenkins-Crumb=" + v.Crumb, auth: admin,
				header: map[string]string{"Jenkins-Crumb": ""}, cookies: []*http.Cookie{cookie}}), 403},
		{"§1.3 .crumb is not a fallback → 403", post(admin, map[string]string{".crumb": v.Crumb}, cookie), 403},
	} {
		if tc.r.status != tc.status {
			t.Errorf("%s: status %d, want %d\n%s", tc.rule, tc.r.status, tc.status, tc.r.body)
		}
		if tc.status == 403 && !strings.Contains(tc.r.body, "No valid crumb was included in the request") {
			t.Errorf("%s: body %s", tc.rule, tc.r.body)
		}
	}

	// A crumb sent with no session creates one (request.getSession()), which
	// the client then holds: Set-Cookie on the 403.
	r = post(admin, map[string]string{"Jenkins-Crumb": v.Crumb})
	if got := r.h.Values("Set-Cookie"); len(got) != 1 || !cookieRE.MatchString(got[0]) {
		t.Errorf("403 with a crumb and no session: Set-Cookie %q", got)
	}
	// No crumb at all: the session is never looked at, no cookie.
	if r = post(admin, nil); r.h.Get("Set-Cookie") != "" {
		t.Errorf("403 without a crumb set a cookie: %q", r.h.Get("Set-Cookie"))
	}
	if got := s.Builds("app"); got != 2 {
		t.Errorf("Builds(app) = %d, want 2", got)
	}
}

// TestRestartSessions: a restart forgets sessions and renames the cookie.
func TestRestartSessions(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs(), Salt: salt})
	defer s.Close()
	admin := basic("admin", "admin-pw")
	crumb, cookie := crumbFor(t, s, admin)
	build := func(crumb string, c *http.Cookie) resp {
		return send(t, s, call{method: "POST", path: "/job/app/build", auth: admin,
			header: map[string]string{"Jenkins-Crumb": crumb}, cookies: []*http.Cookie{c}})
	}
	before := build(crumb, cookie)
	if before.status != 201 {
		t.Fatalf("before restart: %d", before.status)
	}
	s.RestartSessions()
	if r := build(crumb, cookie); r.status != 403 || !strings.Contains(r.body, "No valid crumb") {
		t.Fatalf("old pair after restart: %d %s", r.status, r.body)
	}
	// The same session ID under the new cookie name is unknown too.
	crumb2, cookie2 := crumbFor(t, s, admin)
	if cookie2 == nil || cookie2.Name == cookie.Name {
		t.Fatalf("cookie name after restart %v, before %s", cookie2, cookie.Name)
	}
	if r := build(crumb, &http.Cookie{Name: cookie2.Name, Value: cookie.Value}); r.status != 403 {
		t.Fatalf("old session under the new name: %d", r.status)
	}
	if crumb2 == crumb {
		t.Fatalf("crumb unchanged after restart")
	}
	after := build(crumb2, cookie2)
	if after.status != 201 {
		t.Fatalf("new pair: %d %s", after.status, after.body)
	}
	if before.h.Get("X-Jenkins-Session") == after.h.Get("X-Jenkins-Session") {
		t.Errorf("X-Jenkins-Session unchanged by the restart")
	}
}

// TestCrumbField: a configured field name is what the issuer reports and the
// only name the filter reads (§1.3).
func TestCrumbField(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs(), Salt: salt, CrumbField: "X-Custom"})
	defer s.Close()
	admin := basic("admin", "admin-pw")
	r := send(t, s, call{path: "/crumbIssuer/api/json", auth: admin})
	var v struct{ Crumb, CrumbRequestField string }
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.CrumbRequestField != "X-Custom" {
		t.Fatalf("issuer answer %s", r.body)
	}
	cookie := sessionCookie(t, r)
	for _, tc := range []struct {
		rule   string
		c      call
		status int
	}{
		{"the field read from the issuer, as a header → 201",
			call{header: map[string]string{v.CrumbRequestField: v.Crumb}}, 201},
		{"as a lower-case header → 201",
			call{header: map[string]string{"x-custom": v.Crumb}}, 201},
		{"as a form parameter → 201",
			call{form: url.Values{"X-Custom": {v.Crumb}}}, 201},
		{"as a query parameter → 201",
			call{path: "?X-Custom=" + v.Crumb}, 201},
		{"a hard-coded Jenkins-Crumb header is ignored → 403",
			call{header: map[string]string{"Jenkins-Crumb": v.Crumb}}, 403},
		{"a Jenkins-Crumb form parameter is ignored → 403",
			call{form: url.Values{"Jenkins-Crumb": {v.Crumb}}}, 403},
		{"parameter names are case-sensitive → 403",
			call{form: url.Values{"x-custom": {v.Crumb}}}, 403},
	} {
		tc.c.method, tc.c.auth, tc.c.cookies = "POST", admin, []*http.Cookie{cookie}
		tc.c.path = "/job/app/build" + tc.c.path
		if got := send(t, s, tc.c); got.status != tc.status {
			t.Errorf("%s: status %d, want %d\n%s", tc.rule, got.status, tc.status, got.body)
		}
	}

	// The XML API with the four allow-listed XPaths (§1.2).
	xml := func(xpath string) resp {
		p := "/crumbIssuer/api/xml"
		if xpath != "" {
			p += "?xpath=" + url.QueryEscape(xpath)
		}
		return send(t, s, call{path: p, auth: admin, cookies: []*http.Cookie{cookie}})
	}
	for _, tc := range []struct{ xpath, want string }{
		{`concat(//crumbRequestField,":",//crumb)`, "X-Custom:" + v.Crumb},
		{`concat(//crumbRequestField,'=',//crumb)`, "X-Custom=" + v.Crumb},
		{`/*/crumbRequestField/text()`, "X-Custom"},
		{`/*/crumb/text()`, v.Crumb},
	} {
		r := xml(tc.xpath)
		if r.status != 200 || r.body != tc.want || r.h.Get("Content-Type") != "text/plain;charset=utf-8" {
			t.Errorf("xpath %s: %d %q %q", tc.xpath, r.status, r.h.Get("Content-Type"), r.body)
		}
	}
	doc := xml("")
	wantDoc := `<defaultCrumbIssuer _class="hudson.security.csrf.DefaultCrumbIssuer"><crumb>` + v.Crumb +
		`</crumb><crumbRequestField>X-Custom</crumbRequestField></defaultCrumbIssuer>`
	if doc.status != 200 || doc.body != wantDoc {
		t.Errorf("XML document: %d %s", doc.status, doc.body)
	}

	// The '=' form needs a field starting with '.' or containing '-'.
	u := Start(Options{Salt: salt, CrumbField: "_crumb"})
	defer u.Close()
	r = send(t, u, call{path: "/crumbIssuer/api/xml?xpath=" + url.QueryEscape(`concat(//crumbRequestField,'=',//crumb)`), auth: admin})
	if r.status != 403 {
		t.Errorf("'=' form with field _crumb: %d %s", r.status, r.body)
	}
}

// TestCSRFDisabled: no crumb issuer, no crumb checks (§1.2).
func TestCSRFDisabled(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs(), CSRFDisabled: true})
	defer s.Close()
	admin := basic("admin", "admin-pw")
	for _, p := range []string{"/crumbIssuer/api/json", "/crumbIssuer/api/xml"} {
		if r := send(t, s, call{path: p, auth: admin}); r.status != 404 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	if r := send(t, s, call{method: "POST", path: "/job/app/build", auth: admin}); r.status != 201 {
		t.Errorf("password POST without crumb: %d %s", r.status, r.body)
	}
	// Anonymous still lacks permissions: the crumb filter is gone, the ACL is not.
	r := send(t, s, call{method: "POST", path: "/job/app/build"})
	if r.status != 403 || r.h.Get("X-Required-Permission") != permRead {
		t.Errorf("anonymous POST: %d %v", r.status, r.h)
	}
	if r := send(t, s, call{path: "/api/json", auth: admin}); !strings.Contains(r.body, `"useCrumbs":false`) {
		t.Errorf("api/json: %s", r.body)
	}
}

// TestAPITokens: generateNewToken, the token authenticating without a crumb,
// and revoke (§1.6, §1.9).
func TestAPITokens(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs(), Salt: salt})
	defer s.Close()
	admin := basic("admin", "admin-pw")
	crumb, cookie := crumbFor(t, s, admin)
	gen := "/me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken"

	r := send(t, s, call{method: "POST", path: gen, auth: admin, form: url.Values{"newTokenName": {"ci"}},
		header: map[string]string{"Jenkins-Crumb": crumb}, cookies: []*http.Cookie{cookie}})
	if r.status != 200 || r.h.Get("Content-Type") != "application/json;charset=utf-8" {
		t.Fatalf("generateNewToken: %d %s", r.status, r.body)
	}
	var g struct {
		Status string
		Data   struct{ TokenUUID, TokenName, TokenValue string }
	}
	if err := json.Unmarshal([]byte(r.body), &g); err != nil {
		t.Fatal(err)
	}
	want := `{"status":"ok","data":{"tokenUuid":"` + g.Data.TokenUUID + `","tokenName":"ci","tokenValue":"` + g.Data.TokenValue + `"}}`
	if r.body != want || !tokenRE.MatchString(g.Data.TokenValue) || !uuidRE.MatchString(g.Data.TokenUUID) {
		t.Fatalf("generateNewToken body %s", r.body)
	}
	tok := basic("admin", g.Data.TokenValue)

	// The new token authenticates, and its POSTs need no crumb.
	if r := send(t, s, call{path: "/whoAmI/api/json", auth: tok}); r.status != 200 || !strings.Contains(r.body, `"name":"admin"`) {
		t.Fatalf("whoAmI with the new token: %d %s", r.status, r.body)
	}
	if r := send(t, s, call{method: "POST", path: "/job/app/build", auth: tok}); r.status != 201 {
		t.Fatalf("build with the new token: %d %s", r.status, r.body)
	}
	// ApiTokenStore.findMatchingToken does not check the "11" version, and a
	// value of another length is hashed whole: the bare secret matches too.
	for _, v := range []string{"99" + g.Data.TokenValue[2:], g.Data.TokenValue[2:]} {
		if r := send(t, s, call{path: "/whoAmI/api/json", auth: basic("admin", v)}); r.status != 200 {
			t.Errorf("token variant %s: %d", v, r.status)
		}
	}
	// An API token of another user does not authenticate this one.
	_, bobValue := s.NewAPIToken("bob", "")
	if r := send(t, s, call{path: "/whoAmI/api/json", auth: basic("admin", bobValue)}); r.status != 401 {
		t.Errorf("bob's token as admin: %d", r.status)
	}

	// Token generation goes through the crumb filter and is POST-only.
	for _, tc := range []struct {
		rule    string
		c       call
		status  int
		bodyHas string
	}{
		{"GET → 405 Allow: POST", call{path: gen, auth: tok}, 405, "This URL requires POST"},
		{"password POST without crumb → 403", call{method: "POST", path: gen, auth: admin}, 403, "No valid crumb"},
		{"anonymous POST (no crumb to be had) → 403", call{method: "POST", path: gen}, 403, "No valid crumb"},
		{"another user's token page → 403, empty body",
			call{method: "POST", path: "/user/bob/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", auth: tok}, 403, ""},
		{"unknown user → 404",
			call{method: "POST", path: "/user/ghost/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", auth: tok}, 404, ""},
		{"revoke with an empty tokenUuid → 400",
			call{method: "POST", path: "/me/descriptorByName/jenkins.security.ApiTokenProperty/revoke", auth: tok}, 400, "The tokenUuid cannot be empty"},
		{"revoke another user's token without Administer → 403 Overall/Administer",
			call{method: "POST", path: "/user/admin/descriptorByName/jenkins.security.ApiTokenProperty/revoke?tokenUuid=x", auth: basic("bob", bobValue)}, 403, "bob is missing the Overall/Administer permission"},
	} {
		r := send(t, s, tc.c)
		if r.status != tc.status || !strings.Contains(r.body, tc.bodyHas) || (tc.bodyHas == "" && tc.status == 403 && r.body != "") {
			t.Errorf("%s: %d %s", tc.rule, r.status, r.body)
		}
	}

	// The default token name, for the user's own /user/ID page.
	r = send(t, s, call{method: "POST", path: "/user/bob/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", auth: basic("bob", bobValue)})
	if r.status != 200 || !strings.Contains(r.body, `"tokenName":"Token created on `) {
		t.Errorf("default name: %d %s", r.status, r.body)
	}

	// Revoking makes the token fail with 401.
	r = send(t, s, call{method: "POST", path: "/me/descriptorByName/jenkins.security.ApiTokenProperty/revoke",
		auth: tok, form: url.Values{"tokenUuid": {g.Data.TokenUUID}}})
	if r.status != 200 || r.body != "" {
		t.Fatalf("revoke: %d %q", r.status, r.body)
	}
	if r := send(t, s, call{path: "/whoAmI/api/json", auth: tok}); r.status != 401 || r.h.Get("Www-Authenticate") != `Basic realm="Jenkins"` {
		t.Fatalf("revoked token: %d", r.status)
	}
	// The password still works.
	if r := send(t, s, call{path: "/whoAmI/api/json", auth: admin}); r.status != 200 {
		t.Fatalf("password after revoke: %d", r.status)
	}
}

// TestParameterizedJob pins /build and /buildWithParameters on a job with
// parameters (§1.10).
func TestParameterizedJob(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs()})
	defer s.Close()
	_, v := s.NewAPIToken("admin", "")
	admin := basic("admin", v)
	for _, tc := range []struct {
		rule    string
		c       call
		status  int
		bodyHas string
	}{
		{"GET /build shows the parameter form", call{path: "/job/params/build", auth: admin}, 200, "This build requires parameters"},
		{"POST /build without a form → 400 Nothing is submitted", call{method: "POST", path: "/job/params/build", auth: admin}, 400, "Nothing is submitted"},
		{"POST /build with other parameters → 400", call{method: "POST", path: "/job/params/build?delay=0sec", auth: admin}, 400, "This page expects a form submission"},
		{"POST /build with json → 201", call{method: "POST", path: "/job/params/build", auth: admin, form: url.Values{"json": {`{"parameter":[]}`}}}, 201, ""},
		{"POST /buildWithParameters → 201", call{method: "POST", path: "/job/params/buildWithParameters?X=1", auth: admin}, 201, ""},
		{"anonymous GET /buildWithParameters with the job token on a secured instance → 403", call{path: "/job/params/buildWithParameters?token=p-tok"}, 403, "Authentication required"},
		{"/buildByToken/buildWithParameters → 201", call{path: "/buildByToken/buildWithParameters?job=params&token=p-tok&X=1"}, 201, ""},
		{"/buildByToken/buildWithParameters on a job without parameters → 400", call{path: "/buildByToken/buildWithParameters?job=app&token=tok"}, 400, "Use /buildByToken/build for this job"},
	} {
		if r := send(t, s, tc.c); r.status != tc.status || !strings.Contains(r.body, tc.bodyHas) {
			t.Errorf("%s: %d %s", tc.rule, r.status, r.body)
		}
	}
	if got := s.Builds("params"); got != 3 {
		t.Errorf("Builds(params) = %d, want 3", got)
	}
}

// TestRootAndQueueJSON pins GET /api/json and the queue item a 201 points at.
func TestRootAndQueueJSON(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs()})
	defer s.Close()
	admin := basic("admin", "admin-pw")
	r := send(t, s, call{path: "/api/json", auth: admin})
	base := s.URL + "/"
	want := `{"_class":"hudson.model.Hudson","mode":"NORMAL","nodeDescription":"the Jenkins controller's built-in node","useCrumbs":true,"useSecurity":true,"jobs":[` +
		`{"_class":"hudson.model.FreeStyleProject","name":"app","url":"` + base + `job/app/","color":"notbuilt"},` +
		`{"_class":"com.cloudbees.hudson.plugins.folder.Folder","name":"folder","url":"` + base + `job/folder/"},` +
		`{"_class":"hudson.model.FreeStyleProject","name":"notoken","url":"` + base + `job/notoken/","color":"notbuilt"},` +
		`{"_class":"hudson.model.FreeStyleProject","name":"off","url":"` + base + `job/off/","color":"disabled"},` +
		`{"_class":"hudson.model.FreeStyleProject","name":"params","url":"` + base + `job/params/","color":"notbuilt"}]}`
	if r.status != 200 || r.body != want {
		t.Fatalf("api/json: %d\n%s\nwant\n%s", r.status, r.body, want)
	}
	// Without Job/Read the jobs are invisible.
	if r := send(t, s, call{path: "/api/json", auth: basic("carol", "pa:ss")}); !strings.Contains(r.body, `"jobs":[]`) {
		t.Errorf("carol sees jobs: %s", r.body)
	}

	b := send(t, s, call{path: "/buildByToken/build?job=folder/inner&token=inner-tok"})
	loc := b.h.Get("Location")
	if b.status != 201 || !strings.HasPrefix(loc, base+"queue/item/") {
		t.Fatalf("build: %d %q", b.status, loc)
	}
	path := strings.TrimPrefix(loc, s.URL)
	q := send(t, s, call{path: path + "api/json", auth: admin})
	id := strings.TrimSuffix(strings.TrimPrefix(path, "/queue/item/"), "/")
	for _, sub := range []string{`{"_class":"hudson.model.Queue$WaitingItem",`, `"id":` + id + `,`,
		`"task":{"_class":"hudson.model.FreeStyleProject","name":"inner","url":"` + base + `job/folder/job/inner/","color":"notbuilt"}`} {
		if q.status != 200 || !strings.Contains(q.body, sub) {
			t.Errorf("queue item lacks %s: %d %s", sub, q.status, q.body)
		}
	}
	if r := send(t, s, call{path: path + "api/json"}); r.status != 403 {
		t.Errorf("anonymous queue item: %d", r.status)
	}
	if r := send(t, s, call{path: "/queue/item/999/api/json", auth: admin}); r.status != 404 {
		t.Errorf("unknown queue item: %d", r.status)
	}
}

// TestCounters pins CrumbRequests, Requests and Builds exactly: every request
// counts, whatever its outcome.
func TestCounters(t *testing.T) {
	s := Start(Options{Users: testUsers(), Jobs: testJobs()})
	defer s.Close()
	admin := basic("admin", "admin-pw")
	crumb, cookie := crumbFor(t, s, admin)                                       // GET crumb, 200
	send(t, s, call{path: "/crumbIssuer/api/xml", auth: admin})                  // GET crumb, 200
	send(t, s, call{path: "/crumbIssuer/api/json"})                              // GET crumb, 403
	send(t, s, call{path: "/crumbIssuer/api/json", auth: basic("admin", "x")})   // GET crumb, 401
	send(t, s, call{method: "POST", path: "/crumbIssuer/api/json", auth: admin}) // POST: not a crumb GET
	send(t, s, call{path: "/crumbIssuerX", auth: admin})                         // not the issuer
	for range 2 {
		send(t, s, call{method: "POST", path: "/job/app/build", auth: admin,
			header: map[string]string{"Jenkins-Crumb": crumb}, cookies: []*http.Cookie{cookie}}) // 201
	}
	send(t, s, call{method: "POST", path: "/job/app/build", auth: admin}) // 403, no crumb
	send(t, s, call{path: "/job/folder/job/inner/build?token=inner-tok", auth: admin})
	send(t, s, call{path: "/buildByToken/build?job=app&token=bad"})

	for _, tc := range []struct {
		what      string
		got, want int64
	}{
		{"CrumbRequests", s.CrumbRequests(), 4},
		{"GET /crumbIssuer/api/json", s.Requests("GET", "/crumbIssuer/api/json"), 3},
		{"POST /crumbIssuer/api/json", s.Requests("POST", "/crumbIssuer/api/json"), 1},
		{"GET /crumbIssuer/api/xml", s.Requests("GET", "/crumbIssuer/api/xml"), 1},
		{"POST /job/app/build", s.Requests("POST", "/job/app/build"), 3},
		{"GET /job/app/build", s.Requests("GET", "/job/app/build"), 0},
		{"GET /job/folder/job/inner/build", s.Requests("GET", "/job/folder/job/inner/build"), 1},
		{"GET /buildByToken/build", s.Requests("GET", "/buildByToken/build"), 1},
		{"Builds(app)", int64(s.Builds("app")), 2},
		{"Builds(folder/inner)", int64(s.Builds("folder/inner")), 1},
		{"Builds(inner)", int64(s.Builds("inner")), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.what, tc.got, tc.want)
		}
	}
}

func TestStartValidatesOptions(t *testing.T) {
	for _, o := range []Options{{Salt: "short"}, {Salt: "0123456789abcdeg"}, {Jobs: map[string]Job{"a//b": {}}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Start(%+v) did not panic", o)
				}
			}()
			Start(o).Close()
		}()
	}
	s := Start(Options{})
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s", s.URL)
	}
	// The default account.
	if r := send(t, s, call{path: "/api/json", auth: basic("admin", "admin-pw")}); r.status != 200 {
		t.Errorf("default admin: %d", r.status)
	}
}
