// Package hmacsigner is an authx scheme that signs every request with a
// shared secret, in the manner of AWS Signature Version 4 and Akamai EdgeGrid
// but simpler, together with the verifier a server uses to check those
// signatures.
//
// A signed request carries four headers:
//
//	X-Authx-Date: 2026-03-01T12:00:00Z
//	X-Authx-Nonce: 00112233445566778899aabbccddeeff
//	X-Content-SHA256: <lowercase hex SHA-256 of the body>
//	Authorization: AUTHX-HMAC-SHA256 KeyId=<id>, SignedHeaders=x-authx-date;x-authx-nonce;x-content-sha256, Signature=<base64>
//
// The signature is the base64 of HMAC-SHA256, keyed with the secret, of the
// canonical string (see Canonical). README.md specifies the format fully.
//
// The scheme (New) runs inside the authx-plugin-hmac process, started by
// authx; the verifier (Verify) is net/http middleware for the server. Both
// depend only on the standard library and the authx core package.
package hmacsigner

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/httpauth"
	"github.com/authx/authx/core/redact"
)

// Version of the scheme.
const Version = "0.1.0"

// The names and fixed values of the signature format.
const (
	// Algorithm names the format in Authorization and WWW-Authenticate, and
	// is the first line of every canonical string.
	Algorithm = "AUTHX-HMAC-SHA256"
	// HeaderDate holds the signing time, in DateFormat.
	HeaderDate = "X-Authx-Date"
	// HeaderNonce holds 128 random bits as 32 lowercase hex digits.
	HeaderNonce = "X-Authx-Nonce"
	// HeaderContentSHA256 holds the SHA-256 of the body as 64 lowercase hex
	// digits (that of the empty string when there is no body).
	HeaderContentSHA256 = "X-Content-SHA256"
	// SignedHeaders is the SignedHeaders parameter of Authorization. It is
	// fixed: this version of the format signs exactly these headers.
	SignedHeaders = "x-authx-date;x-authx-nonce;x-content-sha256"
	// DateFormat is the layout of X-Authx-Date: RFC 3339 in UTC, whole
	// seconds, e.g. 2026-03-01T12:00:00Z.
	DateFormat = "2006-01-02T15:04:05Z"
	// MinSecretLen is the shortest secret accepted, in bytes.
	MinSecretLen = 32
)

// Canonical is what a signature covers. Its String form is the canonical
// string: the fields below, in this order, after the line
// "AUTHX-HMAC-SHA256", joined by "\n" with no trailing newline.
type Canonical struct {
	Method        string // the request method as sent, case preserved ("" counts as GET)
	Path          string // see CanonicalPath
	Query         string // see CanonicalQuery
	Date          string // the value of X-Authx-Date
	Nonce         string // the value of X-Authx-Nonce
	ContentSHA256 string // the value of X-Content-SHA256
}

// NewCanonical returns the Canonical of a request for u. It fails only when
// u's query is not valid percent-encoding.
func NewCanonical(method string, u *url.URL, date, nonce, contentSHA256 string) (Canonical, error) {
	q, err := CanonicalQuery(u.RawQuery)
	if err != nil {
		return Canonical{}, err
	}
	if method == "" {
		method = http.MethodGet
	}
	return Canonical{Method: method, Path: CanonicalPath(u.EscapedPath()), Query: q,
		Date: date, Nonce: nonce, ContentSHA256: contentSHA256}, nil
}

// String returns the canonical string.
func (c Canonical) String() string {
	return strings.Join([]string{Algorithm, c.Method, c.Path, c.Query, c.Date, c.Nonce, c.ContentSHA256}, "\n")
}

// CanonicalPath returns the path as the request line carries it: the escaped
// path unchanged (no decoding, no dot-segment removal), except that an empty
// path is "/".
func CanonicalPath(escapedPath string) string {
	if escapedPath == "" {
		return "/"
	}
	return escapedPath
}

