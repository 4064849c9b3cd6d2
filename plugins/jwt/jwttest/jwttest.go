// Package jwttest is a faithful, in-process emulator of the token endpoints
// that authx's jwt plugin logs in to. One Server, bound to 127.0.0.1 only,
// serves every flavour side by side:
//
//   - a generic Express/Nest style API:   POST /auth/login, POST /auth/refresh,
//     GET /api/me, GET /api/admin, GET /api/quiet and the bad-input helpers
//     POST /broken/html, /broken/shape, /broken/malformed, /broken/down (503),
//     /broken/echo (401 quoting the password and Authorization it was sent);
//   - WordPress "JWT Authentication for WP REST API" (Tmeister, v1.3.4):
//     /wp-json/jwt-auth/v1/token, /token/validate and /wp-json/wp/v2/users/me
//     (also reachable as /?rest_route=/... and /index.php?rest_route=/...,
//     the only way with Options.PlainPermalinks);
//   - its look-alike usefulteam/jwt-auth (3.x) as a second WordPress site
//     under /alt: /alt/wp-json/jwt-auth/v1/token, /token/validate,
//     /token/refresh and /alt/wp-json/wp/v2/users/me;
//   - json-server-auth: POST /login (or /signin), GET /664/posts (public
//     read, as in json-server-auth) and GET /660/posts (logged-in read);
//   - Django REST framework SimpleJWT: POST /api/token/,
//     POST /api/token/refresh/ and GET /api/user/;
//   - an RFC 6749 token endpoint: POST /oauth/token (password,
//     client_credentials, refresh_token and RFC 8693 token exchange grants;
//     client secrets, RFC 7523 client assertions verified as oidc-provider
//     does, RFC 8705 TLS client certificates with Options.TLS; RFC 8707
//     resource indicators), and Dex's /dex/userinfo, which refuses a bad
//     token with 403 and no WWW-Authenticate;
//   - an OpenID Provider on that token endpoint, as panva's oidc-provider
//     behaves (oidc.go): discovery, /oauth/authorize with PKCE and loopback
//     redirects, the authorization_code and device grants, the device
//     verification page, ES256 id_tokens with their JWKS, and revocation.
//
// The answers (status codes, headers, bodies, messages, JWT header and claim
// layout) copy the real products' source code, not what a friendly server
// would do: WordPress answers a bad token with 403 on any REST route,
// json-server-auth errors are bare JSON strings, OAuth2 errors follow RFC 6749
// §5.2 and the generic API's challenges follow RFC 6750 §3.
//
// Tokens are real HS256 JWTs minted with github.com/golang-jwt/jwt/v5; their
// iat and exp come from Options.Now, so a test that advances its injected
// clock sees tokens expire exactly as a client reading exp expects. Every
// access token lives Options.AccessTTL and every refresh token
// Options.RefreshTTL, whatever the flavour's real default.
//
// Revocation follows what operators do in real life: RevokeAccess rotates the
// signing secrets (WordPress, json-server-auth, the generic API and OAuth2:
// old tokens then fail signature verification) or, for SimpleJWT, rejects
// every access token issued so far as invalid; RevokeRefresh forgets every
// refresh token issued so far (SimpleJWT blacklists them).
package jwttest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
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
	"unicode/utf16"
)

