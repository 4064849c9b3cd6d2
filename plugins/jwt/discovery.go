package jwt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/redact"
)

// oidcSettings are the oauth2-mode keys of the OIDC logins: the issuer whose
// metadata gives the endpoints, the endpoints that override it, and the
// loopback redirect of a browser login.
type oidcSettings struct {
	issuer                                     string
	authorizationURL, deviceURL, revocationURL string
	jwksURL                                    string
	redirectPort                               int
	redirectPath                               string
	prompt                                     string
	promptSet                                  bool     // prompt is given, maybe as "": send exactly that
	nonce                                      string   // per call: the nonce the id_token must carry
	previousIDToken                            string   // per call: kept by a refresh that brings no new one
	callSecrets                                []string // per call: an authorization or device code, a code verifier
	discovered                                 bool
	issRequired                                bool // the metadata says every authorization response carries iss (RFC 9207)
}

// readOIDC reads the OIDC keys of oauth2 mode. openid is added to the
// scopes of the browser and device logins.
func (st *settings) readOIDC(cfg core.Config, base string) []core.Diagnostic {
	var ds []core.Diagnostic
	o := &st.oidc
	if iss := cfg.String("issuer", ""); iss != "" {
		if err := checkIssuer(iss); err != nil {
			ds = append(ds, core.DiagError("issuer", "%v", err))
		} else {
			o.issuer = iss
		}
	}
	for _, e := range []struct {
		key string
		dst *string
	}{{"authorization_url", &o.authorizationURL}, {"device_authorization_url", &o.deviceURL}, {"revocation_url", &o.revocationURL}, {"jwks_url", &o.jwksURL}} {
		u, eds := readEndpoint(cfg, base, e.key)
		*e.dst, ds = u, append(ds, eds...)
	}
	o.redirectPort = cfg.Int("redirect_port", 0)
	if o.redirectPort < 0 || o.redirectPort > 65535 {
		ds = append(ds, core.DiagError("redirect_port", "%d is not a port (0 to 65535; 0 picks a free one)", o.redirectPort))
	}
	o.redirectPath = cfg.String("redirect_path", "/callback")
	if !strings.HasPrefix(o.redirectPath, "/") || strings.ContainsAny(o.redirectPath, "?#\\ \t\r\n") {
		ds = append(ds, core.DiagError("redirect_path", "%q is not a URL path (it starts with / and has no query)", o.redirectPath))
	}
	o.prompt, o.promptSet = cfg["prompt"].(string)
	switch st.grant {
	case "authorization_code":
		if o.issuer == "" && o.authorizationURL == "" {
			ds = append(ds, core.DiagError("issuer", "the authorization_code grant needs the issuer (e.g. issuer: https://idp.example.com/realms/main) or authorization_url"))
		}
	case "device_code":
		if o.issuer == "" && o.deviceURL == "" {
			ds = append(ds, core.DiagError("issuer", "the device_code grant needs the issuer (e.g. issuer: https://idp.example.com/realms/main) or device_authorization_url"))
		}
	}
	if (st.grant == "authorization_code" || st.grant == "device_code") && !containsScope(st.scopes, "openid") {
		st.scopes = append([]string{"openid"}, st.scopes...)
	}
	return ds
}

// containsScope reports whether scopes holds name.
func containsScope(scopes []string, name string) bool {
	for _, s := range scopes {
		if s == name {
			return true
		}
	}
	return false
}

// readEndpoint reads the endpoint URL at key, resolved against base when it
// is relative, and checks that it may carry secrets. Absent, it is "".
func readEndpoint(cfg core.Config, base, key string) (string, []core.Diagnostic) {
	raw := cfg.String(key, "")
	if raw == "" {
		return "", nil
	}
	u, err := resolve(base, raw)
	if err != nil {
		return "", []core.Diagnostic{core.DiagError(key, "%v", err)}
	}
	return u, checkTransport(key, u)
}

