package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/core"
)

// algorithms lists the JWS algorithms authx signs and verifies, in a stable
// order. "none" is never among them.
var algorithms = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// minRSABits is the smallest RSA modulus accepted for RS* and PS*
// (RFC 7518 §3.3 and §3.5).
const minRSABits = 2048

var (
	rsaAlgs  = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	hmacAlgs = []string{"HS256", "HS384", "HS512"}
	// ecAlgs binds each curve to its one algorithm (RFC 7518 §3.4).
	ecAlgs = map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
)

// Algorithms returns the JWS algorithms authx signs and verifies:
// HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA.
func Algorithms() []string { return slices.Clone(algorithms) }

// knownAlg reports whether alg is one of Algorithms.
func knownAlg(alg string) bool { return slices.Contains(algorithms, alg) }

// checkAlgs returns a KindConfig error when algs names an algorithm authx
// does not offer ("none" included).
func checkAlgs(algs []string) error {
	for _, a := range algs {
		if !knownAlg(a) {
			return core.Errorf(core.KindConfig, "unknown algorithm %q (known: %s)", a, strings.Join(algorithms, ", "))
		}
	}
	return nil
}

// hmacMinLen is the shortest HMAC key RFC 7518 §3.2 allows for alg: the
// size of the hash output.
func hmacMinLen(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 32
}

// checkHMACKey refuses an HMAC key shorter than alg's hash (RFC 8725 §3.5,
// RFC 7518 §3.2). The message gives lengths only, never the key.
func checkHMACKey(alg string, key []byte) error {
	if n := hmacMinLen(alg); len(key) < n {
		return core.Errorf(core.KindConfig, "the HMAC key is %d bytes; %s needs at least %d (RFC 7518 §3.2)", len(key), alg, n)
	}
	return nil
}

// verifyKey is one key able to verify signatures, bound to the algorithms
// its type allows. key is *rsa.PublicKey, *ecdsa.PublicKey,
// ed25519.PublicKey or, for HS*, a []byte secret; it is only ever handed to
// a signing method whose algorithm is in algs.
type verifyKey struct {
	kid  string
	algs []string
	key  any
	what string // for messages, e.g. "an RSA public key"; never key material
}

// fits reports whether k may verify a signature made with alg.
func (k verifyKey) fits(alg string) bool { return slices.Contains(k.algs, alg) }

// restrict binds k to the single algorithm alg (a JWK "alg" member). It
// fails when alg does not fit k's type.
func (k verifyKey) restrict(alg string) (verifyKey, error) {
	if !k.fits(alg) {
		return k, core.Errorf(core.KindConfig, "alg %s does not fit %s (allowed: %s)", alg, k.what, strings.Join(k.algs, ", "))
	}
	k.algs = []string{alg}
	return k, nil
}

// hmacKey returns secret as a verification key for the HS* algorithms its
// length allows. A secret too short even for HS256 is a KindConfig error.
func hmacKey(secret []byte, kid string) (verifyKey, error) {
	var algs []string
	for _, a := range hmacAlgs {
		if len(secret) >= hmacMinLen(a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		return verifyKey{}, checkHMACKey("HS256", secret)
	}
	return verifyKey{kid: kid, algs: algs, key: secret, what: fmt.Sprintf("a %d-byte HMAC secret", len(secret))}, nil
}

// publicKey returns pub as a verification key bound to the algorithms its
// type fixes: RSA (≥ 2048 bits) → RS*/PS*, EC → the algorithm of its curve,
// Ed25519 → EdDSA.
func publicKey(pub crypto.PublicKey, kid string) (verifyKey, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if err := checkRSASize(k); err != nil {
			return verifyKey{}, err
		}
		return verifyKey{kid: kid, algs: rsaAlgs, key: k, what: "an RSA public key"}, nil
	case *ecdsa.PublicKey:
		crv := k.Curve.Params().Name
		alg, ok := ecAlgs[crv]
		if !ok {
			return verifyKey{}, core.Errorf(core.KindConfig, "EC curve %s is not used by JWS (P-256, P-384 or P-521)", crv)
		}
		return verifyKey{kid: kid, algs: []string{alg}, key: k, what: "a " + crv + " EC public key"}, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return verifyKey{}, core.Errorf(core.KindConfig, "an Ed25519 public key must be %d bytes", ed25519.PublicKeySize)
		}
		return verifyKey{kid: kid, algs: []string{"EdDSA"}, key: k, what: "an Ed25519 public key"}, nil
	}
	return verifyKey{}, core.Errorf(core.KindConfig, "unsupported public key type %T", pub)
}

func checkRSASize(k *rsa.PublicKey) error {
	if n := k.N.BitLen(); n < minRSABits {
		return core.Errorf(core.KindConfig, "the RSA key has %d bits; at least %d are required (RFC 7518 §3.3)", n, minRSABits)
	}
	return nil
}

