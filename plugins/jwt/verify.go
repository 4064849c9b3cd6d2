package jwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/core"
)

// ErrInvalid is matched (errors.Is) by every error Verify returns for a
// token that fails verification. The error's message is
// "token is invalid: <one-line reason>".
var ErrInvalid = errors.New("token is invalid")

// invalidError is a verification failure with its reason.
type invalidError string

func (e invalidError) Error() string        { return ErrInvalid.Error() + ": " + string(e) }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

// invalidf returns an error matching ErrInvalid with a formatted reason.
func invalidf(format string, args ...any) error {
	return invalidError(fmt.Sprintf(format, args...))
}

// VerifyOptions says how Verify checks a token. Exactly one of Key and
// JWKSURL must be set.
type VerifyOptions struct {
	// Algs are the allowed algorithms. Empty means those the key's type
	// fixes: RS*/PS* for RSA, ES256/ES384/ES512 for a P-256/P-384/P-521 key,
	// EdDSA for Ed25519, the HS* its length allows for a secret, the
	// JWK's "alg" when it has one. "none" is never allowed.
	Algs []string
	// Key is an HMAC secret (taken byte for byte), a PEM public key,
	// certificate or private key, a JWK or a JWKS (JSON with "keys").
	Key []byte
	// JWKSURL is an https URL (http only to a loopback address) serving a
	// JWKS; keys are looked up by kid and cached in CacheDir.
	JWKSURL string
	// IssuerURL, instead of Key and JWKSURL, is an issuer whose metadata
	// (OIDC discovery, else RFC 8414) names the JWKS URL; Issuer defaults
	// to it.
	IssuerURL string
	// Type, when set, is the typ header the token must have, with or
	// without "application/" (RFC 7515 §4.1.9): at+jwt for an RFC 9068
	// access token, which an id_token is not.
	Type string
	// Leeway tolerates clock skew in the exp, nbf and iat checks.
	Leeway time.Duration
	// Issuer, Audience and Subject are checked when non-empty.
	Issuer, Audience, Subject string
	// Now is the verification time; nil means time.Now.
	Now func() time.Time
	// Client fetches JWKSURL; nil means a client with a 10 s timeout.
	Client *http.Client
	// CacheDir keeps fetched JWKS documents; "" means no disk cache.
	CacheDir string
	// cacheNow is the cache's clock in tests; nil means time.Now.
	cacheNow func() time.Time
}

// Verified is a token whose signature (and claims, when the payload is a
// JSON object) Verify accepted.
type Verified struct {
	Header map[string]any
	// Claims is nil when the payload is not a JSON object. Numbers are
	// json.Number.
	Claims  map[string]any
	Payload []byte
	// Alg is the algorithm that verified the signature.
	Alg string
	// KeyID is the token's "kid" header, or "".
	KeyID string
}

