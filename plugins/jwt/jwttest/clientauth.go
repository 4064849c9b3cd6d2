package jwttest

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// jwtBearer is the client_assertion_type of a JWT client assertion.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// verifyAssertion authenticates a client by its client assertion (RFC 7523
// §3, OIDC Core §9), as oidc-provider does: the type is jwt-bearer; iss and
// sub are the client_id (and equal a client_id parameter); the signature
// verifies with the client's registered public key (private_key_jwt) or,
// for a client with a secret, HMAC with that secret (client_secret_jwt);
// aud holds the token endpoint or the issuer; exp is present and not
// passed; jti is present and never seen before. The error is the
// invalid_client description.
func (s *Server) verifyAssertion(form url.Values) (string, error) {
	if form.Get("client_assertion_type") != jwtBearer {
		return "", errors.New("client_assertion_type must be " + jwtBearer)
	}
	assertion := form.Get("client_assertion")
	unverified := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(assertion, unverified); err != nil {
		return "", errors.New("The client assertion is not a JWT")
	}
	id := claimString(unverified, "sub")
	if id == "" || claimString(unverified, "iss") != id {
		return "", errors.New("The client assertion's iss and sub must be the client_id")
	}
	if cid := form.Get("client_id"); cid != "" && cid != id {
		return "", errors.New("client_id does not match the client assertion's sub")
	}
	var key any
	var methods []string
	if pub := s.opts.ClientKeys[id]; pub != nil {
		key, methods = pub, []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	} else if secret := s.clients[id]; secret != "" {
		key, methods = []byte(secret), []string{"HS256", "HS384", "HS512"}
	} else {
		return "", errors.New("Client authentication failed")
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods(methods), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired()).
		ParseWithClaims(assertion, claims, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		return "", errors.New("The client assertion is invalid: " + err.Error())
	}
	aud, _ := claims.GetAudience()
	if !slices.Contains(aud, s.base+"/oauth/token") && !slices.Contains(aud, s.base) {
		return "", errors.New("The client assertion's aud must be the token endpoint or the issuer")
	}
	jti := claimString(claims, "jti")
	if jti == "" {
		return "", errors.New("The client assertion has no jti")
	}
	exp, _ := claims.GetExpirationTime()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.jtis[id+" "+jti]; seen {
		return "", errors.New("The client assertion's jti was already used")
	}
	for k, until := range s.jtis { // forget the expired: they are refused on exp anyway
		if until < s.now().Unix() {
			delete(s.jtis, k)
		}
	}
	s.jtis[id+" "+jti] = exp.Unix()
	return id, nil
}

// certificateFor reports whether the request came over TLS with a verified
// client certificate whose subject common name is cn (RFC 8705 §2.1.2,
// tls_client_auth_subject_dn reduced to its CN).
func certificateFor(r *http.Request, cn string) bool {
	return r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName == cn
}

// knownClient reports whether id is a registered client: with a secret (or
// public), a public key, or a TLS certificate.
func (s *Server) knownClient(id string) bool {
	_, secret := s.clients[id]
	_, tlsClient := s.opts.TLSClients[id]
	return secret || s.opts.ClientKeys[id] != nil || tlsClient
}
