package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/httpauth"
	"github.com/authx/authx/core/redact"
)

// DPoP (RFC 9449): with dpop: true an oauth2 profile binds its tokens to a
// key pair made at login. Every token request, and every request to the
// API, carries a proof: a JWT the key signs over the request's method and
// URL (and, for the API, the access token's hash), with the server's
// latest nonce when it asked for one.

// The algorithms a DPoP key may use: ES256 (the default, and what every
// server supports), EdDSA (Ed25519) and RS256.
const (
	dpopES256 = "ES256"
	dpopEdDSA = "EdDSA"
	dpopRS256 = "RS256"
)

var dpopAlgs = []string{dpopES256, dpopEdDSA, dpopRS256}

// dpopScheme is the authorization scheme of a DPoP-bound token (RFC 9449
// §7.1), and its token_type (§5).
const dpopScheme = "DPoP"

// dpopKey is a DPoP key pair.
type dpopKey struct {
	alg  string
	priv crypto.Signer
	jwk  map[string]any // the public key, for the proof's header
	jkt  string         // its RFC 7638 thumbprint, base64url SHA-256
	der  []byte         // the private key, PKCS #8: what the state keeps
}

// newDPoPKey makes a fresh key pair for alg.
func newDPoPKey(alg string) (*dpopKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case dpopES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case dpopEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case dpopRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, core.Errorf(core.KindConfig, "dpop_alg %s is not one of %s", printable(alg), strings.Join(dpopAlgs, ", "))
	}
	if err != nil {
		return nil, core.Errorf(core.KindInternal, "making a DPoP key: %v", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, core.Errorf(core.KindInternal, "encoding the DPoP key: %v", err)
	}
	return dpopKeyOf(alg, priv, der)
}

// parseDPoPKey reads a key the state kept: PKCS #8 DER of a key that fits
// alg (P-256 for ES256, Ed25519 for EdDSA, RSA of 2048 to 8192 bits for
// RS256). Its errors never quote the key. A plugin process that lives on
// (under an agent) signs many requests with the same key: the last few
// keys parsed are kept, by the hash of their bytes, so that a request
// costs a signature, not a key check (1.9 ms for RSA).
func parseDPoPKey(alg string, der []byte) (*dpopKey, error) {
	id := sha256.Sum256(append([]byte(alg+"\x00"), der...))
	if k := parsedKeys.get(id); k != nil {
		return k, nil
	}
	k, err := parseDPoPKeyDER(alg, der)
	if err == nil {
		parsedKeys.put(id, k)
	}
	return k, err
}

// parsedKeys are the keys parseDPoPKey parsed last.
var parsedKeys = &keyCache{}

// keyCache holds at most maxParsedKeys keys, the oldest dropped first.
type keyCache struct {
	mu   sync.Mutex
	ids  [][32]byte
	keys map[[32]byte]*dpopKey
}

const maxParsedKeys = 8

func (c *keyCache) get(id [32]byte) *dpopKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys[id]
}

func (c *keyCache) put(id [32]byte, k *dpopKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[[32]byte]*dpopKey{}
	}
	if _, ok := c.keys[id]; ok {
		return
	}
	if len(c.ids) == maxParsedKeys {
		delete(c.keys, c.ids[0])
		c.ids = c.ids[1:]
	}
	c.ids = append(c.ids, id)
	c.keys[id] = k
}

// parseDPoPKeyDER is parseDPoPKey without the cache.
func parseDPoPKeyDER(alg string, der []byte) (*dpopKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("the DPoP key is not a PKCS #8 private key")
	}
	ok := false
	switch p := k.(type) {
	case *ecdsa.PrivateKey:
		ok = alg == dpopES256 && p.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		ok = alg == dpopEdDSA
	case *rsa.PrivateKey:
		ok = alg == dpopRS256 && p.N.BitLen() >= 2048 && p.N.BitLen() <= 8192
	}
	if !ok {
		return nil, fmt.Errorf("the DPoP key does not fit algorithm %s", printable(alg))
	}
	return dpopKeyOf(alg, k.(crypto.Signer), der)
}