// checkIssuer checks an OIDC issuer identifier (OIDC Discovery §2, RFC 8414
// §2): an absolute https URL (http only to a loopback host) without query
// or fragment.
func checkIssuer(iss string) error {
	u, err := url.Parse(iss)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL (e.g. https://idp.example.com/realms/main)", redact.RawURL(iss))
	case !secureTransport(u):
		return fmt.Errorf("%s must use https (plain http only to a loopback address): its metadata names the endpoints that receive secrets", redact.RawURL(iss))
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%s: an issuer has no query, fragment or user info", redact.RawURL(iss))
	}
	return nil
}

// metadata is what authx reads of an OIDC provider's or RFC 8414
// authorization server's metadata.
type metadata struct {
	Issuer                      string `json:"issuer"`
	TokenEndpoint               string `json:"token_endpoint,omitempty"`
	AuthorizationEndpoint       string `json:"authorization_endpoint,omitempty"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	JWKSURI                     string `json:"jwks_uri,omitempty"`
	RevocationEndpoint          string `json:"revocation_endpoint,omitempty"`
	// IssInResponse is authorization_response_iss_parameter_supported
	// (RFC 9207 §3): the redirect must then carry iss.
	IssInResponse bool `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// maxMetadataTTL caps how long a metadata document is cached;
// defaultJWKSTTL is the lifetime of one whose answer says nothing.
const maxMetadataTTL = 24 * time.Hour

// parseMetadata reads a metadata document fetched for issuer. Its issuer
// must equal the configured one exactly (OIDC Discovery §4.3, RFC 8414
// §3.3): a document for another issuer could name any endpoint. Every
// endpoint it names must be an absolute https URL (http only to a loopback
// host) without fragment. Messages name members, never quote values.
func parseMetadata(raw []byte, issuer string) (*metadata, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return nil, fmt.Errorf("the metadata is not a JSON object")
	}
	str := func(name string) (string, error) {
		v, ok := doc[name]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s is not a string", name)
		}
		return s, nil
	}
	iss, err := str("issuer")
	switch {
	case err != nil:
		return nil, err
	case iss == "":
		return nil, fmt.Errorf("the metadata has no issuer")
	case iss != issuer:
		return nil, fmt.Errorf("the metadata is for the issuer %s, not %s (they must be equal, character for character)", printable(redact.RawURL(iss)), redact.RawURL(issuer))
	}
	md := &metadata{Issuer: iss}
	md.IssInResponse, _ = doc["authorization_response_iss_parameter_supported"].(bool)
	for _, e := range []struct {
		name string
		dst  *string
	}{{"token_endpoint", &md.TokenEndpoint}, {"authorization_endpoint", &md.AuthorizationEndpoint},
		{"device_authorization_endpoint", &md.DeviceAuthorizationEndpoint}, {"jwks_uri", &md.JWKSURI}, {"revocation_endpoint", &md.RevocationEndpoint}} {
		s, err := str(e.name)
		if err != nil {
			return nil, err
		}
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("%s is not an absolute URL without fragment", e.name)
		}
		if !secureTransport(u) {
			return nil, fmt.Errorf("%s uses plain http to a host that is not loopback", e.name)
		}
		*e.dst = u.String()
	}
	return md, nil
}

// discover fills the endpoints the profile does not set from its issuer's
// metadata, once per call; a profile without issuer keeps its own.
func (s *Scheme) discover(ctx context.Context, st *settings) error {
	o := &st.oidc
	if o.issuer == "" || o.discovered {
		return nil
	}
	md, err := s.metadata(ctx, st)
	if err != nil {
		return err
	}
	o.discovered, o.issRequired = true, md.IssInResponse
	for _, e := range []struct {
		dst *string
		v   string
	}{{&st.tokenURL, md.TokenEndpoint}, {&o.authorizationURL, md.AuthorizationEndpoint}, {&o.deviceURL, md.DeviceAuthorizationEndpoint},
		{&o.revocationURL, md.RevocationEndpoint}, {&o.jwksURL, md.JWKSURI}} {
		if *e.dst == "" {
			*e.dst = e.v
		}
	}
	missing := func(member, key string) error {
		return core.Errorf(core.KindConfig, "the metadata of %s has no %s: set %s", redact.RawURL(o.issuer), member, key)
	}
	switch {
	case st.tokenURL == "":
		return missing("token_endpoint", "token_url")
	case st.grant == "authorization_code" && o.authorizationURL == "":
		return missing("authorization_endpoint", "authorization_url")
	case st.grant == "device_code" && o.deviceURL == "":
		return missing("device_authorization_endpoint (no device flow)", "device_authorization_url")
	}
	return nil
}