// Options configures a Server. The zero value is usable: every field has a
// documented default.
type Options struct {
	// Users maps a login name (or an email address) to its password.
	// A key without "@" is a login whose email is <login>@example.com; a key
	// with "@" is an email whose login is the part before "@". User IDs are
	// assigned from 1 in the sorted order of the logins, so with the default
	// {"alice": "wonderland"} alice is user 1 with email alice@example.com.
	Users map[string]string
	// AccessTTL is the lifetime of every access token, in every flavour
	// (exp − iat == AccessTTL, expiresIn/expires_in == AccessTTL in seconds).
	// Default 1h. It is truncated to whole seconds, as JWT dates are.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of every refresh token (generic opaque
	// tokens, SimpleJWT refresh JWTs, OAuth2 refresh tokens, the usefulteam
	// refresh cookie). Default 24h.
	RefreshTTL time.Duration
	// RotateRefresh makes a refresh return a new refresh token and invalidate
	// the old one (SimpleJWT ROTATE_REFRESH_TOKENS with
	// BLACKLIST_AFTER_ROTATION, RFC 6749 §6 rotation, the generic API). When
	// false the generic API returns the same refresh token, SimpleJWT returns
	// only "access" and OAuth2 omits refresh_token. usefulteam/jwt-auth always
	// rotates its refresh cookie, as the real plugin does.
	RotateRefresh bool
	// Clients maps an OAuth2 client_id to its client_secret. A client whose
	// secret is "" is a public client: it identifies itself with client_id in
	// the body and may not use the client_credentials grant.
	// Default {"cli": "s3cret-client"}.
	Clients map[string]string
	// Scopes lists the scopes the OAuth2 server grants. A request without
	// scope gets all of them; requesting any other scope is invalid_scope.
	// Default ["read", "write", "admin"].
	Scopes []string
	// Latency delays every token-endpoint answer (every login and refresh
	// endpoint of every flavour). The wait ends early, without an answer,
	// when the request's context is cancelled or the Server is closed.
	Latency time.Duration
	// PlainPermalinks makes both WordPress sites run with "plain"
	// permalinks: their REST API answers only at /?rest_route=/... (and
	// /index.php?rest_route=/..., the form rest_url() gives), while
	// /wp-json/... is an ordinary page request that no rewrite rule routes
	// to the API: an empty 200 HTML answer, as observed on WordPress 6.1.
	PlainPermalinks bool
	// Now is the clock used for iat, nbf, exp and every expiry check.
	// Nil means time.Now.
	Now func() time.Time
	// ClientKeys registers private_key_jwt clients (RFC 7523 §2.2): a
	// client_id and the public key (*rsa.PublicKey, *ecdsa.PublicKey,
	// ed25519.PublicKey) its client assertions must verify with. A client
	// of Clients may authenticate with client_secret_jwt (HS256/384/512
	// keyed with its secret).
	ClientKeys map[string]crypto.PublicKey
	// TLSClients registers tls_client_auth clients (RFC 8705 §2.1.2): a
	// client_id and the subject common name of the TLS client certificate
	// it must present. Only a server started with TLS sees certificates.
	TLSClients map[string]string
	// TLS, when set, makes the server serve https with this configuration
	// (its certificate, ClientAuth, ClientCAs); URL is then https://.
	TLS *tls.Config

	// Authorize is the user at the OpenID Provider's sign-in (GET
	// /oauth/authorize) and device verification page (/device): given the
	// request's parameters, it returns the login of the user who signs in
	// and consents, or an OAuth error code (access_denied, ...) to answer
	// instead. Nil signs in as the first user.
	Authorize func(q url.Values) (login, errCode string)
	// RedirectPath is the path of the loopback redirect URIs the native
	// clients registered. Default /callback.
	RedirectPath string
	// DeviceInterval is the interval of device authorization answers and
	// the least time between two polls (a sooner one is slow_down, and the
	// interval grows by 5 s). 0 omits it and enforces nothing, as
	// oidc-provider does.
	DeviceInterval time.Duration
	// SlowDown answers that many polls of each device code with slow_down
	// first, the interval growing by 5 s each time.
	SlowDown int
	// DiscoveryIssuer is the issuer the metadata claims; default URL.
	DiscoveryIssuer string
	// DiscoveryCacheControl is the metadata's Cache-Control header; none
	// by default.
	DiscoveryCacheControl string
	// NoOIDCDiscovery serves only the RFC 8414 metadata: the OIDC
	// Discovery path is 404.
	NoOIDCDiscovery bool
	// BadNonce makes the id_tokens of the code flow carry another nonce
	// than the request's: an injected token, for the client's check.
	BadNonce bool

	// DPoP makes the OAuth2 token endpoint demand a DPoP proof (RFC 9449
	// §5) on every token request, checked by CheckDPoPProof (a replayed
	// jti too), and bind the access tokens it issues to the proof's key:
	// cnf.jkt, token_type DPoP. A refresh must prove with the key its
	// refresh token was issued to.
	DPoP bool
	// DPoPNonce, with DPoP, is the nonce every proof must carry (§8): a
	// proof without it gets 400 use_dpop_nonce with a DPoP-Nonce header.
	DPoPNonce string
}

