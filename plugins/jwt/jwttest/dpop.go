package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DPoP (RFC 9449) for tests: CheckDPoPProof verifies a proof as strictly
// as §4.3 asks, and DPoPResource is a resource server that accepts only
// DPoP-bound access tokens with such proofs, demands its own nonce (§9)
// and refuses a replayed proof.

// DPoPAlgs are the proof algorithms the emulators accept.
var DPoPAlgs = []string{"ES256", "EdDSA", "RS256"}

// DPoPProof is a verified proof's content.
type DPoPProof struct {
	Alg, Jti, Htm, Htu, Ath, Nonce string
	Iat                            int64
	// JKT is the RFC 7638 thumbprint of the proof's key.
	JKT string
}

// DPoPCheck is what a proof must match.
type DPoPCheck struct {
	Method string // the request's method
	URL    string // the request's URL; its query and fragment are ignored
	// AccessToken, when set, must be the one ath hashes; when empty the
	// proof must have no ath (a token request).
	AccessToken string
	// Nonce, when set, must be the proof's nonce.
	Nonce string
	Now   time.Time
	// Window bounds |Now - iat|; 0 means 60 s.
	Window time.Duration
}

// DPoPError is a refused proof: Code is the error of the answer
// (invalid_dpop_proof, or use_dpop_nonce for a missing or stale nonce).
type DPoPError struct{ Code, Desc string }

func (e *DPoPError) Error() string { return e.Code + ": " + e.Desc }

func proofErr(format string, args ...any) *DPoPError {
	return &DPoPError{Code: "invalid_dpop_proof", Desc: fmt.Sprintf(format, args...)}
}

// CheckDPoPProof verifies proof (RFC 9449 §4.3): a JWS with typ
// dpop+jwt, an asymmetric alg of DPoPAlgs, a public jwk (no private
// member) that verifies the signature; claims jti (a string), htm the
// method, htu the URL without query and fragment, iat within the window,
// ath the access token's hash (and none without one), nonce the expected
// one.
func CheckDPoPProof(proof string, c DPoPCheck) (DPoPProof, error) {
	var p DPoPProof
	if c.Window <= 0 {
		c.Window = time.Minute
	}
	var pub crypto.PublicKey
	claims := jwt.MapClaims{}
	t, err := jwt.NewParser(jwt.WithValidMethods(DPoPAlgs), jwt.WithoutClaimsValidation()).ParseWithClaims(proof, claims, func(t *jwt.Token) (any, error) {
		if t.Header["typ"] != "dpop+jwt" {
			return nil, errors.New("typ is not dpop+jwt")
		}
		raw, _ := t.Header["jwk"].(map[string]any)
		k, jkt, err := publicJWK(raw)
		if err != nil {
			return nil, err
		}
		pub, p.JKT = k, jkt
		return k, nil
	})
	if err != nil || !t.Valid || pub == nil {
		return p, proofErr("the proof does not verify: %v", err)
	}
	p.Alg = t.Method.Alg()
	str := func(name string) string { s, _ := claims[name].(string); return s }
	p.Jti, p.Htm, p.Htu, p.Ath, p.Nonce = str("jti"), str("htm"), str("htu"), str("ath"), str("nonce")
	iat, ok := claims["iat"].(float64)
	if !ok || iat != float64(int64(iat)) {
		return p, proofErr("iat is not a whole number")
	}
	p.Iat = int64(iat)
	want, err := stripQuery(c.URL)
	if err != nil {
		return p, err
	}
	switch {
	case p.Jti == "" || len(p.Jti) < 16:
		return p, proofErr("jti is missing or too short to be unique")
	case p.Htm != c.Method:
		return p, proofErr("htm %q is not the method %s", p.Htm, c.Method)
	case p.Htu != want:
		return p, proofErr("htu %q is not %s", p.Htu, want)
	case time.Duration(abs(c.Now.Unix()-p.Iat))*time.Second > c.Window:
		return p, proofErr("iat is %d s from now", c.Now.Unix()-p.Iat)
	case c.AccessToken == "" && claims["ath"] != nil:
		return p, proofErr("a token request's proof has ath")
	case c.AccessToken != "" && p.Ath != athOf(c.AccessToken):
		return p, proofErr("ath is not the access token's hash")
	case claims["nonce"] != nil && p.Nonce == "":
		return p, proofErr("nonce is not a string")
	case c.Nonce != "" && p.Nonce == "":
		return p, &DPoPError{Code: "use_dpop_nonce", Desc: "the proof has no nonce"}
	case c.Nonce != "" && p.Nonce != c.Nonce:
		return p, &DPoPError{Code: "use_dpop_nonce", Desc: "the proof's nonce is stale"}
	}
	return p, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// athOf is the ath of an access token: base64url SHA-256.
func athOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// stripQuery is u without query and fragment.
func stripQuery(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", proofErr("the request URL %q does not parse", u)
	}
	p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = "", false, "", ""
	return p.String(), nil
}

