package jwt

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/tlsconfig"
)

// The modes of a profile: one profile is one mode.
const (
	modeLogin  = "login"  // a login endpoint answers JSON holding the token
	modeOAuth2 = "oauth2" // an RFC 6749 token endpoint
	modeSign   = "sign"   // the token is minted locally
	modeStatic = "static" // the token is given (env:, file:, cmd:)
)

// fields is the config schema. Keys of another mode are rejected by
// Configure, so that a typo never silently does nothing.
var fields = []core.Field{
	{Name: "mode", Type: core.TypeString, Default: modeLogin, Enum: []string{modeLogin, modeOAuth2, modeSign, modeStatic},
		Help: "how the token is obtained: login (a JSON login endpoint), oauth2 (a token endpoint), sign (minted locally), static (given)"},
	{Name: "preset", Type: core.TypeString, Enum: []string{"wordpress", "json-server-auth", "simplejwt"},
		Help: "login mode: the conventions of a known API; needs the profile's url"},
	{Name: "header", Type: core.TypeString, Default: "Authorization", Help: "the header that carries the token"},
	{Name: "prefix", Type: core.TypeString, Default: "Bearer", Help: `what precedes the token in the header ("" for none, e.g. with X-Auth-Token)`},
	{Name: "timeout", Type: core.TypeDuration, Default: "30s", Help: "bound on each request to the login, refresh or token endpoint"},

	{Name: "login_url", Type: core.TypeString, Help: "login mode: the login endpoint, absolute or relative to the profile's url"},
	{Name: "method", Type: core.TypeString, Default: "POST", Help: "login mode: the login request's method"},
	{Name: "body_format", Type: core.TypeString, Default: "json", Enum: []string{"json", "form"}, Help: "login mode: send body as JSON or as a form"},
	{Name: "body", Type: core.TypeObject, Secret: true, Help: `login mode: the login body; any value may be a secret reference or hold {{username}} and {{password}} (default {"username": "{{username}}", "password": "{{password}}"})`},
	{Name: "headers", Type: core.TypeObject, Secret: true, Help: "login, oauth2: extra headers of the login, refresh and token requests"},
	{Name: "username", Type: core.TypeString, Help: "login: the user, for {{username}}; oauth2: the password grant's username"},
	{Name: "password", Type: core.TypeString, Secret: true, Help: "login: the password, for {{password}}; oauth2: the password grant's password. Usually env:NAME, file:PATH or cmd:COMMAND"},
	{Name: "token_path", Type: core.TypeString, Help: "login mode: dot path of the token in the answer (default: the first of access_token, accessToken, token, access, data.token, ...)"},
	{Name: "refresh_token_path", Type: core.TypeString, Help: "login mode: dot path of the refresh token in the answer (default: refresh_token, refreshToken, refresh, data.refreshToken, ...)"},
	{Name: "expires_in_path", Type: core.TypeString, Help: "login mode: dot path of the lifetime in seconds (default: expires_in, expiresIn, data.expiresIn, ...); else the token's exp claim"},
	{Name: "refresh_url", Type: core.TypeString, Help: "login mode: the refresh endpoint; without it an expired token means a new login"},
	{Name: "refresh_method", Type: core.TypeString, Default: "POST", Help: "login mode: the refresh request's method"},
	{Name: "refresh_body", Type: core.TypeObject, Secret: true, Help: `login mode: the refresh body, e.g. {"refreshToken": "{{refresh_token}}"} (the default)`},

	{Name: "token_url", Type: core.TypeString, Help: "oauth2 mode: the token endpoint (RFC 6749 §3.2)"},
	{Name: "grant", Type: core.TypeString, Default: "client_credentials", Enum: []string{"client_credentials", "password", "authorization_code", "device_code", grantExchange}, Help: "oauth2 mode: the grant type; authorization_code is a browser login (PKCE, loopback redirect), device_code a login with a code on another device (RFC 8628), token_exchange trades subject_token for a token (RFC 8693)"},
	{Name: "client_id", Type: core.TypeString, Help: "oauth2 mode: the client identifier"},
	{Name: "client_secret", Type: core.TypeString, Secret: true, Help: "oauth2 mode: the client secret (omit for a public client)"},
	{Name: "client_auth", Type: core.TypeString, Default: "basic", Enum: clientAuthMethods,
		Help: "oauth2 mode: how the client authenticates: basic (client_secret_basic, RFC 6749 §2.3.1), body (client_secret_post), private_key_jwt or client_secret_jwt (RFC 7523), tls_client_auth (RFC 8705), none (a public client)"},
	{Name: "client_assertion_key", Type: core.TypeString, Secret: true, Help: "oauth2 mode, private_key_jwt: the PEM private key (RSA, EC or Ed25519) that signs the client assertion, usually file:PATH"},
	{Name: "client_assertion_alg", Type: core.TypeString, Help: "oauth2 mode: the client assertion's algorithm (default: RS256, ES256/384/512 or EdDSA by the key; HS256 for client_secret_jwt)"},
	{Name: "client_assertion_kid", Type: core.TypeString, Help: "oauth2 mode, private_key_jwt: the kid header of the client assertion"},
	{Name: "client_assertion_cert", Type: core.TypeString, Help: "oauth2 mode, private_key_jwt: the PEM certificate of client_assertion_key, whose thumbprints go into the x5t#S256 and x5t headers (Entra ID's certificate credentials)"},
	{Name: "scope", Type: core.TypeStringList, Help: "oauth2 mode: the scopes to request"},
	{Name: "audience", Type: core.TypeStringList, Help: "oauth2 mode: the audience parameter (Auth0 and others); sign mode: the aud claim"},
	{Name: "resource", Type: core.TypeStringList, Help: "oauth2 mode: resource indicators (RFC 8707), one resource parameter each in token and authorization requests"},
	{Name: "extra_params", Type: core.TypeObject, Help: "oauth2 mode: more parameters of token and authorization requests, each a string or a list of strings"},
	{Name: "subject_token", Type: core.TypeString, Secret: true, Help: "oauth2 mode, token_exchange: the token to exchange (RFC 8693), a secret reference; profile:NAME is another profile's token"},
	{Name: "subject_token_type", Type: core.TypeString, Default: tokenTypeAccess, Help: "oauth2 mode, token_exchange: the subject token's type URI"},
	{Name: "actor_token", Type: core.TypeString, Secret: true, Help: "oauth2 mode, token_exchange: the acting party's token (delegation), a secret reference"},
	{Name: "actor_token_type", Type: core.TypeString, Help: "oauth2 mode, token_exchange: the actor token's type URI (default: an access token's)"},
	{Name: "requested_token_type", Type: core.TypeString, Help: "oauth2 mode, token_exchange: the type URI of the token wanted"},
	{Name: tlsconfig.CAFileField, Type: core.TypeString, Help: "a PEM file of certificate authorities trusted besides the system's, for every request made for the profile: the plugin's and authx's (request, curl, wget)"},
	{Name: tlsconfig.ClientCertField, Type: core.TypeString, Help: "a PEM file holding the TLS client certificate (with client_key), for every request made for the profile"},
	{Name: tlsconfig.ClientKeyField, Type: core.TypeString, Secret: true, Help: "the TLS client certificate's PEM private key, usually file:PATH"},
	{Name: "authorization_url", Type: core.TypeString, Help: "oauth2 mode: the authorization endpoint of grant authorization_code (default: from the issuer's discovery)"},
	{Name: "device_authorization_url", Type: core.TypeString, Help: "oauth2 mode: the device authorization endpoint of grant device_code (default: from the issuer's discovery)"},
	{Name: "revocation_url", Type: core.TypeString, Help: "oauth2 mode: where logout revokes the tokens, RFC 7009 (default: from the issuer's discovery)"},
	{Name: "jwks_url", Type: core.TypeString, Help: "oauth2 mode: the keys that sign the id_token (default: from the issuer's discovery)"},
	{Name: "redirect_port", Type: core.TypeInt, Default: 0, Help: "oauth2 mode, authorization_code: the port of the loopback redirect http://127.0.0.1:PORT/callback (0: a free port)"},
	{Name: "redirect_path", Type: core.TypeString, Default: "/callback", Help: "oauth2 mode, authorization_code: the path of the loopback redirect URI"},
	{Name: "dpop", Type: core.TypeBool, Default: false, Help: "oauth2 mode: bind the tokens to a key pair made at login (DPoP, RFC 9449): every token request and every API request carries a proof signed by it, and the API gets Authorization: DPoP"},
	{Name: "dpop_alg", Type: core.TypeString, Default: dpopES256, Enum: dpopAlgs, Help: "oauth2 mode, dpop: the DPoP key's algorithm: ES256 (P-256), EdDSA (Ed25519) or RS256"},
	{Name: "prompt", Type: core.TypeString, Help: `oauth2 mode, authorization_code: the OIDC prompt parameter (default consent when scope holds offline_access, else none; "" sends none)`},

	{Name: "algorithm", Type: core.TypeString, Default: "HS256", Enum: Algorithms(), Help: "sign mode: the signing algorithm"},
	{Name: "key", Type: core.TypeString, Secret: true, Help: "sign mode: the HMAC secret (at least as long as the hash) or a PEM private key, usually file:PATH or env:NAME"},
	{Name: "key_id", Type: core.TypeString, Help: "sign mode: the kid header"},
	{Name: "issuer", Type: core.TypeString, Help: "sign mode: the iss claim; oauth2 mode: the OIDC issuer, whose discovery document gives the endpoints"},
	{Name: "subject", Type: core.TypeString, Help: "sign mode: the sub claim"},
	{Name: "claims", Type: core.TypeObject, Help: "sign mode: more claims"},
	{Name: "ttl", Type: core.TypeDuration, Default: "5m", Help: "sign mode: the token's lifetime (exp = iat + ttl); it is minted again before it expires"},

	{Name: "token", Type: core.TypeString, Secret: true, Help: "static mode: the token, usually env:NAME, file:PATH or cmd:COMMAND; its exp claim, if any, is its expiry"},
}

