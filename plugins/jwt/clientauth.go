package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net/url"
	"slices"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/tlsconfig"
)

// The client authentication methods of client_auth: RFC 6749 §2.3.1
// (client_secret_basic, client_secret_post), RFC 7523 §2.2 and OIDC Core
// §9 (private_key_jwt, client_secret_jwt), RFC 8705 §2.1
// (tls_client_auth), and none for a public client.
const (
	authBasic         = "basic"
	authBody          = "body"
	authPrivateKeyJWT = "private_key_jwt"
	authSecretJWT     = "client_secret_jwt"
	authTLS           = "tls_client_auth"
	authNone          = "none"
)

var clientAuthMethods = []string{authBasic, authBody, authPrivateKeyJWT, authSecretJWT, authTLS, authNone}

// assertionType is the client_assertion_type of a JWT client assertion
// (RFC 7523 §2.2).
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionTTL is a client assertion's lifetime: it is made for one
// request, sent at once.
const assertionTTL = 60 * time.Second

// readClientAuth reads client_auth and its keys, and checks that the
// method has what it needs (a client_credentials grant needs a credential).
func (st *settings) readClientAuth(cfg core.Config) []core.Diagnostic {
	var ds []core.Diagnostic
	st.assertionKey = strings.TrimSpace(cfg.String("client_assertion_key", ""))
	st.assertionAlg = cfg.String("client_assertion_alg", "")
	st.assertionKid = cfg.String("client_assertion_kid", "")
	st.assertionCert = tlsconfig.ExpandHome(cfg.String("client_assertion_cert", ""))
	fail := func(key, format string, args ...any) { ds = append(ds, core.DiagError(key, format, args...)) }
	for _, k := range []string{"client_assertion_key", "client_assertion_kid", "client_assertion_cert"} {
		if _, set := cfg[k]; set && st.clientAuth != authPrivateKeyJWT {
			fail(k, "is for client_auth private_key_jwt, but client_auth is %s", st.clientAuth)
		}
	}
	if _, set := cfg["client_assertion_alg"]; set && st.clientAuth != authPrivateKeyJWT && st.clientAuth != authSecretJWT {
		fail("client_assertion_alg", "is for client_auth private_key_jwt or client_secret_jwt, but client_auth is %s", st.clientAuth)
	}
	if st.clientID == "" && st.clientAuth != authBasic && st.clientAuth != authBody {
		fail("client_id", "client_auth %s needs client_id", st.clientAuth)
	}
	switch st.clientAuth {
	case authBasic, authBody:
		if st.grant == "client_credentials" && st.clientSecret == "" {
			fail("client_secret", "the client_credentials grant needs client_secret (e.g. client_secret: env:CLIENT_SECRET)")
		}
	case authSecretJWT:
		if st.clientSecret == "" {
			fail("client_secret", "client_auth client_secret_jwt signs with client_secret, which is not set (e.g. client_secret: env:CLIENT_SECRET)")
		}
		if st.assertionAlg != "" && !slices.Contains([]string{"HS256", "HS384", "HS512"}, st.assertionAlg) {
			fail("client_assertion_alg", "client_secret_jwt signs with HMAC: HS256, HS384 or HS512, not %s", printable(st.assertionAlg))
		}
	case authPrivateKeyJWT:
		switch {
		case st.assertionKey == "":
			fail("client_assertion_key", "client_auth private_key_jwt needs the PEM private key, e.g. client_assertion_key: file:~/.config/app/client.pem")
		case looksLikePEM([]byte(st.assertionKey)): // resolved; a reference is checked once it is
			if _, err := assertionAlg(st.assertionKey, st.assertionAlg); err != nil {
				fail(keyOr(cfg, "client_assertion_alg", "client_assertion_key"), "%s", message(err))
			}
		}
		if st.clientSecret != "" {
			fail("client_secret", "client_auth private_key_jwt sends no client secret: remove client_secret")
		}
	case authTLS:
		if cfg["client_cert"] == nil || cfg["client_key"] == nil {
			fail(keyOr(cfg, "client_key", "client_cert"), "client_auth tls_client_auth needs client_cert and client_key (the TLS client certificate)")
		}
		if st.clientSecret != "" {
			fail("client_secret", "client_auth tls_client_auth sends no client secret: remove client_secret")
		}
	case authNone:
		if st.clientSecret != "" {
			fail("client_secret", "client_auth none is a public client, which has no secret: remove client_secret")
		}
		if st.grant == "client_credentials" {
			fail("client_auth", "the client_credentials grant needs an authenticated client, not none")
		}
	}
	return ds
}

// authenticateClient adds the client's authentication (RFC 6749 §2.3) to
// x, whose form is form: a request to the token endpoint (every grant, the
// refresh) or to another endpoint where the client authenticates (device
// authorization, revocation). Every such request goes through it. A client
// assertion's aud is the token endpoint whatever the request's endpoint,
// as RFC 7523 §3 and OIDC Core §9 ask and IdPs accept.
func (s *Scheme) authenticateClient(st *settings, form url.Values, x *exchange) error {
	if st.clientID == "" {
		return nil
	}
	switch st.clientAuth {
	case authPrivateKeyJWT, authSecretJWT:
		assertion, err := s.clientAssertion(st, st.tokenURL)
		if err != nil {
			return err
		}
		form.Set("client_id", st.clientID)
		form.Set("client_assertion_type", assertionType)
		form.Set("client_assertion", assertion)
		x.secrets = append(x.secrets, assertion)
	case authBasic:
		if st.clientSecret != "" {
			x.basicUser, x.basicPassword = st.clientID, st.clientSecret
			return nil
		}
		form.Set("client_id", st.clientID) // a public client
	default: // body; tls_client_auth and none identify the client only
		form.Set("client_id", st.clientID)
		if st.clientAuth == authBody && st.clientSecret != "" {
			form.Set("client_secret", st.clientSecret)
		}
	}
	return nil
}