// dpopKeyOf completes a key: its public JWK and thumbprint.
func dpopKeyOf(alg string, priv crypto.Signer, der []byte) (*dpopKey, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var jwk map[string]any
	switch p := priv.Public().(type) {
	case *ecdsa.PublicKey:
		ecdh, err := p.ECDH() // the fixed-size coordinates, from the uncompressed point
		if err != nil {
			return nil, fmt.Errorf("the DPoP key is not a valid P-256 key")
		}
		pt := ecdh.Bytes() // 0x04 || X || Y
		n := (len(pt) - 1) / 2
		jwk = map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pt[1 : 1+n]), "y": b64(pt[1+n:])}
	case ed25519.PublicKey:
		jwk = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(p)}
	case *rsa.PublicKey:
		jwk = map[string]any{"kty": "RSA", "n": b64(p.N.Bytes()), "e": b64(big.NewInt(int64(p.E)).Bytes())}
	default:
		return nil, fmt.Errorf("the DPoP key is of an unsupported type")
	}
	return &dpopKey{alg: alg, priv: priv, jwk: jwk, jkt: jwkThumbprint(jwk), der: der}, nil
}

// jwkThumbprint is the RFC 7638 thumbprint of a public JWK: the base64url
// SHA-256 of its required members in lexicographic order, without
// whitespace. jwk holds only the required members, all strings, so
// encoding/json's sorted keys make the canonical form.
func jwkThumbprint(jwk map[string]any) string {
	b, _ := json.Marshal(jwk)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// signingMethod is the golang-jwt method of the key's algorithm.
func (k *dpopKey) signingMethod() gojwt.SigningMethod {
	switch k.alg {
	case dpopEdDSA:
		return gojwt.SigningMethodEdDSA
	case dpopRS256:
		return gojwt.SigningMethodRS256
	}
	return gojwt.SigningMethodES256
}

// proof is a DPoP proof (RFC 9449 §4.2) for a request of method to target:
// typ dpop+jwt, the public key in the header; htm, htu (target without
// query and fragment), iat, a random jti; ath, the hash of accessToken,
// when the request carries one (§4.3, §7.1); nonce when the server gave
// one (§8, §9).
func (k *dpopKey) proof(method, target, accessToken, nonce string, now time.Time) (string, error) {
	htu, err := dpopHTU(target)
	if err != nil {
		return "", err
	}
	claims := gojwt.MapClaims{"htm": method, "htu": htu, "iat": now.Unix(), "jti": randomToken()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	t := gojwt.NewWithClaims(k.signingMethod(), claims)
	t.Header["typ"] = "dpop+jwt"
	t.Header["jwk"] = k.jwk
	s, err := t.SignedString(k.priv)
	if err != nil {
		return "", core.Errorf(core.KindInternal, "signing the DPoP proof: %v", err)
	}
	return s, nil
}

// dpopHTU is the htu claim of a request to target (RFC 9449 §4.2): the URL
// without query, fragment and user info.
func dpopHTU(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", core.Errorf(core.KindConfig, "DPoP: %q is not an absolute URL", printable(target))
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String(), nil
}

// dpopOrigin is the key of a resource server's nonce: scheme://host:port
// (an IPv6 host in brackets), or "" for a URL without an http(s) origin.
func dpopOrigin(target string) string {
	u, err := url.Parse(target)
	scheme := ""
	if err == nil {
		scheme = strings.ToLower(u.Scheme)
	}
	defaultPort, ok := map[string]string{"http": "80", "https": "443"}[scheme]
	if !ok || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// validNonce reports whether n is a DPoP nonce (RFC 9449 §8.1: 1*NQCHAR,
// printable ASCII without '"' and '\') of at most maxNonce bytes.
func validNonce(n string) bool {
	if n == "" || len(n) > maxNonce {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// maxNonce bounds a nonce authx keeps; maxNonces how many resource
// servers' nonces the state holds (the oldest goes first).
const (
	maxNonce  = 1024
	maxNonces = 16
)

// readDPoP reads dpop and dpop_alg. A DPoP-bound token goes in
// Authorization with the DPoP scheme (RFC 9449 §7.1): header and prefix
// may not say otherwise.
func (st *settings) readDPoP(cfg core.Config) []core.Diagnostic {
	var ds []core.Diagnostic
	st.dpop = cfg.Bool("dpop", false)
	st.dpopAlg = cfg.String("dpop_alg", dpopES256)
	_, algSet := cfg["dpop_alg"]
	switch {
	case algSet && !st.dpop:
		ds = append(ds, core.DiagError("dpop_alg", "is read only with dpop: true"))
	case !st.dpop:
	case !strings.EqualFold(st.header, "Authorization"):
		ds = append(ds, core.DiagError("header", "a DPoP-bound token goes in Authorization (RFC 9449 §7.1); remove header or dpop"))
	case cfg["prefix"] != nil && st.prefix != dpopScheme:
		ds = append(ds, core.DiagError("prefix", "a DPoP-bound token is sent as Authorization: DPoP (RFC 9449 §7.1); remove prefix or dpop"))
	}
	return ds
}

// dpopCredential builds the credential of a token answer doc to a DPoP
// token request. token_type must be DPoP: a server that ignored the proof
// issued a bearer token, which the profile did not ask for and which
// anyone who sees it can use. A JWT access token's cnf.jkt, when it has
// one, must be the key's thumbprint (RFC 9449 §6.1). The credential is
// PerRequest: Apply adds Authorization: DPoP and a fresh proof to every
// request; its state keeps the key, the refresh token and the nonces.
func (s *Scheme) dpopCredential(ctx context.Context, st *settings, doc any, token, tokenType, oldRefresh, from string) (*core.Credential, error) {
	d := st.dpopState
	if !strings.EqualFold(tokenType, dpopScheme) {
		return nil, core.Errorf(core.KindBadAnswer, "%s: token_type is %s, not DPoP: the server did not bind the token to the DPoP key (does it support DPoP for this client?), and authx does not send an unbound token where a bound one was asked for; remove dpop to accept it",
			from, printable(tokenType))
	}
	if jkt, ok := tokenJKT(token); ok && jkt != d.key.jkt {
		return nil, core.Errorf(core.KindBadAnswer, "%s: the access token is bound to another key than authx's DPoP key (cnf.jkt, RFC 9449 §6.1)", from)
	}
	refreshToken, ok := firstString(doc, "refresh_token")
	if !ok {
		refreshToken = oldRefresh
	}
	c, err := s.credential(st, token, refreshToken, lifetime(doc, "expires_in"), from)
	if err != nil {
		return nil, err
	}
	c.Headers, c.PerRequest = nil, true
	c.State = state{RefreshToken: refreshToken, DPoP: d}.encode()
	return s.withIDToken(ctx, st, c, doc, from)
}

// tokenJKT returns the cnf.jkt claim of an access token that is a JWT
// (read, not verified: the client has no key for it).
func tokenJKT(token string) (string, bool) {
	t, err := parseJWS(token)
	if err != nil {
		return "", false
	}
	cnf, _ := t.claims["cnf"].(map[string]any)
	jkt, ok := cnf["jkt"].(string)
	return jkt, ok
}

// startDPoP sets up the DPoP state of a login (a fresh key) or of a
// refresh (old's key and nonces; without them only a new login helps).
func (st *settings) startDPoP(old *core.Credential) error {
	if !st.dpop {
		return nil
	}
	if old != nil {
		d, err := dpopStateOf(old)
		if err != nil {
			return err
		}
		if d.key.alg != st.dpopAlg {
			return core.Errorf(core.KindLoginRequired, "the cached credential's DPoP key is %s, the profile asks for %s; request a new token", d.key.alg, st.dpopAlg)
		}
		st.dpopState = d
		return nil
	}
	k, err := newDPoPKey(st.dpopAlg)
	if err != nil {
		return err
	}
	st.dpopState = &dpopState{Alg: k.alg, key: k}
	return nil
}

// Apply implements core.Applier for DPoP-bound credentials (the only ones
// marked PerRequest; any other gets its own headers): Authorization: DPoP
// with the access token, and a fresh proof for this request (RFC 9449
// §7.1) with ath, and the resource server's latest nonce when it gave one
// (§9).
func (s *Scheme) Apply(_ context.Context, req core.ApplyRequest) (*core.ApplyResult, error) {
	if c := req.Credential; c != nil && !c.PerRequest {
		// A bearer credential, which the host never asks to apply (a
		// conformance run does): its own headers.
		return &core.ApplyResult{Headers: c.Headers}, nil
	}
	d, err := dpopStateOf(req.Credential)
	if err != nil {
		return nil, err
	}
	method := req.Request.Method
	if method == "" {
		method = "GET"
	}
	token := req.Credential.Token
	proof, err := d.key.proof(method, req.Request.URL, token, d.nonceFor(req.Request.URL), s.now())
	if err != nil {
		return nil, err
	}
	// The state is unchanged (nil): a proof needs nothing stored, and a
	// nonce comes only with a challenge, which HandleChallenge keeps.
	return &core.ApplyResult{Headers: []core.Header{{Name: "Authorization", Value: dpopScheme + " " + token}, {Name: "DPoP", Value: proof}}}, nil
}

// dpopChallenge handles a resource server's nonce challenge (RFC 9449 §9):
// a 401 with a DPoP challenge of error use_dpop_nonce and a DPoP-Nonce
// header is answered by a retry whose proof carries the nonce, which the
// credential's state keeps for the next requests. ok is false for any
// other answer. A server that refuses the retry with another nonce
// challenge gets no second retry from the host: that is a diagnosis.
func dpopChallenge(req core.ChallengeRequest) (res core.ChallengeResponse, ok bool) {
	if req.Response.Status != http.StatusUnauthorized || req.Credential == nil || outOfScope(req) != "" {
		return res, false // outside the scope no proof was sent: the generic rules say so
	}
	ch, found := httpauth.Find(httpauth.ParseHeader(req.Response.Header, "WWW-Authenticate"), dpopScheme)
	if !found || ch.Params["error"] != "use_dpop_nonce" {
		return res, false
	}
	d, err := dpopStateOf(req.Credential)
	if err != nil {
		return res, false // not a DPoP credential: the generic rules decide
	}
	if req.Retried {
		return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: fmt.Sprintf(
			"%s %s: the server refused the retry that carried the DPoP nonce it had just sent (use_dpop_nonce again)",
			safeText(req.Request.Method, 16), safeText(redact.RawURL(req.Request.URL), 200))}, true
	}
	nonce := req.Response.Header.Get("DPoP-Nonce")
	if !validNonce(nonce) {
		return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: fmt.Sprintf(
			"%s %s: the server asks for a DPoP nonce (use_dpop_nonce) but sends no valid DPoP-Nonce header (RFC 9449 §9)",
			safeText(req.Request.Method, 16), safeText(redact.RawURL(req.Request.URL), 200))}, true
	}
	if dpopOrigin(req.Request.URL) == "" {
		return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: "a DPoP nonce challenge for a URL without an http(s) origin"}, true
	}
	d.setNonce(req.Request.URL, nonce)
	renewed := *req.Credential
	st, _ := decodeState(req.Credential.State) // decoded by dpopStateOf
	st.DPoP = d
	renewed.State = st.encode()
	return core.ChallengeResponse{Decision: core.DecisionRetry, ReplaySafe: true, Credential: &renewed,
		Diagnosis: "the server asked for a DPoP nonce"}, true
}