// publicJWK reads a proof's jwk header: EC P-256, OKP Ed25519 or RSA, with
// no private member; it returns the key and its RFC 7638 thumbprint.
func publicJWK(m map[string]any) (crypto.PublicKey, string, error) {
	if m == nil {
		return nil, "", errors.New("no jwk header")
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := m[private]; ok {
			return nil, "", fmt.Errorf("the jwk holds the private member %s", private)
		}
	}
	s := func(name string) string { v, _ := m[name].(string); return v }
	dec := func(name string) ([]byte, error) {
		b, err := base64.RawURLEncoding.DecodeString(s(name))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("jwk member %s is not base64url", name)
		}
		return b, nil
	}
	var canonical map[string]string
	var key crypto.PublicKey
	switch s("kty") {
	case "EC":
		if s("crv") != "P-256" {
			return nil, "", errors.New("EC jwk is not P-256")
		}
		x, err1 := dec("x")
		y, err2 := dec("y")
		if err := errors.Join(err1, err2); err != nil || len(x) != 32 || len(y) != 32 {
			return nil, "", errors.New("EC jwk has malformed coordinates")
		}
		k := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		if _, err := k.ECDH(); err != nil {
			return nil, "", errors.New("EC jwk is not on the curve")
		}
		key, canonical = k, map[string]string{"crv": "P-256", "kty": "EC", "x": s("x"), "y": s("y")}
	case "OKP":
		x, err := dec("x")
		if s("crv") != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, "", errors.New("OKP jwk is not an Ed25519 key")
		}
		key, canonical = ed25519.PublicKey(x), map[string]string{"crv": "Ed25519", "kty": "OKP", "x": s("x")}
	case "RSA":
		n, err1 := dec("n")
		e, err2 := dec("e")
		if err := errors.Join(err1, err2); err != nil || len(n) < 256 || len(e) > 4 {
			return nil, "", errors.New("RSA jwk is malformed or smaller than 2048 bits")
		}
		key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		canonical = map[string]string{"e": s("e"), "kty": "RSA", "n": s("n")}
	default:
		return nil, "", fmt.Errorf("jwk kty %q is not EC, OKP or RSA", s("kty"))
	}
	b, _ := json.Marshal(canonical) // sorted keys: the RFC 7638 form
	sum := sha256.Sum256(b)
	return key, base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// DPoPResource is a resource server that accepts only DPoP-bound tokens
// (RFC 9449 §7): Authorization: DPoP TOKEN with exactly one DPoP proof that
// CheckDPoPProof accepts for this request, with the server's current nonce
// (§9: a missing or stale one gets 401 use_dpop_nonce and a DPoP-Nonce
// header), bound to the key the token is bound to, and never seen before
// (jti). Any other request gets 401 with a DPoP challenge. A success is
// 200 {"sub":..., "jti":...}.
type DPoPResource struct {
	// TokenJKT checks an access token and returns the thumbprint it is
	// bound to (its cnf.jkt); nil reads cnf.jkt from the token's JWT
	// claims without verifying them.
	TokenJKT func(token string) (string, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Stubborn makes the server change its nonce before every request, so
	// that every proof's nonce is stale (a misbehaving server): a client
	// must give up after one retry.
	Stubborn bool

	mu         sync.Mutex
	nonce      string
	seen       map[string]bool
	proofs     []DPoPProof
	challenges int
	refusals   []string
}

// NewDPoPResource returns a resource server whose nonce is random.
func NewDPoPResource() *DPoPResource {
	return &DPoPResource{nonce: "n-" + randHex(16), seen: map[string]bool{}}
}

// RotateNonce gives the server a new nonce: the next request with the old
// one is challenged.
func (d *DPoPResource) RotateNonce() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nonce = "n-" + randHex(16)
}

// Nonce is the current nonce.
func (d *DPoPResource) Nonce() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nonce
}

// Proofs are the proofs of the requests served, in order.
func (d *DPoPResource) Proofs() []DPoPProof {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]DPoPProof(nil), d.proofs...)
}

// NonceChallenges is how many use_dpop_nonce challenges were sent.
func (d *DPoPResource) NonceChallenges() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.challenges
}

// Refusals are the reasons of the other 401s sent.
func (d *DPoPResource) Refusals() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.refusals...)
}