// modeKeys lists the keys only one mode reads.
var modeKeys = map[string][]string{
	modeLogin: {"preset", "login_url", "method", "body_format", "body", "token_path", "refresh_token_path", "expires_in_path",
		"refresh_url", "refresh_method", "refresh_body"},
	modeOAuth2: {"token_url", "grant", "client_id", "client_secret", "client_auth", "scope",
		"client_assertion_key", "client_assertion_alg", "client_assertion_kid", "client_assertion_cert", "resource", "extra_params",
		"subject_token", "subject_token_type", "actor_token", "actor_token_type", "requested_token_type",
		"authorization_url", "device_authorization_url", "revocation_url", "jwks_url", "redirect_port", "redirect_path", "prompt", "dpop", "dpop_alg"},
	modeSign:   {"algorithm", "key", "key_id", "subject", "claims", "ttl"},
	modeStatic: {"token"},
}

// sharedKeys are read by some modes only, but by more than one.
var sharedKeys = map[string][]string{
	"username": {modeLogin, modeOAuth2},
	"password": {modeLogin, modeOAuth2},
	"headers":  {modeLogin, modeOAuth2},
	"audience": {modeOAuth2, modeSign},
	"issuer":   {modeOAuth2, modeSign},
}

// preset holds the conventions of a known API. Paths are relative to the
// profile's url.
type preset struct {
	loginPath   string
	body        map[string]any
	tokenPaths  []string
	refreshPath string // the refresh endpoint; "" means none: log in again
	refreshBody map[string]any
	refreshKeys []string
	// scopePaths are the URL prefixes, relative to the profile's url, the
	// credential is sent under; none means the profile's match.
	scopePaths []string
	// plainLoginPath is the login endpoint on sites whose REST API has no
	// pretty URLs; it is tried when loginPath is not the API.
	plainLoginPath string
}