// Verify checks a compact JWS following RFC 8725 §3.1 (and its typ header
// when VerifyOptions.Type says so): the algorithm must
// be allowed (see VerifyOptions.Algs) and fit the key's type, "none" is
// always refused, and keys are chosen by alg and kid. The signature is
// checked first; then, only if the payload is a JSON object, exp and nbf
// (now == exp is expired), an iat in the future, and Issuer, Audience and
// Subject, all with Leeway. When the payload is not JSON the signature alone
// decides, unless an iss/aud/sub check was asked for.
//
// A token that fails is an error matching ErrInvalid. Usage problems (no
// key, unreadable key, unknown algorithm, HMAC key shorter than its hash)
// are KindConfig; JWKS fetch failures are KindNetwork. No message holds a
// key or the token.
func Verify(ctx context.Context, token string, o VerifyOptions) (*Verified, error) {
	if o.IssuerURL != "" {
		if len(o.Key) > 0 || o.JWKSURL != "" {
			return nil, core.Errorf(core.KindConfig, "give one of a key, a JWKS URL and an issuer")
		}
		jwks, err := discoverJWKS(ctx, o)
		if err != nil {
			return nil, err
		}
		o.JWKSURL = jwks
		if o.Issuer == "" {
			o.Issuer = o.IssuerURL
		}
	}
	ks, err := o.loadKeys()
	if err != nil {
		return nil, err
	}
	t, err := parseJWS(token)
	if err != nil {
		return nil, invalidf("not a JWT: %v", err)
	}
	alg, kid, err := protectedParams(t.header)
	if err != nil {
		return nil, err
	}
	if err := checkType(t.header, o.Type); err != nil {
		return nil, err
	}
	if err := o.verifySignature(ctx, ks, t, alg, kid); err != nil {
		return nil, err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if err := o.checkClaims(t.claims, now()); err != nil {
		return nil, err
	}
	return &Verified{Header: t.header, Claims: t.claims, Payload: t.payload, Alg: alg, KeyID: kid}, nil
}

// keySet is where Verify finds its keys: fixed keys or a JWKS URL.
type keySet struct {
	static []verifyKey
	jwks   *jwksSource
}

// loadKeys checks o and reads its key. Every error is KindConfig.
func (o VerifyOptions) loadKeys() (keySet, error) {
	if err := checkAlgs(o.Algs); err != nil {
		return keySet{}, err
	}
	if o.Leeway < 0 {
		return keySet{}, core.Errorf(core.KindConfig, "the leeway may not be negative")
	}
	switch {
	case len(o.Key) > 0 && o.JWKSURL != "":
		return keySet{}, core.Errorf(core.KindConfig, "give either a key or a JWKS URL, not both")
	case o.JWKSURL != "":
		src, err := newJWKSSource(o.JWKSURL, o.Client, o.CacheDir)
		if err == nil && o.cacheNow != nil {
			src.now = o.cacheNow
		}
		return keySet{jwks: src}, err
	case len(o.Key) == 0:
		return keySet{}, core.Errorf(core.KindConfig, "no key to verify with: give a key or a JWKS URL")
	}
	keys, err := verifyKeys(o.Key)
	if err != nil {
		return keySet{}, err
	}
	if len(o.Algs) > 0 && len(allowedAlgs(o.Algs, keys)) == 0 {
		return keySet{}, core.Errorf(core.KindConfig, "the key (%s) cannot verify %s", keys[0].what, strings.Join(o.Algs, ", "))
	}
	return keySet{static: keys}, nil
}

// protectedParams reads alg and kid from a JWS header and refuses what
// authx cannot honour: a missing alg, alg "none", "crit" extensions.
func protectedParams(h map[string]any) (alg, kid string, err error) {
	alg, _ = h["alg"].(string)
	switch {
	case alg == "":
		return "", "", invalidf("the header has no alg")
	case alg == "none":
		return "", "", invalidf("alg none (an unsecured JWT) is never accepted")
	}
	if v, ok := h["kid"]; ok {
		if kid, ok = v.(string); !ok {
			return "", "", invalidf("the kid header is not a string")
		}
	}
	if _, ok := h["crit"]; ok {
		return "", "", invalidf("the header lists critical extensions (crit), which authx does not support")
	}
	return alg, kid, nil
}

// checkType refuses a token whose typ header is not want (when want is
// set), comparing case-insensitively with "application/" optional (RFC
// 7515 §4.1.9): an id_token (typ JWT, or none) where an RFC 9068 access
// token (at+jwt) is expected.
func checkType(h map[string]any, want string) error {
	if want == "" {
		return nil
	}
	norm := func(s string) string {
		return strings.TrimPrefix(strings.ToLower(s), "application/")
	}
	got, _ := h["typ"].(string)
	switch {
	case got == "":
		return invalidf("the header has no typ (expected %s)", want)
	case norm(got) != norm(want):
		return invalidf("typ is %s, not %s", printable(got), want)
	}
	return nil
}

// verifySignature checks t's signature with the keys that fit alg and kid.
// A cached JWKS that lacks the token's kid is fetched again once (key
// rotation), at most once per jwksRefetchInterval.
func (o VerifyOptions) verifySignature(ctx context.Context, ks keySet, t *jws, alg, kid string) error {
	keys := ks.static
	if ks.jwks != nil {
		var cached bool
		var err error
		if keys, cached, err = ks.jwks.keys(ctx, false); err != nil {
			return err
		}
		if cached && kid != "" && !slices.ContainsFunc(keys, func(k verifyKey) bool { return k.kid == kid }) && ks.jwks.mayRefetch() {
			if keys, _, err = ks.jwks.keys(ctx, true); err != nil {
				return err
			}
		}
	}
	if err := o.checkAlg(alg, keys); err != nil {
		return err
	}
	method := gojwt.GetSigningMethod(alg)
	cands := candidates(keys, alg, kid)
	if method == nil || len(cands) == 0 {
		if kid != "" {
			return invalidf("no %s key with kid %s", alg, printable(kid))
		}
		return invalidf("no %s key", alg)
	}
	for _, k := range cands {
		if method.Verify(t.signingInput, t.signature, k.key) == nil {
			return nil
		}
	}
	return invalidf("signature is invalid")
}

// checkAlg refuses a token algorithm that is not allowed or that no key
// fits.
func (o VerifyOptions) checkAlg(alg string, keys []verifyKey) error {
	allowed := allowedAlgs(o.Algs, keys)
	if slices.Contains(allowed, alg) {
		return nil
	}
	name := alg
	if !knownAlg(alg) {
		name = printable(alg)
	}
	if len(allowed) == 0 {
		return invalidf("algorithm %s is not allowed (no key fits the allowed %s)", name, strings.Join(o.Algs, ", "))
	}
	return invalidf("algorithm %s is not allowed (allowed: %s)", name, strings.Join(allowed, ", "))
}

// allowedAlgs is algs when given, else every algorithm some key fits, in
// the order of algorithms; either way restricted to what the keys fit.
func allowedAlgs(algs []string, keys []verifyKey) []string {
	if len(algs) == 0 {
		algs = algorithms
	}
	var out []string
	for _, a := range algs {
		if slices.ContainsFunc(keys, func(k verifyKey) bool { return k.fits(a) }) {
			out = append(out, a)
		}
	}
	return out
}

// candidates returns the keys that fit alg and kid: those with the token's
// kid, else those without a kid; every fitting key when the token has no
// kid.
func candidates(keys []verifyKey, alg, kid string) []verifyKey {
	var byKid, noKid []verifyKey
	for _, k := range keys {
		switch {
		case !k.fits(alg):
		case kid == "" || k.kid == kid:
			byKid = append(byKid, k)
		case k.kid == "":
			noKid = append(noKid, k)
		}
	}
	if len(byKid) > 0 {
		return byKid
	}
	return noKid
}

// checkClaims validates a JWT claims set as of now (RFC 7519 §4.1, §7.2).
// claims nil (a payload that is not JSON) passes unless o asks for an
// iss, aud or sub check.
func (o VerifyOptions) checkClaims(claims map[string]any, now time.Time) error {
	if claims == nil {
		if o.Issuer != "" || o.Audience != "" || o.Subject != "" {
			return invalidf("payload is not a JWT claims set, so iss/aud/sub cannot be checked")
		}
		return nil
	}
	if err := o.checkTimes(claims, now); err != nil {
		return err
	}
	if err := checkString(claims, "iss", o.Issuer); err != nil {
		return err
	}
	if err := checkString(claims, "sub", o.Subject); err != nil {
		return err
	}
	return checkAudience(claims, o.Audience)
}

// checkTimes checks exp (valid while now < exp+leeway), nbf (now >=
// nbf-leeway) and iat (not after now+leeway).
func (o VerifyOptions) checkTimes(claims map[string]any, now time.Time) error {
	exp, ok, err := numericDate(claims, "exp")
	if err != nil {
		return invalidf("%v", err)
	}
	if ok && !now.Before(exp.Add(o.Leeway)) {
		return invalidf("token expired %s", ago(exp, now))
	}
	nbf, ok, err := numericDate(claims, "nbf")
	if err != nil {
		return invalidf("%v", err)
	}
	if ok && now.Before(nbf.Add(-o.Leeway)) {
		return invalidf("token is not valid yet (nbf %s)", ago(nbf, now))
	}
	iat, ok, err := numericDate(claims, "iat")
	if err != nil {
		return invalidf("%v", err)
	}
	if ok && now.Before(iat.Add(-o.Leeway)) {
		return invalidf("token was issued in the future (iat %s)", ago(iat, now))
	}
	return nil
}

// checkString checks that the string claim name equals want, when want is
// not empty.
func checkString(claims map[string]any, name, want string) error {
	if want == "" {
		return nil
	}
	v, present := claims[name]
	got, isString := v.(string)
	switch {
	case !present:
		return invalidf("%s is missing (expected %q)", name, want)
	case !isString:
		return invalidf("%s is not a string", name)
	case got != want:
		return invalidf("%s is %s, not %q", name, printable(got), want)
	}
	return nil
}

// checkAudience checks that aud (a string or an array of strings, RFC 7519
// §4.1.3) contains want, when want is not empty.
func checkAudience(claims map[string]any, want string) error {
	if want == "" {
		return nil
	}
	var auds []string
	switch v := claims["aud"].(type) {
	case nil:
		return invalidf("aud is missing (expected %q)", want)
	case string:
		auds = []string{v}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return invalidf("aud is not a string or an array of strings")
			}
			auds = append(auds, s)
		}
	default:
		return invalidf("aud is not a string or an array of strings")
	}
	if !slices.Contains(auds, want) {
		return invalidf("aud does not contain %q", want)
	}
	return nil
}