// CanonicalQuery returns the canonical form of a raw query string: split on
// '&' (empty parts dropped), each part split at its first '=' (a missing
// value is empty), names and values decoded as net/url decodes queries ('+'
// is a space), then re-encoded per RFC 3986 (bytes other than A-Z a-z 0-9
// - . _ ~ as %XX, upper-case hex), sorted by name then value, and joined as
// name=value with '&'. It fails when a part is not valid percent-encoding.
func CanonicalQuery(rawQuery string) (string, error) {
	type pair struct{ name, value string }
	var pairs []pair
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return "", fmt.Errorf("query parameter %q: %w", rawName, err)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return "", fmt.Errorf("query parameter %q: %w", rawName, err)
		}
		pairs = append(pairs, pair{encode(name), encode(value)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.value, b.value))
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.name + "=" + p.value
	}
	return strings.Join(parts, "&"), nil
}

// encode percent-encodes every byte of s but RFC 3986's unreserved ones.
func encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.Write([]byte{'%', hexDigits[c>>4], hexDigits[c&15]})
		}
	}
	return b.String()
}

// Signature returns the base64 (standard alphabet, padded) of
// HMAC-SHA256(secret, c.String()).
func Signature(secret []byte, c Canonical) string {
	m := hmac.New(sha256.New, secret)
	io.WriteString(m, c.String())
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Authorization returns the value of the Authorization header for a
// signature made with keyID.
func Authorization(keyID, signature string) string {
	return fmt.Sprintf("%s KeyId=%s, SignedHeaders=%s, Signature=%s", Algorithm, keyID, SignedHeaders, signature)
}

// Scheme is the "hmac" authx scheme. It implements core.Scheme, core.Applier
// and core.ChallengeHandler, keeps no state between calls and is safe for
// concurrent use. The zero value is ready to use; New returns one.
type Scheme struct {
	// Now is the clock that dates signatures; nil means time.Now.
	Now func() time.Time
	// Rand supplies the nonces; nil means crypto/rand.Reader. Another
	// reader must be safe for concurrent use and, outside tests, random.
	Rand io.Reader
}

// New returns the scheme with the system clock and crypto/rand.
func New() *Scheme { return &Scheme{} }

var (
	_ core.Applier          = (*Scheme)(nil)
	_ core.ChallengeHandler = (*Scheme)(nil)
)

// Describe implements core.Scheme.
func (s *Scheme) Describe() core.Description {
	return core.Description{
		Name:    "hmac",
		Version: Version,
		Summary: "HMAC-SHA256 request signing (" + Algorithm + "): method, path, query, time, nonce and body digest signed per request",
		Config: []core.Field{
			{Name: "key_id", Type: core.TypeString, Required: true,
				Help: "the key's public identifier, sent with every request: 1 to 128 of A-Z a-z 0-9 . _ ~ -"},
			{Name: "secret", Type: core.TypeString, Required: true, Secret: true,
				Help: "the shared HMAC key, at least 32 bytes, used as written (not decoded); a reference: env:NAME, file:PATH or cmd:COMMAND"},
		},
	}
}

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)

func checkKeyID(id string) string {
	if !keyIDPattern.MatchString(id) {
		return "expected 1 to 128 of the characters A-Z a-z 0-9 . _ ~ - (it travels unquoted in the Authorization header)"
	}
	return ""
}

func checkSecret(secret string) string {
	if len(secret) < MinSecretLen {
		return fmt.Sprintf("shorter than %d bytes; use a random key, e.g. the output of `openssl rand -base64 48`", MinSecretLen)
	}
	return ""
}

// Configure implements core.Scheme: one diagnostic per bad field. The SDK
// has already checked presence and types against Describe.
func (s *Scheme) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	var ds []core.Diagnostic
	if msg := checkKeyID(cfg.String("key_id", "")); msg != "" {
		ds = append(ds, core.DiagError("key_id", "%s", msg))
	}
	if msg := checkSecret(cfg.String("secret", "")); msg != "" {
		ds = append(ds, core.DiagError("secret", "%s", msg))
	}
	return ds
}