func (d *DPoPResource) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// ServeHTTP implements http.Handler.
func (d *DPoPResource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fail := func(code, desc string) {
		h := w.Header()
		h.Set("WWW-Authenticate", fmt.Sprintf(`DPoP error=%q, error_description=%q, algs="%s"`, code, desc, strings.Join(DPoPAlgs, " ")))
		if code == "use_dpop_nonce" {
			h.Set("DPoP-Nonce", d.nonce)
			d.challenges++
		} else {
			d.refusals = append(d.refusals, code+": "+desc)
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": code, "error_description": desc})
	}
	auths, proofs := r.Header.Values("Authorization"), r.Header.Values("DPoP")
	if len(auths) != 1 || len(proofs) != 1 {
		fail("invalid_request", "exactly one Authorization and one DPoP header are required")
		return
	}
	scheme, token, _ := strings.Cut(auths[0], " ")
	if !strings.EqualFold(scheme, "DPoP") || token == "" {
		fail("invalid_token", "a DPoP-bound token must be sent with the DPoP scheme")
		return
	}
	jkt, err := d.tokenJKT(token)
	if err != nil {
		fail("invalid_token", err.Error())
		return
	}
	if d.Stubborn {
		d.nonce = "n-" + randHex(16)
	}
	target := "http://" + r.Host + r.URL.RequestURI()
	p, err := CheckDPoPProof(proofs[0], DPoPCheck{Method: r.Method, URL: target, AccessToken: token, Nonce: d.nonce, Now: d.now()})
	if err != nil {
		var de *DPoPError
		errors.As(err, &de)
		fail(de.Code, de.Desc)
		return
	}
	switch {
	case p.JKT != jkt:
		fail("invalid_token", "the proof's key is not the one the token is bound to")
		return
	case d.seen[p.Jti]:
		fail("invalid_dpop_proof", "the proof was used before (jti)")
		return
	}
	d.seen[p.Jti] = true
	d.proofs = append(d.proofs, p)
	writeJSON(w, http.StatusOK, map[string]string{"sub": "dpop", "jti": p.Jti})
}

func (d *DPoPResource) tokenJKT(token string) (string, error) {
	if d.TokenJKT != nil {
		return d.TokenJKT(token)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("the token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err != nil || json.Unmarshal(raw, &claims) != nil || claims.Cnf.JKT == "" {
		return "", errors.New("the token is not bound to a key (cnf.jkt)")
	}
	return claims.Cnf.JKT, nil
}

// dpopServerState is the OAuth2 emulator's DPoP bookkeeping.
type dpopServerState struct {
	jtis       map[string]bool
	proofs     []DPoPProof
	challenges int
}

// dpopWriter carries, through the token endpoint's answer, the key the
// request proved it holds.
type dpopWriter struct {
	http.ResponseWriter
	jkt string
}

// dpopTokenProof checks a token request's proof (Options.DPoP): exactly
// one, valid for POST to this endpoint, never seen, with the nonce when
// Options.DPoPNonce is set. It answers 400 and returns ok=false on a
// refusal.
func (s *Server) dpopTokenProof(w http.ResponseWriter, r *http.Request) (jkt string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		oauthFail(w, http.StatusBadRequest, "invalid_dpop_proof", "exactly one DPoP proof is required")
		return "", false
	}
	p, err := CheckDPoPProof(proofs[0], DPoPCheck{Method: r.Method, URL: s.base + r.URL.Path, Nonce: s.opts.DPoPNonce, Now: s.now()})
	if err != nil {
		var de *DPoPError
		errors.As(err, &de)
		if de.Code == "use_dpop_nonce" {
			w.Header().Set("DPoP-Nonce", s.opts.DPoPNonce)
			s.dpop.challenges++
		}
		oauthFail(w, http.StatusBadRequest, de.Code, de.Desc)
		return "", false
	}
	if s.dpop.jtis == nil {
		s.dpop.jtis = map[string]bool{}
	}
	if s.dpop.jtis[p.Jti] {
		oauthFail(w, http.StatusBadRequest, "invalid_dpop_proof", "DPoP proof JWT replay detected")
		return "", false
	}
	s.dpop.jtis[p.Jti] = true
	s.dpop.proofs = append(s.dpop.proofs, p)
	return p.JKT, true
}

// DPoPProofs are the token requests' accepted proofs (Options.DPoP), in
// order.
func (s *Server) DPoPProofs() []DPoPProof {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DPoPProof(nil), s.dpop.proofs...)
}

// DPoPNonceChallenges is how many use_dpop_nonce answers the token
// endpoint sent.
func (s *Server) DPoPNonceChallenges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dpop.challenges
}