var presets = map[string]preset{
	// "JWT Authentication for WP REST API" (Tmeister), and the look-alike
	// usefulteam/jwt-auth that answers {"success": true, "data": {"token"}}
	// in the same namespace. 7-day tokens, no refresh.
	"wordpress": {
		loginPath:  "/wp-json/jwt-auth/v1/token",
		body:       map[string]any{"username": "{{username}}", "password": "{{password}}"},
		tokenPaths: []string{"token", "data.token"},
		// With plain permalinks the REST API is only at ?rest_route=, in
		// the two forms WordPress accepts (rest_url() gives the second).
		scopePaths:     []string{"/wp-json/", "/?rest_route=", "/index.php?rest_route="},
		plainLoginPath: "/?rest_route=/jwt-auth/v1/token",
	},
	// json-server-auth: POST /login {"email", "password"} → {"accessToken"}.
	"json-server-auth": {
		loginPath:  "/login",
		body:       map[string]any{"email": "{{username}}", "password": "{{password}}"},
		tokenPaths: []string{"accessToken"},
	},
	// Django REST framework SimpleJWT: {"access", "refresh"}; refresh
	// answers {"access"} and, with ROTATE_REFRESH_TOKENS, a new "refresh".
	"simplejwt": {
		loginPath:   "/api/token/",
		body:        map[string]any{"username": "{{username}}", "password": "{{password}}"},
		tokenPaths:  []string{"access"},
		refreshPath: "/api/token/refresh/",
		refreshBody: map[string]any{"refresh": "{{refresh_token}}"},
		refreshKeys: []string{"refresh"},
	},
}

