// Package digest is the HTTP Digest authentication scheme (RFC 7616): MD5,
// SHA-256 and SHA-512-256 with their -sess forms, qop=auth and auth-int,
// userhash, and the renewal of a stale nonce.
//
// Digest answers a server's challenge, so its login needs the server's
// first 401: the host probes the profile's url and hands the answer to
// Login (core.Capabilities.LoginChallenge). The credential is PerRequest:
// Apply computes the Authorization header of each request from the
// challenge and the password, and returns the new nonce count as the
// credential's state, which the host stores before any process's next
// Apply, so a server that checks nonce counts (Apache's
// AuthDigestNcCheck) sees them increase across authx processes. The state
// never holds the password; the password stays in the profile's config.
package digest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/tlsconfig"
	"github.com/authx/authx/core/urlscope"
)

// Version of the scheme.
const Version = "0.1.0"

// Scheme implements core.Scheme, core.Applier and core.ChallengeHandler.
type Scheme struct {
	// Rand draws client nonces; nil means crypto/rand.
	Rand io.Reader
}

// New returns the digest scheme.
func New() *Scheme { return &Scheme{} }

var (
	_ core.Applier          = (*Scheme)(nil)
	_ core.ChallengeHandler = (*Scheme)(nil)
)

// Describe implements core.Scheme.
func (s *Scheme) Describe() core.Description {
	return core.Description{
		Name:    "digest",
		Version: Version,
		Summary: "HTTP Digest authentication (RFC 7616), nonce count kept across processes",
		// The login answers the server's first 401, which the host probes.
		Capabilities: core.Capabilities{LoginChallenge: true},
		Config: append([]core.Field{
			{Name: "username", Type: core.TypeString, Required: true, Help: "user name"},
			{Name: "password", Type: core.TypeString, Required: true, Secret: true, Help: "password, usually a reference: env:NAME, file:PATH, cmd:COMMAND or prompt:"},
			{Name: "algorithm", Type: core.TypeString, Enum: algorithmNames(),
				Help: "use only this algorithm (default: the strongest the server offers, SHA-512-256-sess first, MD5 last)"},
		}, tlsconfig.Fields()...), // for authx's requests (the login's probe too): the scheme makes none
	}
}

// Configure implements core.Scheme.
func (s *Scheme) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	var ds []core.Diagnostic
	user := cfg.String("username", "")
	if user == "" {
		ds = append(ds, core.DiagError("username", "required"))
	}
	if !utf8.ValidString(user) || !headerSafe(user) {
		ds = append(ds, core.DiagError("username", "the user name holds a control character or is not UTF-8"))
	}
	if a := cfg.String("algorithm", ""); a != "" {
		if _, ok := lookupAlgorithm(a); !ok {
			ds = append(ds, core.DiagError("algorithm", "one of %s", strings.Join(algorithmNames(), ", ")))
		}
	}
	if _, err := tlsconfig.FromConfig(cfg); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		ds = append(ds, core.DiagError(field, "%s", msg))
	}
	return ds
}

// Login implements core.Scheme. It answers the challenge the host probed
// (req.Challenge): it picks the strongest Digest challenge authx speaks and
// keeps it as the credential's state, with nonce count 0. Without the
// server's challenge it fails rather than guess a realm and nonce.
func (s *Scheme) Login(_ context.Context, req core.LoginRequest) (*core.Credential, error) {
	if req.URL == "" {
		return nil, core.Errorf(core.KindConfig, "the digest scheme needs the profile's url: a page the server protects with Digest authentication")
	}
	ch := req.Challenge
	if ch == nil {
		return nil, core.Errorf(core.KindPlugin, "no Digest challenge from %s: the server did not answer 401 to a request without credentials (is the url a protected page? is the server reachable?), or this authx is older than protocol 1.4", redact.RawURL(req.URL))
	}
	if ch.Status != http.StatusUnauthorized {
		return nil, core.Errorf(core.KindConfig, "the server answered HTTP %d, not 401, to %s without credentials; set the profile's url to a page that asks for Digest authentication", ch.Status, redact.RawURL(req.URL))
	}
	o, err := choose(ch.Header, req.Config.String("algorithm", ""))
	if err != nil {
		return nil, err
	}
	st, err := newState(o, req.URL)
	if err != nil {
		return nil, err
	}
	return credential(st), nil
}