// key returns the key id and secret of cfg, or a configuration error.
func key(cfg core.Config) (string, []byte, error) {
	id, secret := cfg.String("key_id", ""), cfg.String("secret", "")
	if msg := checkKeyID(id); msg != "" {
		return "", nil, core.Errorf(core.KindConfig, "key_id: %s", msg)
	}
	if msg := checkSecret(secret); msg != "" {
		return "", nil, core.Errorf(core.KindConfig, "secret: %s", msg)
	}
	return id, []byte(secret), nil
}

// Login implements core.Scheme. There is nothing to obtain from a server: it
// checks the configuration and returns a credential with PerRequest set, no
// headers, no expiry, and the key id as its Token. The key id is public (it
// travels in every Authorization header) and authenticates nothing on its
// own: `authx token` shows which key a profile signs with. The secret stays
// in the profile's configuration, never in the cached credential, so a
// rotated secret takes effect without a new login.
func (s *Scheme) Login(_ context.Context, req core.LoginRequest) (*core.Credential, error) {
	keyID, _, err := key(req.Config)
	if err != nil {
		return nil, err
	}
	return &core.Credential{Token: keyID, PerRequest: true}, nil
}

// Apply implements core.Applier: it dates the request with s.Now, draws a
// nonce from s.Rand, and returns X-Authx-Date, X-Authx-Nonce,
// X-Content-SHA256 (from req.Request.BodySHA256) and Authorization. It
// keeps no state: the result's State is nil.
func (s *Scheme) Apply(_ context.Context, req core.ApplyRequest) (*core.ApplyResult, error) {
	keyID, secret, err := key(req.Config)
	if err != nil {
		return nil, err
	}
	if len(req.Request.BodySHA256) != sha256.Size {
		return nil, core.Errorf(core.KindPlugin, "authx sent no SHA-256 of the request body; this authx is too old for request signing")
	}
	u, err := url.Parse(req.Request.URL)
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "%s: the URL does not parse, so the request cannot be signed", req.Request.Method)
	}
	nonce, err := s.nonce()
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "drawing a nonce")
	}
	date := s.now().UTC().Format(DateFormat)
	digest := hex.EncodeToString(req.Request.BodySHA256)
	c, err := NewCanonical(req.Request.Method, u, date, nonce, digest)
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "cannot sign the request: %v", err)
	}
	return &core.ApplyResult{Headers: []core.Header{
		{Name: HeaderDate, Value: date},
		{Name: HeaderNonce, Value: nonce},
		{Name: HeaderContentSHA256, Value: digest},
		{Name: "Authorization", Value: Authorization(keyID, Signature(secret, c))},
	}}, nil
}

func (s *Scheme) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheme) nonce() (string, error) {
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

// HandleChallenge implements core.ChallengeHandler. Every answer is
// DecisionFail with a one-line diagnosis built from the verifier's reason
// (see Rejection): a new signature would be refused for the same reason, a
// wrong clock included until it is fixed, and a replay means the first copy
// of the request may already have been acted on.
func (s *Scheme) HandleChallenge(_ context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: diagnose(req)}, nil
}

func diagnose(req core.ChallengeRequest) string {
	keyID := req.Config.String("key_id", "")
	if req.Response.Status == http.StatusForbidden {
		return fmt.Sprintf("the server accepted the signature of key id %q but refuses it access to %s (HTTP 403)", keyID, redact.RawURL(req.Request.URL))
	}
	rej, ok := rejectionOf(req.Response)
	if !ok {
		return fmt.Sprintf("the server refused the request (HTTP %d) without an %s reason: is it running the hmac verifier?", req.Response.Status, Algorithm)
	}
	switch rej.Reason {
	case ReasonClockSkew:
		return skewDiagnosis(req, rej)
	case ReasonReplay:
		return "the server had already accepted a request with this nonce: something between authx and the server sent the signed request twice, so it may have been acted on; not retried"
	case ReasonBodyMismatch:
		return "the body the server received does not match the SHA-256 authx signed: something between them (a proxy, a compressing gateway) changed it; a new signature would not help"
	case ReasonBadSignature:
		return signatureDiagnosis(keyID, req, rej)
	case ReasonUnknownKey:
		return fmt.Sprintf("the server does not know key id %q: check the profile's key_id, or have the key registered with the server", keyID)
	case ReasonMissingSignature:
		return "the server received no " + Algorithm + " signature: a proxy between authx and the server may drop the Authorization header"
	default: // malformed_request, or a reason from a newer verifier
		return fmt.Sprintf("the server refused the signature (%s): %s", printable(string(rej.Reason), 40), printable(rej.Message, 200))
	}
}