// The default dot paths tried in a login answer, in order.
var (
	defaultTokenPaths   = []string{"access_token", "accessToken", "token", "access", "jwt", "id_token", "data.token", "data.access_token", "data.accessToken", "data.jwt"}
	defaultRefreshPaths = []string{"refresh_token", "refreshToken", "refresh", "data.refresh_token", "data.refreshToken"}
	defaultExpiresPaths = []string{"expires_in", "expiresIn", "data.expires_in", "data.expiresIn"}
)

// settings is a profile's config, read and checked once per call.
type settings struct {
	base           string // the profile's url
	mode           string
	header, prefix string
	timeout        time.Duration
	headers        map[string]string
	username       string
	password       string

	// login mode
	preset                    string
	loginURL, method, format  string
	body                      map[string]any
	tokenPaths, refreshPaths  []string
	expiresPaths              []string
	refreshURL, refreshMethod string
	refreshBody               map[string]any
	scopePaths                []string
	plainLoginURL             string // the preset's login without pretty permalinks; "" when login_url is set

	// oauth2 mode
	tokenURL, grant, clientID, clientSecret, clientAuth string
	scopes, audience                                    []string
	oidc                                                oidcSettings

	// oauth2 mode: client assertions (clientauth.go), resource and
	// extra_params (params.go), the token_exchange grant (tokenexchange.go)
	assertionKey, assertionAlg, assertionKid string
	assertionCert                            string // a path
	resources                                []string
	extraParams                              url.Values
	subjectToken, subjectTokenType           string
	actorToken, actorTokenType               string
	requestedTokenType                       string

	// oauth2 mode: DPoP (dpop.go). dpopState is the key and the token
	// endpoint's nonce of the call in progress: a new key at login, the
	// credential's at refresh.
	dpop      bool
	dpopAlg   string
	dpopState *dpopState

	// TLS of every request (tls.go)
	tls tlsconfig.Settings

	// static mode
	token string
}

var placeholder = regexp.MustCompile(`\{\{\s*([a-z_]+)\s*\}\}`)

// placeholders maps each template name to where it may be used.
var placeholders = map[string][]string{"username": {"body", "refresh_body"}, "password": {"body", "refresh_body"}, "refresh_token": {"refresh_body"}}