// metadataURLs are where the metadata of issuer is looked for: OIDC
// Discovery's path appended to the issuer, then RFC 8414's well-known
// prefix inserted before the issuer's path.
func metadataURLs(issuer string) []string {
	u, _ := url.Parse(issuer) // checked by checkIssuer
	path := strings.TrimSuffix(u.Path, "/")
	oidc, oauth := *u, *u
	oidc.Path, oidc.RawPath = path+"/.well-known/openid-configuration", ""
	oauth.Path, oauth.RawPath = "/.well-known/oauth-authorization-server"+path, ""
	return []string{oidc.String(), oauth.String()}
}

// discovery fetches and caches issuers' metadata: with client, each fetch
// bounded by timeout (limit names it in messages), on the clock now, cached
// next to the JWKS cache directory jwksDir ("" means no disk cache).
type discovery struct {
	client  *http.Client
	timeout time.Duration
	limit   string
	now     func() time.Time
	jwksDir string
}

// discovery is the profile's: its HTTP client (with its TLS) and timeout.
func (s *Scheme) discovery(st *settings) (discovery, error) {
	client, err := s.httpClient(st)
	if err != nil {
		return discovery{}, err
	}
	return discovery{client: client, timeout: st.timeout, limit: st.timeout.String() + " (the profile's timeout)", now: s.now, jwksDir: jwksCacheDir()}, nil
}

// metadata returns the profile issuer's metadata.
func (s *Scheme) metadata(ctx context.Context, st *settings) (*metadata, error) {
	d, err := s.discovery(st)
	if err != nil {
		return nil, err
	}
	return d.metadata(ctx, st.oidc.issuer)
}

// discoverJWKS returns the jwks_uri of the metadata of o.IssuerURL, for
// Verify: fetched with o.Client (nil: one with a jwksTimeout timeout) and
// cached beside o.CacheDir.
func discoverJWKS(ctx context.Context, o VerifyOptions) (string, error) {
	if err := checkIssuer(o.IssuerURL); err != nil {
		return "", core.Errorf(core.KindConfig, "--issuer: %v", err)
	}
	d := discovery{client: o.Client, timeout: jwksTimeout, limit: jwksTimeout.String(), now: time.Now, jwksDir: o.CacheDir}
	if d.client == nil {
		d.client = &http.Client{Timeout: jwksTimeout}
	}
	if o.cacheNow != nil {
		d.now = o.cacheNow
	}
	md, err := d.metadata(ctx, o.IssuerURL)
	if err != nil {
		return "", err
	}
	if md.JWKSURI == "" {
		return "", core.Errorf(core.KindBadAnswer, "the metadata of %s has no jwks_uri", redact.RawURL(o.IssuerURL))
	}
	return md.JWKSURI, nil
}