// rejectionOf reads the verifier's reason from the error parameter of
// WWW-Authenticate and the rest from the JSON body, which may be cut short.
func rejectionOf(resp core.HTTPResponse) (Rejection, bool) {
	var rej Rejection
	json.Unmarshal(resp.BodyPrefix, &rej) // best effort: the prefix may be truncated
	if c, ok := httpauth.Find(httpauth.ParseHeader(resp.Header, "WWW-Authenticate"), Algorithm); ok && c.Params["error"] != "" {
		rej.Reason = Reason(c.Params["error"])
	}
	return rej, rej.Reason != ""
}

// skewDiagnosis says how far this machine's clock is from the server's.
func skewDiagnosis(req core.ChallengeRequest, rej Rejection) string {
	const fix = "fix this machine's clock (e.g. enable NTP) and run again: until then every new signature is refused too"
	signed, err1 := time.Parse(DateFormat, req.Request.Header.Get(HeaderDate))
	server, err2 := time.Parse(DateFormat, rej.ServerTime)
	if err2 != nil {
		server, err2 = http.ParseTime(req.Response.Header.Get("Date"))
	}
	if err1 != nil || err2 != nil {
		return "the server refused the signature's time as too far from its clock; " + fix
	}
	off := signed.Sub(server)
	dir := "ahead of"
	if off < 0 {
		off, dir = -off, "behind"
	}
	return fmt.Sprintf("this machine's clock is %s %s the server's, outside the verifier's window; %s", off.Round(time.Second), dir, fix)
}

// signatureDiagnosis compares what authx signed with the canonical string
// the server computed, to tell a wrong secret from a request altered on the
// way.
func signatureDiagnosis(keyID string, req core.ChallengeRequest, rej Rejection) string {
	const generic = "the server computed a different signature for key id %q: the secret differs from the server's key, or something between authx and the server changed the method, path or query; a new signature would not help"
	u, err := url.Parse(req.Request.URL)
	if err != nil || rej.Canonical == "" {
		return fmt.Sprintf(generic, keyID)
	}
	h := req.Request.Header
	ours, err := NewCanonical(req.Request.Method, u, h.Get(HeaderDate), h.Get(HeaderNonce), h.Get(HeaderContentSHA256))
	if err != nil {
		return fmt.Sprintf(generic, keyID)
	}
	theirs := strings.Split(rej.Canonical, "\n")
	names := []string{"algorithm", "method", "path", "query", "date", "nonce", "body digest"}
	for i, line := range strings.Split(ours.String(), "\n") {
		if i < len(theirs) && theirs[i] == line {
			continue
		}
		switch names[i] {
		case "method", "path":
			got := ""
			if i < len(theirs) {
				got = theirs[i]
			}
			return fmt.Sprintf("the server saw %s %s where authx signed %s: something between them rewrites requests; a new signature would not help",
				names[i], printable(got, 100), printable(line, 100))
		default:
			return fmt.Sprintf("the server saw a different %s than authx signed: something between them rewrites requests; a new signature would not help", names[i])
		}
	}
	if len(theirs) != 7 {
		return fmt.Sprintf(generic, keyID)
	}
	return fmt.Sprintf("the server signed the same content with a different key: the secret for key id %q does not match the server's (rotated on one side only?); a new signature would not help", keyID)
}

// printable makes server-provided text safe for one terminal line: control
// characters become '?', and it is cut at max bytes.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}