// Server is a running emulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT, with no trailing slash.
	URL string

	base      string // == URL, read by handlers
	opts      Options
	ts        *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once

	users   []*user
	clients map[string]string
	scopes  []string

	jtis map[string]int64 // client assertion jti → its exp: replays are refused

	logins    atomic.Int64
	refreshes atomic.Int64

	mu          sync.Mutex
	requests    map[string]int64
	keys        keyring
	opaque      map[string]*refreshRecord        // generic and OAuth2 refresh tokens
	djRefresh   map[string]bool                  // SimpleJWT refresh jti → blacklisted
	djAccess    map[string]bool                  // SimpleJWT access jti → revoked
	altRefresh  map[int]map[string]altRefreshRec // usefulteam: user ID → device → token
	lastRefresh string

	oidc oidcState
	dpop dpopServerState
}

type user struct {
	id       int
	login    string
	email    string
	password string
}

// keyring holds the HS256 secrets. RevokeAccess replaces the access ones.
type keyring struct {
	api []byte // generic API and OAuth2 access tokens
	wp  []byte // Tmeister JWT_AUTH_SECRET_KEY
	alt []byte // usefulteam JWT_AUTH_SECRET_KEY
	jsa []byte // json-server-auth JWT_SECRET_KEY
	dj  []byte // SimpleJWT SIGNING_KEY
}

// jsonServerAuthSecret is json-server-auth's hard-coded JWT_SECRET_KEY
// (src/constants.ts); it is used until the first RevokeAccess.
const jsonServerAuthSecret = "json-server-auth-123456"

// Start starts a Server on 127.0.0.1 (never another interface) with o's
// defaults filled in. It panics if it cannot listen, as httptest does.
// Call Close when done.
func Start(o Options) *Server {
	s := &Server{
		opts:       o,
		closing:    make(chan struct{}),
		requests:   map[string]int64{},
		opaque:     map[string]*refreshRecord{},
		djRefresh:  map[string]bool{},
		djAccess:   map[string]bool{},
		altRefresh: map[int]map[string]altRefreshRec{},
		jtis:       map[string]int64{},
	}
	s.applyDefaults()
	s.oidc.init()
	s.keys = keyring{
		api: randBytes(32),
		wp:  randBytes(64),
		alt: randBytes(64),
		jsa: []byte(jsonServerAuthSecret),
		dj:  randBytes(50),
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("jwttest: cannot listen on 127.0.0.1: %v", err))
	}
	s.base = "http://" + ln.Addr().String()
	s.ts = httptest.NewUnstartedServer(s)
	s.ts.Listener.Close()
	s.ts.Listener = ln
	s.ts.Config.ReadHeaderTimeout = 10 * time.Second
	if o.TLS != nil {
		s.base = "https://" + ln.Addr().String()
		s.ts.TLS = o.TLS
		// A refused handshake (no or a wrong client certificate) is what
		// tests provoke: not worth a log line.
		s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	s.URL = s.base
	return s
}