// secrets lists the secret values that requests of st may carry: the
// password, the client secret, the extra headers' values and the literal
// values of the login and refresh bodies.
func (st *settings) secrets() []string {
	out := append([]string{st.password, st.clientSecret, st.assertionKey, st.tls.ClientKey, st.subjectToken, st.actorToken}, st.oidc.callSecrets...)
	for _, v := range st.headers {
		out = append(out, v)
	}
	for _, tree := range []any{st.body, st.refreshBody} { // literal values: an API key, say; not the placeholders
		walkStrings(tree, "", func(_, s string) {
			if !placeholder.MatchString(s) {
				out = append(out, s)
			}
		})
	}
	return out
}

// read reads cfg, reporting every problem as a diagnostic naming its key.
// base is the profile's url ("" when unknown, as in Configure); URLs that
// need it are resolved only when it is given.
func read(cfg core.Config, base string) (*settings, []core.Diagnostic) {
	var ds []core.Diagnostic
	st := &settings{
		base:     base,
		mode:     cfg.String("mode", modeLogin),
		header:   cfg.String("header", "Authorization"),
		prefix:   cfg.String("prefix", "Bearer"),
		timeout:  cfg.Duration("timeout", 30*time.Second),
		username: cfg.String("username", ""),
		password: cfg.String("password", ""),
	}
	for _, k := range slices.Sorted(maps.Keys(cfg)) { // sorted: the first problem reported is always the same
		if other := ownerMode(k); other != nil && !slices.Contains(other, st.mode) {
			ds = append(ds, core.DiagError(k, "is for mode %s, but this profile's mode is %s", strings.Join(other, " or "), st.mode))
		}
	}
	if st.header == "" || strings.ContainsAny(st.header, " :\r\n") {
		ds = append(ds, core.DiagError("header", "%q is not a header name", st.header))
	}
	if st.timeout <= 0 {
		ds = append(ds, core.DiagError("timeout", "must be positive"))
	}
	headers, hds := stringMap(cfg, "headers")
	st.headers, ds = headers, append(ds, hds...)
	ds = append(ds, st.readTLS(cfg)...)

	switch st.mode {
	case modeLogin:
		ds = append(ds, st.readLogin(cfg, base)...)
	case modeOAuth2:
		ds = append(ds, st.readOAuth2(cfg, base)...)
	case modeSign:
		if cfg.String("key", "") == "" {
			ds = append(ds, core.DiagError("key", "sign mode needs the signing key (an HMAC secret or a PEM private key), e.g. key: file:~/.config/app/signing.pem"))
		}
	case modeStatic:
		st.token = strings.TrimSpace(cfg.String("token", ""))
		if st.token == "" {
			ds = append(ds, core.DiagError("token", "static mode needs the token, e.g. token: env:API_TOKEN"))
		}
	}
	return st, ds
}

// ownerMode returns the modes that read key, or nil for keys every mode
// reads.
func ownerMode(key string) []string {
	if ms, ok := sharedKeys[key]; ok {
		return ms
	}
	for m, keys := range modeKeys {
		if slices.Contains(keys, key) {
			return []string{m}
		}
	}
	return nil
}