// clientAssertion signs a client assertion for a request to aud (RFC 7523
// §3): iss and sub the client_id, a unique jti, iat and nbf now, a short
// exp; with the
// private key (private_key_jwt) or the client secret (client_secret_jwt).
func (s *Scheme) clientAssertion(st *settings, aud string) (string, error) {
	var key any
	alg := st.assertionAlg
	if st.clientAuth == authSecretJWT {
		if alg == "" {
			alg = "HS256"
		}
		key = []byte(st.clientSecret) // the server's secret, whatever its length
	} else {
		var err error
		if alg, err = assertionAlg(st.assertionKey, alg); err != nil {
			return "", core.Prefix("client_assertion_key", err, core.KindConfig)
		}
		if key, err = signingKey(alg, []byte(st.assertionKey)); err != nil {
			return "", core.Prefix("client_assertion_key", err, core.KindConfig)
		}
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", core.Errorf(core.KindInternal, "client assertion: %v", err)
	}
	now := s.now()
	t := gojwt.NewWithClaims(gojwt.GetSigningMethod(alg), gojwt.MapClaims{
		"iss": st.clientID,
		"sub": st.clientID,
		"aud": aud,
		"jti": hex.EncodeToString(jti),
		"iat": now.Unix(),
		"nbf": now.Unix(), // Entra ID requires it
		"exp": now.Add(assertionTTL).Unix(),
	})
	if st.assertionKid != "" {
		t.Header["kid"] = st.assertionKid
	}
	if st.assertionCert != "" {
		s256, s1, err := certThumbprints(st.assertionCert, st.assertionKey)
		if err != nil {
			return "", err
		}
		t.Header["x5t#S256"], t.Header["x5t"] = s256, s1
	}
	signed, err := t.SignedString(key)
	if err != nil {
		return "", core.Errorf(core.KindConfig, "client assertion: cannot sign with %s", alg)
	}
	return signed, nil
}

// assertionAlg returns the algorithm a client assertion is signed with by
// the PEM private key material: alg when given (it must fit the key), else
// the key type's: RS256 for RSA, ES256/ES384/ES512 by the EC curve, EdDSA
// for Ed25519. Errors are KindConfig and never quote the key.
func assertionAlg(material, alg string) (string, error) {
	block, _ := pem.Decode([]byte(material))
	if block == nil {
		return "", core.Errorf(core.KindConfig, "not a PEM private key (no -----BEGIN block)")
	}
	if block.Type != "PRIVATE KEY" && block.Type != "RSA PRIVATE KEY" && block.Type != "EC PRIVATE KEY" {
		return "", core.Errorf(core.KindConfig, "unsupported PEM block %q (want an unencrypted PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", printable(block.Type))
	}
	priv, err := parsePrivateKey(block)
	if err != nil {
		return "", core.Errorf(core.KindConfig, "the PEM %s cannot be read", strings.ToLower(block.Type))
	}
	byKey := ""
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		byKey = "RS256"
		if alg != "" && (strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")) {
			byKey = alg
		}
	case *ecdsa.PrivateKey:
		byKey = ecAlgs[k.Curve.Params().Name]
	case ed25519.PrivateKey:
		byKey = "EdDSA"
	}
	switch {
	case byKey == "" || !knownAlg(byKey):
		return "", core.Errorf(core.KindConfig, "unsupported private key type %T (want RSA, EC P-256/384/521 or Ed25519)", priv)
	case alg != "" && alg != byKey:
		return "", core.Errorf(core.KindConfig, "client_assertion_alg %s does not fit the key (it signs %s)", printable(alg), byKey)
	}
	return byKey, nil
}

// certThumbprints returns the base64url SHA-256 and SHA-1 thumbprints of
// the certificate in the PEM file certFile (RFC 7515 §4.1.8, §4.1.7), the
// x5t#S256 and x5t headers by which Entra ID and others find the
// certificate credential a client assertion is signed for. The certificate
// must be the one of keyPEM.
func certThumbprints(certFile, keyPEM string) (s256, s1 string, err error) {
	l, err := tlsconfig.Load("", certFile, keyPEM)
	if err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "client_cert, client_key: "), "client_cert: ")
		return "", "", core.Errorf(core.KindConfig, "client_assertion_cert: %s", msg)
	}
	block, _ := pem.Decode(l.CertPEM)
	if block == nil {
		return "", "", core.Errorf(core.KindConfig, "client_assertion_cert: %s holds no PEM certificate", redact.OneLine(certFile))
	}
	sum256, sum1 := sha256.Sum256(block.Bytes), sha1.Sum(block.Bytes)
	return base64.RawURLEncoding.EncodeToString(sum256[:]), base64.RawURLEncoding.EncodeToString(sum1[:]), nil
}