func (s *Server) applyDefaults() {
	o := &s.opts
	if o.AccessTTL <= 0 {
		o.AccessTTL = time.Hour
	}
	o.AccessTTL = o.AccessTTL.Truncate(time.Second)
	if o.AccessTTL < time.Second {
		o.AccessTTL = time.Second
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = 24 * time.Hour
	}
	o.RefreshTTL = o.RefreshTTL.Truncate(time.Second)
	if o.RefreshTTL < time.Second {
		o.RefreshTTL = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	users := o.Users
	if len(users) == 0 {
		users = map[string]string{"alice": "wonderland"}
	}
	byLogin := map[string]*user{}
	for key, pw := range users {
		u := &user{password: pw}
		if at := strings.IndexByte(key, '@'); at > 0 {
			u.login, u.email = key[:at], key
		} else {
			u.login, u.email = key, key+"@example.com"
		}
		if _, dup := byLogin[u.login]; !dup {
			byLogin[u.login] = u
		}
	}
	for _, u := range byLogin {
		s.users = append(s.users, u)
	}
	sort.Slice(s.users, func(i, j int) bool { return s.users[i].login < s.users[j].login })
	for i, u := range s.users {
		u.id = i + 1
	}
	s.clients = map[string]string{}
	for id, secret := range o.Clients {
		s.clients[id] = secret
	}
	if len(s.clients) == 0 {
		s.clients["cli"] = "s3cret-client"
	}
	s.scopes = append([]string(nil), o.Scopes...)
	if len(s.scopes) == 0 {
		s.scopes = []string{"read", "write", "admin"}
	}
}

// Close shuts the server down. Requests waiting out Latency end at once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ts.Close()
	})
}

// Logins reports how many requests reached a login endpoint, successful or
// not: POST /auth/login, /broken/*, the two WordPress .../jwt-auth/v1/token
// routes, json-server-auth /login and /signin, SimpleJWT /api/token/, and
// /oauth/token with grant_type password or client_credentials.
func (s *Server) Logins() int64 { return s.logins.Load() }

// Refreshes reports how many requests reached a refresh endpoint: POST
// /auth/refresh, /api/token/refresh/, /alt/wp-json/jwt-auth/v1/token/refresh
// and /oauth/token with grant_type=refresh_token.
func (s *Server) Refreshes() int64 { return s.refreshes.Load() }

// Requests reports how many requests were seen on path (the URL path only,
// without query), whatever their method or outcome.
func (s *Server) Requests(path string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// RevokeAccess makes every access token issued so far be rejected from now
// on, in every flavour, the way each product rejects a token signed with a
// secret it no longer has. Tokens issued afterwards are valid. Refresh tokens
// are not affected.
func (s *Server) RevokeAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys.api = randBytes(32)
	s.keys.wp = randBytes(64)
	s.keys.alt = randBytes(64)
	s.keys.jsa = randBytes(32)
	for jti := range s.djAccess {
		s.djAccess[jti] = true
	}
}

// RevokeRefresh makes every refresh token issued so far be rejected from now
// on, in every flavour: the generic API and OAuth2 forget them, SimpleJWT
// blacklists them, usefulteam/jwt-auth drops its stored refresh cookies.
// Access tokens are not affected.
func (s *Server) RevokeRefresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.opaque)
	for jti := range s.djRefresh {
		s.djRefresh[jti] = true
	}
	clear(s.altRefresh)
}

// LastRefreshToken returns the newest refresh token issued by any flavour
// (an opaque generic or OAuth2 token, a SimpleJWT refresh JWT, or the value
// of usefulteam's refresh_token cookie), or "" if none was issued yet.
func (s *Server) LastRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastRefresh
}

func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) key(pick func(*keyring) []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pick(&s.keys)
}