// credential is the PerRequest credential holding st.
func credential(st *state) *core.Credential {
	return &core.Credential{PerRequest: true, Scope: st.Space, State: st.encode()}
}

// sign computes the Authorization header of one request with st and
// returns it with the state to keep (the nonce count incremented).
func (s *Scheme) sign(cfg core.Config, st *state, req core.HTTPRequest) ([]core.Header, *state, error) {
	uri, u, err := requestURI(req.URL)
	if err != nil || !u.IsAbs() {
		return nil, nil, core.Errorf(core.KindConfig, "%s: the URL does not parse, so the request cannot be signed", req.Method)
	}
	if !urlscope.InScope(u, st.Space) {
		return nil, nil, core.Errorf(core.KindConfig, "%s is outside the protection space of %s; the digest credential is not sent there", redact.URL(u), st.describe())
	}
	if user := cfg.String("username", ""); !headerSafe(user) { // Configure says so too; a header must never carry it
		return nil, nil, core.Errorf(core.KindConfig, "username: the user name holds a control character or is not UTF-8")
	}
	alg, _ := lookupAlgorithm(st.Algorithm) // checked by decodeState
	in := inputs{
		alg:      alg,
		username: cfg.String("username", ""),
		realm:    st.Realm,
		password: cfg.String("password", ""),
		nonce:    st.Nonce,
		method:   req.Method,
		uri:      uri,
	}
	next := *st
	if len(st.QOP) > 0 {
		if in.qop, in.bodyHash, err = pickQOP(alg, st.QOP, req.BodySHA256); err != nil {
			return nil, nil, err
		}
		if in.cnonce, err = s.cnonce(); err != nil {
			return nil, nil, core.Wrap(core.KindInternal, err, "drawing a client nonce")
		}
		next.NC++
		in.nc = fmt.Sprintf("%08x", next.NC)
	}
	h := authorization(in, st.Opaque, st.HasOpaque, st.Userhash)
	return []core.Header{{Name: "Authorization", Value: h}}, &next, nil
}

// emptySHA256 is the SHA-256 of an empty body.
var emptySHA256 = sha256.Sum256(nil)

// pickQOP chooses qop=auth when the server offers it: it protects what
// auth-int does but the body, and needs nothing the host does not send.
// qop=auth-int needs H(entity-body) with the session's hash, and the host
// sends the body's SHA-256 only: it is computable with SHA-256 and for an
// empty body, not otherwise.
func pickQOP(alg algorithm, offered []string, bodySHA256 []byte) (qop, bodyHash string, err error) {
	for _, q := range offered {
		if q == "auth" {
			return "auth", "", nil
		}
	}
	switch {
	case len(bodySHA256) == sha256.Size && string(bodySHA256) == string(emptySHA256[:]):
		return "auth-int", alg.h(""), nil
	case len(bodySHA256) == sha256.Size && strings.HasPrefix(alg.name, "SHA-256"):
		return "auth-int", hex.EncodeToString(bodySHA256), nil
	case len(bodySHA256) != sha256.Size:
		return "", "", core.Errorf(core.KindPlugin, "the server asks for qop=auth-int, and this authx sent no digest of the request body")
	default:
		return "", "", core.Errorf(core.KindUnsupported, "the server asks for qop=auth-int with %s: authx can sign only empty bodies that way (it has the body's SHA-256, not its %s)", alg.name, alg.name)
	}
}