// readLogin reads the keys of login mode, falling back on the preset's
// conventions and then on the defaults, and checks the templates.
func (st *settings) readLogin(cfg core.Config, base string) []core.Diagnostic {
	var ds []core.Diagnostic
	st.preset = cfg.String("preset", "")
	p := presets[st.preset]
	st.method = strings.ToUpper(cfg.String("method", "POST"))
	if st.method == "GET" || st.method == "HEAD" {
		ds = append(ds, core.DiagError("method", "a %s login would send no body, so no credentials: use POST (the default) or PUT", st.method))
	}
	st.format = cfg.String("body_format", "json")
	st.body = cfg.Object("body")
	if st.body == nil {
		st.body = p.body
	}
	if st.body == nil {
		st.body = map[string]any{"username": "{{username}}", "password": "{{password}}"}
	}
	st.refreshMethod = strings.ToUpper(cfg.String("refresh_method", "POST"))
	if st.refreshMethod == "GET" || st.refreshMethod == "HEAD" {
		ds = append(ds, core.DiagError("refresh_method", "a %s refresh would send no body, so no refresh token: use POST (the default) or PUT", st.refreshMethod))
	}
	st.refreshBody = cfg.Object("refresh_body")
	if st.refreshBody == nil {
		st.refreshBody = p.refreshBody
	}
	if st.refreshBody == nil {
		st.refreshBody = map[string]any{"refreshToken": "{{refresh_token}}"}
	}
	st.tokenPaths = pathList(cfg.String("token_path", ""), p.tokenPaths, defaultTokenPaths)
	st.refreshPaths = pathList(cfg.String("refresh_token_path", ""), p.refreshKeys, defaultRefreshPaths)
	st.expiresPaths = pathList(cfg.String("expires_in_path", ""), nil, defaultExpiresPaths)
	st.scopePaths = p.scopePaths

	var err error
	login := cfg.String("login_url", p.loginPath)
	if login == "" {
		ds = append(ds, core.DiagError("login_url", "login mode needs login_url (or a preset: wordpress, json-server-auth, simplejwt)"))
	} else if st.loginURL, err = resolve(base, login); err != nil {
		ds = append(ds, core.DiagError(keyOr(cfg, "login_url", "preset"), "%v", err))
	}
	if _, set := cfg["login_url"]; !set && p.plainLoginPath != "" {
		st.plainLoginURL, _ = resolve(base, p.plainLoginPath) // same base and origin as loginURL, checked above
	}
	if r := cfg.String("refresh_url", p.refreshPath); r != "" {
		if st.refreshURL, err = resolve(base, r); err != nil {
			ds = append(ds, core.DiagError(keyOr(cfg, "refresh_url", "preset"), "%v", err))
		}
	}
	ds = append(ds, checkTransport(keyOr(cfg, "login_url", "preset"), st.loginURL)...)
	ds = append(ds, checkTransport(keyOr(cfg, "refresh_url", "preset"), st.refreshURL)...)
	ds = append(ds, checkTemplates("body", st.body)...)
	ds = append(ds, checkTemplates("refresh_body", st.refreshBody)...)
	if usesPlaceholder(st.body, "password") && cfg["password"] == nil {
		ds = append(ds, core.DiagError("password", "the login body uses {{password}} but password is not set (e.g. password: env:API_PASSWORD)"))
	}
	if usesPlaceholder(st.body, "username") && st.username == "" {
		ds = append(ds, core.DiagError("username", "the login body uses {{username}} but username is not set"))
	}
	return ds
}

// readOAuth2 reads the keys of oauth2 mode and checks that the grant has
// what it needs.
func (st *settings) readOAuth2(cfg core.Config, base string) []core.Diagnostic {
	var ds []core.Diagnostic
	st.grant = cfg.String("grant", "client_credentials")
	st.clientID = cfg.String("client_id", "")
	st.clientSecret = cfg.String("client_secret", "")
	st.clientAuth = cfg.String("client_auth", "basic")
	st.scopes = cfg.StringList("scope")
	st.audience = cfg.StringList("audience")
	ds = append(ds, st.readOIDC(cfg, base)...)
	tokenURL, eds := readEndpoint(cfg, base, "token_url")
	st.tokenURL, ds = tokenURL, append(ds, eds...)
	if cfg.String("token_url", "") == "" && st.oidc.issuer == "" {
		ds = append(ds, core.DiagError("token_url", "oauth2 mode needs the token endpoint, e.g. token_url: https://auth.example.com/oauth/token, or the OIDC issuer"))
	}
	if st.clientID == "" && (st.grant != "password" || st.clientSecret != "") {
		ds = append(ds, core.DiagError("client_id", "the %s grant needs client_id", st.grant))
	}
	ds = append(ds, st.readClientAuth(cfg)...)
	ds = append(ds, st.readParams(cfg)...)
	ds = append(ds, st.readExchange(cfg)...)
	ds = append(ds, st.readDPoP(cfg)...)
	if st.grant == "password" && (st.username == "" || cfg["password"] == nil) {
		ds = append(ds, core.DiagError(keyOr(cfg, "password", "username"), "the password grant needs username and password"))
	}
	if len(st.audience) > 1 && st.grant != grantExchange {
		ds = append(ds, core.DiagError("audience", "oauth2 mode sends one audience; %d are given", len(st.audience)))
	}
	return ds
}