// looksLikePEM reports whether b holds a PEM block marker.
func looksLikePEM(b []byte) bool { return bytes.Contains(b, []byte("-----BEGIN ")) }

// verifyKeys reads VerifyOptions.Key: a PEM public key, certificate or
// private key (its public half is used), a JWK or a JWKS (JSON objects), or
// else an HMAC secret taken byte for byte. Errors are KindConfig and never
// quote the material.
func verifyKeys(material []byte) ([]verifyKey, error) {
	trimmed := bytes.TrimSpace(material)
	switch {
	case len(trimmed) == 0:
		return nil, core.Errorf(core.KindConfig, "the key is empty")
	case looksLikePEM(trimmed):
		k, err := pemPublicKey(trimmed)
		if err != nil {
			return nil, err
		}
		return []verifyKey{k}, nil
	case isJSONObject(trimmed): // a JWK or a JWKS
		keys, err := parseJWKSet(trimmed)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "%v", err)
		}
		return keys, nil
	}
	k, err := hmacKey(material, "")
	if err != nil {
		return nil, err
	}
	return []verifyKey{k}, nil
}

// pemPublicKey reads the first PEM block of data as a public key.
func pemPublicKey(data []byte) (verifyKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return verifyKey{}, core.Errorf(core.KindConfig, "the key looks like PEM but has no readable PEM block")
	}
	var pub crypto.PublicKey
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		pub, err = pemPrivateToPublic(block)
	default:
		return verifyKey{}, core.Errorf(core.KindConfig, "unsupported PEM block %q (want PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE or an unencrypted private key)", block.Type)
	}
	if err != nil {
		return verifyKey{}, core.Errorf(core.KindConfig, "the PEM %s cannot be read: %v", strings.ToLower(block.Type), err)
	}
	return publicKey(pub, "")
}

// parsePrivateKey parses an unencrypted PEM private key block: PKCS#1 RSA,
// SEC1 EC, else PKCS#8.
func parsePrivateKey(block *pem.Block) (any, error) {
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	}
	return x509.ParsePKCS8PrivateKey(block.Bytes)
}

// pemPrivateToPublic returns the public half of an unencrypted private key.
func pemPrivateToPublic(block *pem.Block) (crypto.PublicKey, error) {
	priv, err := parsePrivateKey(block)
	if err != nil {
		return nil, err
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	return signer.Public(), nil
}

// signingKey reads MintOptions.Key for alg: the secret itself for HS* (at
// least as long as the hash, and neither PEM nor JSON), else a PEM private
// key whose type fits alg (PKCS#1 or PKCS#8 RSA; SEC1 or PKCS#8 EC on alg's
// curve; PKCS#8 Ed25519). Errors are KindConfig and never quote the key.
func signingKey(alg string, material []byte) (any, error) {
	if len(material) == 0 {
		return nil, core.Errorf(core.KindConfig, "the signing key is empty")
	}
	switch alg[:min(len(alg), 2)] {
	case "HS":
		if looksLikePEM(material) {
			return nil, core.Errorf(core.KindConfig, "the key is a PEM key, but %s needs a shared secret", alg)
		}
		if isJSONObject(material) {
			return nil, core.Errorf(core.KindConfig, "the key is JSON (a JWK?), but %s needs the shared secret itself", alg)
		}
		if err := checkHMACKey(alg, material); err != nil {
			return nil, err
		}
		return material, nil
	case "RS", "PS":
		k, err := gojwt.ParseRSAPrivateKeyFromPEM(material)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "%s needs a PEM RSA private key (PKCS#1 or PKCS#8): %v", alg, err)
		}
		if err := checkRSASize(&k.PublicKey); err != nil {
			return nil, err
		}
		return k, nil
	case "ES":
		k, err := gojwt.ParseECPrivateKeyFromPEM(material)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "%s needs a PEM EC private key (SEC1 or PKCS#8): %v", alg, err)
		}
		if crv := k.Curve.Params().Name; ecAlgs[crv] != alg {
			return nil, core.Errorf(core.KindConfig, "%s needs a key on curve %s, not %s", alg, curveOf(alg), crv)
		}
		return k, nil
	case "Ed":
		k, err := gojwt.ParseEdPrivateKeyFromPEM(material)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "EdDSA needs a PEM Ed25519 private key (PKCS#8): %v", err)
		}
		return k, nil
	}
	return nil, core.Errorf(core.KindConfig, "unknown algorithm %q", alg)
}

// curveOf returns the curve name ES* alg is defined on.
func curveOf(alg string) string {
	for crv, a := range ecAlgs {
		if a == alg {
			return crv
		}
	}
	return ""
}

// curveByName maps JWK "crv" names to curves and their coordinate size.
var curveByName = map[string]struct {
	curve elliptic.Curve
	size  int
}{
	"P-256": {elliptic.P256(), 32},
	"P-384": {elliptic.P384(), 48},
	"P-521": {elliptic.P521(), 66},
}