// ServeHTTP routes a request to its flavour.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	s.mu.Lock()
	s.requests[p]++
	s.mu.Unlock()

	if s.routeOIDC(w, r) {
		return
	}
	switch {
	case p == "/auth/login":
		s.genericLogin(w, r)
	case p == "/auth/refresh":
		s.genericRefresh(w, r)
	case p == "/api/me" || p == "/api/admin" || p == "/api/quiet" || p == "/api/notes":
		s.genericResource(w, r)
	case strings.HasPrefix(p, "/broken/"):
		s.broken(w, r)
	case (p == "/" || p == "/index.php") && r.URL.Query().Has("rest_route"):
		if s.opts.PlainPermalinks {
			wpPlainLink(w, s.base)
		}
		s.wordpress(w, r, r.URL.Query().Get("rest_route"))
	case (p == "/alt" || p == "/alt/" || p == "/alt/index.php") && r.URL.Query().Has("rest_route"):
		if s.opts.PlainPermalinks {
			wpPlainLink(w, s.base+"/alt")
		}
		s.usefulteam(w, r, r.URL.Query().Get("rest_route"))
	case s.opts.PlainPermalinks && (p == "/wp-json" || strings.HasPrefix(p, "/wp-json/") || p == "/alt/wp-json" || strings.HasPrefix(p, "/alt/wp-json/")):
		wpNoRewrite(w)
	case p == "/wp-json" || strings.HasPrefix(p, "/wp-json/"):
		s.wordpress(w, r, strings.TrimPrefix(p, "/wp-json"))
	case p == "/alt/wp-json" || strings.HasPrefix(p, "/alt/wp-json/"):
		s.usefulteam(w, r, strings.TrimPrefix(p, "/alt/wp-json"))
	case p == "/login" || p == "/signin" || p == "/664/posts" || p == "/660/posts":
		s.jsonServer(w, r)
	case p == "/api/token" || p == "/api/token/" || p == "/api/token/refresh" ||
		p == "/api/token/refresh/" || p == "/api/user" || p == "/api/user/":
		s.simpleJWT(w, r)
	case p == "/oauth/token":
		s.oauthToken(w, r)
	case p == "/dex/userinfo":
		s.dexUserinfo(w, r)
	default:
		s.notFound(w, r)
	}
}

// tokenEndpoint counts a login (or refresh) request and waits out Latency.
// It returns false when the wait was cut short: the handler must then return
// without answering.
func (s *Server) tokenEndpoint(r *http.Request, refresh bool) bool {
	if refresh {
		s.refreshes.Add(1)
	} else {
		s.logins.Add(1)
	}
	if s.opts.Latency <= 0 {
		return true
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}

// Content types. The OAuth2 one is RFC 6749 §5.1's literal example.
const (
	ctJSON      = "application/json; charset=UTF-8"
	ctOAuthJSON = "application/json;charset=UTF-8"
	ctHTML      = "text/html; charset=UTF-8"
)

// marshal encodes v compactly, without Go's HTML escaping and without the
// encoder's trailing newline (Express, PHP and DRF escape neither <, > nor &).
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("jwttest: marshal %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// phpJSON encodes v as PHP's json_encode does with no flags, which is what
// WordPress's REST server sends: "/" becomes "\/" and every non-ASCII
// character a \uXXXX escape.
func phpJSON(v any) []byte {
	var out bytes.Buffer
	for _, r := range string(marshal(v)) {
		switch {
		case r == '/':
			out.WriteString(`\/`)
		case r < 0x80:
			out.WriteRune(r)
		case r > 0xFFFF:
			a, b := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, a, b)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeRaw(w, status, ctJSON, marshal(v))
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	w.Write(body)
}

// notFound is the Express/Nest answer for a path or method nothing handles.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, nestError{
		StatusCode: 404,
		Message:    "Cannot " + r.Method + " " + r.URL.Path,
		Error:      "Not Found",
	})
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }

func (s *Server) userByLogin(login string) *user {
	for _, u := range s.users {
		if u.login == login {
			return u
		}
	}
	return nil
}

func (s *Server) userByEmail(email string) *user {
	for _, u := range s.users {
		if u.email == email {
			return u
		}
	}
	return nil
}

func (s *Server) userByID(id int) *user {
	if id >= 1 && id <= len(s.users) {
		return s.users[id-1]
	}
	return nil
}