// keyOr returns key when cfg sets it, else alt: the key a message should
// name.
func keyOr(cfg core.Config, key, alt string) string {
	if _, ok := cfg[key]; ok {
		return key
	}
	return alt
}

// pathList returns the dot paths to try: the configured one, else the
// preset's, else the defaults.
func pathList(configured string, fromPreset, defaults []string) []string {
	switch {
	case configured != "":
		return []string{configured}
	case len(fromPreset) > 0:
		return fromPreset
	}
	return defaults
}

// resolve makes ref absolute against base. Without a base, a relative ref
// is kept as is (Configure sees no base; Login does).
func resolve(base, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", ref)
	}
	if u.IsAbs() {
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", fmt.Errorf("%q: only http and https URLs are supported", ref)
		}
		return u.String(), nil
	}
	if base == "" {
		return ref, nil
	}
	b, err := url.Parse(base)
	if err != nil || !b.IsAbs() {
		return "", fmt.Errorf("the profile's url %q is not an absolute URL", base)
	}
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
	}
	u.Path = strings.TrimPrefix(u.Path, "/")
	return b.ResolveReference(u).String(), nil
}

// checkTransport refuses endpoint, the URL of field, when it would carry
// secrets (a password, a client secret, a refresh token) over plain http to
// a host that is not loopback; the same rule as JWKS URLs. A relative URL
// is checked once the profile's url resolves it (Login, Refresh).
func checkTransport(field, endpoint string) []core.Diagnostic {
	u, err := url.Parse(endpoint)
	if endpoint == "" || err != nil || !u.IsAbs() || secureTransport(u) {
		return nil
	}
	return []core.Diagnostic{core.DiagError(field, "%s must use https (plain http only to a loopback address): it receives secrets", redact.RawURL(endpoint))}
}

// stringMap reads an object of strings.
func stringMap(cfg core.Config, key string) (map[string]string, []core.Diagnostic) {
	obj := cfg.Object(key)
	out := make(map[string]string, len(obj))
	var ds []core.Diagnostic
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		s, ok := obj[k].(string)
		if !ok {
			ds = append(ds, core.DiagError(key+"."+k, "expected a string"))
			continue
		}
		out[k] = s
	}
	return out, ds
}

// checkTemplates reports placeholders a template may not use.
func checkTemplates(key string, tree any) []core.Diagnostic {
	var ds []core.Diagnostic
	walkStrings(tree, key, func(path, s string) {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(placeholders[m[1]], key) {
				ds = append(ds, core.DiagError(path, "unknown placeholder {{%s}} (%s may use %s)", m[1], key, allowedIn(key)))
			}
		}
	})
	return ds
}

// allowedIn lists, sorted, the placeholders the template key may use.
func allowedIn(key string) string {
	var names []string
	for name, where := range placeholders {
		if slices.Contains(where, key) {
			names = append(names, "{{"+name+"}}")
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// usesPlaceholder reports whether a string of tree holds {{name}}.
func usesPlaceholder(tree any, name string) bool {
	found := false
	walkStrings(tree, "", func(_, s string) {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			found = found || m[1] == name
		}
	})
	return found
}

// walkStrings calls f for every string in tree with its dot path, in the
// order of the sorted keys.
func walkStrings(tree any, path string, f func(path, s string)) {
	switch v := tree.(type) {
	case string:
		f(path, v)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			walkStrings(v[k], path+"."+k, f)
		}
	case []any:
		for i, e := range v {
			walkStrings(e, fmt.Sprintf("%s.%d", path, i), f)
		}
	}
}

// expand returns a copy of tree with its placeholders replaced by vars.
func expand(tree any, vars map[string]string) any {
	switch v := tree.(type) {
	case string:
		return placeholder.ReplaceAllStringFunc(v, func(m string) string {
			return vars[placeholder.FindStringSubmatch(m)[1]]
		})
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = expand(e, vars)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = expand(e, vars)
		}
		return out
	}
	return tree
}
