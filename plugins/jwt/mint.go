package jwt

import (
	"maps"
	"slices"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/core"
)

// DefaultTTL is the lifetime of a minted token when a profile sets none.
const DefaultTTL = 5 * time.Minute

// MintOptions describes a token signed locally.
type MintOptions struct {
	// Alg is one of Algorithms(): HS256/384/512, RS256/384/512,
	// PS256/384/512, ES256/384/512 or EdDSA.
	Alg string
	// Key is the HMAC secret (at least as long as the hash: 32, 48 or 64
	// bytes), or a PEM private key fitting Alg: RSA (PKCS#1 or PKCS#8, at
	// least 2048 bits), EC on Alg's curve (SEC1 or PKCS#8) or Ed25519
	// (PKCS#8).
	Key []byte
	// KeyID is the optional "kid" header.
	KeyID           string
	Issuer, Subject string
	// Audience is encoded as a string when it has one value, as an array
	// when it has several, and left out when empty.
	Audience []string
	// Claims are custom claims. Issuer, Subject and Audience, when set,
	// win over same-named keys; iat, nbf and exp are always computed from
	// Now and TTL, whatever Claims says.
	Claims map[string]any
	// TTL gives exp = Now+TTL; 0 means no exp.
	TTL time.Duration
	// Now is iat and nbf (whole seconds); zero means time.Now().
	Now time.Time
}

// Mint signs the token o describes and returns it with its expiry (zero
// when TTL is 0). The header is {"alg":…,"kid":…,"typ":"JWT"}. Errors are
// KindConfig and never quote the key.
func Mint(o MintOptions) (token string, expiresAt time.Time, err error) {
	if err := checkAlgs([]string{o.Alg}); err != nil {
		return "", time.Time{}, err
	}
	if o.TTL < 0 {
		return "", time.Time{}, core.Errorf(core.KindConfig, "the token lifetime (ttl) may not be negative")
	}
	key, err := signingKey(o.Alg, o.Key)
	if err != nil {
		return "", time.Time{}, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	claims := o.claims(now)
	t := gojwt.NewWithClaims(gojwt.GetSigningMethod(o.Alg), gojwt.MapClaims(claims))
	if o.KeyID != "" {
		t.Header["kid"] = o.KeyID
	}
	token, err = t.SignedString(key)
	if err != nil {
		return "", time.Time{}, core.Errorf(core.KindConfig, "signing the token with %s: %v", o.Alg, err)
	}
	if exp, ok := claims["exp"].(int64); ok {
		expiresAt = time.Unix(exp, 0).UTC()
	}
	return token, expiresAt, nil
}

// claims builds the claims set: a copy of o.Claims, overridden by the
// explicit fields and the computed times.
func (o MintOptions) claims(now time.Time) map[string]any {
	c := make(map[string]any, len(o.Claims)+6)
	maps.Copy(c, o.Claims)
	delete(c, "exp")
	c["iat"], c["nbf"] = now.Unix(), now.Unix()
	if o.TTL > 0 {
		c["exp"] = now.Add(o.TTL).Unix()
	}
	if o.Issuer != "" {
		c["iss"] = o.Issuer
	}
	if o.Subject != "" {
		c["sub"] = o.Subject
	}
	switch len(o.Audience) {
	case 0:
	case 1:
		c["aud"] = o.Audience[0]
	default:
		c["aud"] = slices.Clone(o.Audience)
	}
	return c
}

// MintOptionsFromConfig reads a sign-mode profile config. Keys: "algorithm"
// (string, default HS256), "key" (string: the secret already resolved by
// the host: HMAC secret or PEM), "key_id", "issuer", "subject", "audience"
// (list of strings, or a single string), "claims" (object), "ttl" (duration
// string, default "5m"; "0s" means no exp). now becomes MintOptions.Now. A
// missing key is left for Mint to report, so that a caller may supply it;
// other errors are KindConfig naming the config key.
func MintOptionsFromConfig(cfg core.Config, now time.Time) (MintOptions, error) {
	o := MintOptions{
		Alg:      cfg.String("algorithm", "HS256"),
		Key:      []byte(cfg.String("key", "")),
		KeyID:    cfg.String("key_id", ""),
		Issuer:   cfg.String("issuer", ""),
		Subject:  cfg.String("subject", ""),
		Audience: cfg.StringList("audience"),
		Claims:   maps.Clone(cfg.Object("claims")),
		TTL:      DefaultTTL,
		Now:      now,
	}
	if !knownAlg(o.Alg) {
		return MintOptions{}, core.Errorf(core.KindConfig, "algorithm: unknown %q (known: %s)", o.Alg, strings.Join(algorithms, ", "))
	}
	if raw, ok := cfg["ttl"]; ok {
		ttl, err := parseTTL(raw)
		if err != nil {
			return MintOptions{}, err
		}
		o.TTL = ttl
	}
	return o, nil
}

// parseTTL reads a non-negative Go duration string.
func parseTTL(raw any) (time.Duration, error) {
	s, _ := raw.(string)
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, core.Errorf(core.KindConfig, "ttl: expected a non-negative duration such as \"5m\" or \"1h\"")
	}
	return d, nil
}