// metadata returns the metadata of issuer: from the disk cache while it is
// fresh, else fetched (OIDC Discovery first, RFC 8414 when that is not
// found) and cached for as long as its answer allows.
func (d discovery) metadata(ctx context.Context, issuer string) (*metadata, error) {
	path := metadataCachePath(d.jwksDir, issuer)
	if md := readMetadataCache(path, issuer, d.now()); md != nil {
		return md, nil
	}
	var first error
	for _, u := range metadataURLs(issuer) {
		raw, ttl, err := d.fetch(ctx, u)
		if err != nil {
			if first == nil {
				first = err
			}
			if se, ok := errors.AsType[*statusErr](err); ok && se.status >= 400 && se.status < 500 {
				continue // not served at this well-known URL: try the other
			}
			return nil, err
		}
		md, err := parseMetadata(raw, issuer)
		if err != nil {
			return nil, core.Errorf(core.KindBadAnswer, "discovery %s: %v", redact.RawURL(u), err)
		}
		writeMetadataCache(path, md, d.now(), ttl)
		return md, nil
	}
	return nil, first
}

// fetch GETs one metadata URL within the timeout and returns the document
// with its freshness lifetime.
func (d discovery) fetch(ctx context.Context, target string) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	where := redact.RawURL(target)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, 0, core.Errorf(core.KindConfig, "discovery %s: %v", where, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "authx-plugin-jwt/"+Version)
	resp, err := stayOnHost(d.client).Do(req)
	if err != nil {
		return nil, 0, transportError("discovery", where, d.limit, err)
	}
	defer resp.Body.Close()
	raw, err := readBody(resp.Body)
	if err != nil {
		return nil, 0, transportError("discovery", where, d.limit, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, statusError("discovery", where, resp.StatusCode, raw, nil)
	}
	return raw, freshness(resp.Header, d.now()), nil
}

// freshness is how long an answer may be cached (RFC 9111 §4.2.1):
// Cache-Control's max-age (none with no-store or no-cache), else Expires
// against the answer's Date, else defaultJWKSTTL; at most maxMetadataTTL.
func freshness(h http.Header, now time.Time) time.Duration {
	cc := strings.ToLower(h.Get("Cache-Control"))
	if strings.Contains(cc, "max-age") || strings.Contains(cc, "no-store") || strings.Contains(cc, "no-cache") {
		return min(cacheTTL(cc), maxMetadataTTL)
	}
	if exp := h.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil {
			return 0 // an invalid Expires means already expired
		}
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			now = d
		}
		return min(max(t.Sub(now), 0), maxMetadataTTL)
	}
	return defaultJWKSTTL
}

// metadataCacheEntry is the on-disk form of cached metadata.
type metadataCacheEntry struct {
	Issuer   string    `json:"issuer"`
	Expires  time.Time `json:"expires"`
	Metadata metadata  `json:"metadata"`
}

// metadataCachePath is <the JWKS cache's parent>/oidc/<sha256 of the
// issuer>.json ($XDG_CACHE_HOME/authx/oidc/...), or "" when there is no
// cache directory.
func metadataCachePath(dir, issuer string) string {
	if dir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(issuer))
	return filepath.Join(filepath.Dir(dir), "oidc", hex.EncodeToString(sum[:])+".json")
}

// readMetadataCache returns the cached metadata of issuer while it is
// fresh at now, checked again as if fetched; else nil.
func readMetadataCache(path, issuer string, now time.Time) *metadata {
	if path == "" {
		return nil
	}
	data, err := cache.ReadPrivate(path, maxBody)
	if err != nil {
		return nil
	}
	var e metadataCacheEntry
	if json.Unmarshal(data, &e) != nil || e.Issuer != issuer || !now.Before(e.Expires) || e.Expires.After(now.Add(maxMetadataTTL)) {
		return nil
	}
	raw, _ := json.Marshal(e.Metadata)
	md, err := parseMetadata(raw, issuer)
	if err != nil {
		return nil
	}
	return md
}

// writeMetadataCache stores md for ttl from now; best effort.
func writeMetadataCache(path string, md *metadata, now time.Time, ttl time.Duration) {
	if path == "" || ttl <= 0 {
		return
	}
	data, err := json.Marshal(metadataCacheEntry{Issuer: md.Issuer, Expires: now.Add(ttl).UTC(), Metadata: *md})
	if err == nil {
		writeCacheFile(path, data)
	}
}