func (s *Scheme) cnonce() (string, error) {
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// readState decodes the credential's state; a credential without a usable
// one needs a new login.
func readState(cred *core.Credential) (*state, error) {
	if cred == nil {
		return nil, core.Errorf(core.KindCache, "no digest credential to sign with; run authx login")
	}
	st, err := decodeState(cred.State)
	if err != nil {
		return nil, core.Errorf(core.KindCache, "%v; run authx login again", err)
	}
	return st, nil
}

// HandleChallenge implements core.ChallengeHandler.
//
//   - A 401 whose Digest challenge says stale=true (the nonce expired, the
//     password was right): one retry with the new nonce, nonce count 0.
//   - A 401 to a credential that signed before (nonce count above 0 when
//     the request began): the server may have lost the nonce (a restart)
//     or seen this request's count after a higher one (concurrent
//     processes): one retry with the new nonce too.
//   - A 401 to the login's own first request (count 0), or to the retry
//     (req.Retried): the password or user is wrong; a diagnosis naming
//     realm and user, without a second attempt that would count against
//     the account.
//   - A 403: a KindForbidden error, as no new nonce changes it.
func (s *Scheme) HandleChallenge(_ context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	user := req.Config.String("username", "")
	if req.Response.Status != http.StatusUnauthorized {
		return core.ChallengeResponse{}, core.Errorf(core.KindForbidden,
			"forbidden: the server refuses user %q access to %s (HTTP %d)", user, redact.RawURL(req.Request.URL), req.Response.Status)
	}
	old, _ := decodeState(credentialState(req.Credential))
	realm := ""
	if old != nil {
		realm = " in " + old.describe()
	}
	if req.Retried {
		return fail("credentials rejected: the server refused user %q%s again with a new nonce; check the username and password", user, realm), nil
	}
	o, err := choose(req.Response.Header, req.Config.String("algorithm", ""))
	if err != nil {
		return fail("credentials rejected: the server refused user %q%s and %s", user, realm, lowerFirst(err)), nil
	}
	if prev, ok := lookupAlgorithm(stateAlgorithm(old)); old != nil && ok && o.alg.rank < prev.rank {
		// The strongest the server offers now is weaker than what the
		// login chose: a forged 401 (plain HTTP) would make authx answer
		// MD5 where the server speaks SHA-256. The profile's algorithm
		// pins one; without it the login's choice is the floor.
		return fail("no retry: the server refused user %q%s and now offers only Digest %s, weaker than the login's %s (a downgrade?); run authx login again if the server really changed",
			user, realm, o.alg.name, prev.name), nil
	}
	if old != nil && o.ch.Params["realm"] != old.Realm {
		// Another protection space: the password was given for the
		// login's realm, and a renewal does not move it elsewhere.
		return fail("no retry: the server refused user %q%s and now asks for realm %q; run authx login again if the server really changed",
			user, realm, o.ch.Params["realm"]), nil
	}
	if !o.stale() && (old == nil || old.NC == 0) {
		return fail("credentials rejected: the server refused user %q%s; check the username and password", user, realm), nil
	}
	st, err := newState(o, req.Request.URL)
	if err != nil {
		return core.ChallengeResponse{}, err
	}
	cred := credential(st)
	if req.Credential != nil {
		cred.ExpiresAt = req.Credential.ExpiresAt
	}
	why := "the nonce expired (stale=true); renewed"
	if !o.stale() {
		why = "the server no longer accepts the nonce; trying a new one"
	}
	return core.ChallengeResponse{Decision: core.DecisionRetry, Credential: cred, ReplaySafe: true, Diagnosis: why}, nil
}

func fail(format string, args ...any) core.ChallengeResponse {
	return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: fmt.Sprintf(format, args...)}
}

// stateAlgorithm is st's algorithm, or "" without a state.
func stateAlgorithm(st *state) string {
	if st == nil {
		return ""
	}
	return st.Algorithm
}

func credentialState(c *core.Credential) []byte {
	if c == nil {
		return nil
	}
	return c.State
}

func lowerFirst(err error) string {
	msg := err.Error()
	if msg == "" {
		return msg
	}
	return strings.ToLower(msg[:1]) + msg[1:]
}

// Apply implements core.Applier: the Authorization header of req.Request,
// and the state with the nonce count it used.
func (s *Scheme) Apply(_ context.Context, req core.ApplyRequest) (*core.ApplyResult, error) {
	st, err := readState(req.Credential)
	if err != nil {
		return nil, err
	}
	hs, next, err := s.sign(req.Config, st, req.Request)
	if err != nil {
		return nil, err
	}
	return &core.ApplyResult{Headers: hs, State: next.encode()}, nil
}
