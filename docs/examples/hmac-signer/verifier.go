package hmacsigner

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults of the verifier's options.
const (
	DefaultSkew      = 5 * time.Minute
	DefaultMaxBody   = 10 << 20 // bytes
	DefaultMaxNonces = 100_000
)

// Reason says why the verifier refused a request. It is the "reason" of the
// JSON answer and the error parameter of WWW-Authenticate, so that clients
// can branch on it.
type Reason string

// The reasons. All are answered with 401 Unauthorized but the last two.
const (
	ReasonMissingSignature Reason = "missing_signature" // no AUTHX-HMAC-SHA256 Authorization header
	ReasonMalformed        Reason = "malformed_request" // a signature header or the query does not parse, or the body cannot be read
	ReasonUnknownKey       Reason = "unknown_key"       // KeyId names no key
	ReasonClockSkew        Reason = "clock_skew"        // X-Authx-Date is outside the window around the server's clock
	ReasonReplay           Reason = "replay"            // the nonce was already accepted within the window
	ReasonBodyMismatch     Reason = "body_mismatch"     // the body's SHA-256 is not X-Content-SHA256
	ReasonBadSignature     Reason = "bad_signature"     // method, path, query, headers or secret differ from what was signed

	ReasonBodyTooLarge           Reason = "body_too_large"           // 413: the body exceeds WithMaxBody
	ReasonReplayCheckUnavailable Reason = "replay_check_unavailable" // 503: the NonceStore is full or failed
)

// Rejection is the JSON body of the verifier's refusals. It never holds a
// secret: only what the client sent and the server's clock.
type Rejection struct {
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
	// ServerTime is the verifier's clock in DateFormat, with ReasonClockSkew.
	ServerTime string `json:"server_time,omitempty"`
	// Canonical is the canonical string the verifier computed from the
	// request it received, with ReasonBadSignature, so that the client can
	// tell what changed on the way.
	Canonical string `json:"canonical,omitempty"`

	status int
}

func (r *Rejection) Error() string { return string(r.Reason) + ": " + r.Message }

func reject(reason Reason, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Message: fmt.Sprintf(format, args...), status: http.StatusUnauthorized}
}

// NonceStore remembers the nonces of accepted requests, to refuse replays.
//
// Remember records id until expiry and reports whether it was new: false
// means id is already recorded and not yet expired (a replay). Remember must
// be atomic (two concurrent calls with one id: one true at most) and safe for
// concurrent use. An error refuses the request with 503: the verifier fails
// closed.
//
// The default store lives in memory, per Verify handler; servers running
// several replicas need a shared one (e.g. Redis SET key NX EXAT expiry), or
// a request replayed to another replica goes unnoticed.
type NonceStore interface {
	Remember(ctx context.Context, id string, expiry time.Time) (bool, error)
}

// Option configures Verify.
type Option func(*verifier)

// WithClock sets the verifier's clock; the default is time.Now.
func WithClock(now func() time.Time) Option { return func(v *verifier) { v.now = now } }

// WithSkew sets how far X-Authx-Date may be from the verifier's clock, either
// way; the default is DefaultSkew. Nonces are remembered that long after
// their request's date.
func WithSkew(d time.Duration) Option { return func(v *verifier) { v.skew = d } }

// WithMaxBody bounds the body the verifier reads into memory to check its
// digest; the default is DefaultMaxBody. A larger body is refused with 413.
func WithMaxBody(n int64) Option { return func(v *verifier) { v.maxBody = n } }

// WithMaxNonces bounds the default in-memory NonceStore: once it holds n
// unexpired nonces, requests are refused with 503 until some expire (it
// fails closed rather than forget a nonce that could still be replayed). The
// default is DefaultMaxNonces; size it above the peak number of requests in
// 2×skew.
func WithMaxNonces(n int) Option { return func(v *verifier) { v.maxNonces = n } }

// WithNonceStore replaces the in-memory NonceStore, e.g. with one shared by
// all replicas of the server.
func WithNonceStore(s NonceStore) Option { return func(v *verifier) { v.nonces = s } }

type verifier struct {
	keys      map[string][]byte
	next      http.Handler
	now       func() time.Time
	skew      time.Duration
	maxBody   int64
	maxNonces int
	nonces    NonceStore
}

// Verify returns middleware that passes to next only requests signed, per
// the AUTHX-HMAC-SHA256 format, with one of keys (key id → secret), and
// answers every other request itself: 401 with
// `WWW-Authenticate: AUTHX-HMAC-SHA256 error="<reason>"` and a JSON
// Rejection (413 or 503 in the cases their Reason says).
//
// A request passes when its Authorization header names a known key, its
// X-Authx-Date is within the skew of the verifier's clock, its body (read
// whole, up to the maximum) has the SHA-256 of X-Content-SHA256, the
// signature over the canonical string it recomputes from the request as
// received (method, request-target's path and query, headers) is right
// (compared in constant time), and its nonce was not accepted before. The
// checks run in that order, and a nonce is recorded only for a request that
// passed all the others. next sees the body, fully read and replayable, and
// the key id through KeyID.
//
// The path and query are read from r.RequestURI, so Verify may be mounted
// inside http.StripPrefix; a proxy that rewrites them before the server
// breaks every signature. Verify copies keys, and panics if a secret is
// shorter than MinSecretLen: no authx profile could sign with it.
func Verify(keys map[string][]byte, next http.Handler, opts ...Option) http.Handler {
	v := &verifier{keys: maps.Clone(keys), next: next, now: time.Now, skew: DefaultSkew,
		maxBody: DefaultMaxBody, maxNonces: DefaultMaxNonces}
	for _, o := range opts {
		o(v)
	}
	for id, secret := range v.keys {
		if len(secret) < MinSecretLen {
			panic(fmt.Sprintf("hmacsigner.Verify: the secret of key id %q is shorter than %d bytes", id, MinSecretLen))
		}
	}
	if v.nonces == nil {
		v.nonces = newMemoryNonces(v.maxNonces, v.now)
	}
	return v
}

type keyIDKey struct{}

// KeyID returns the key id whose signature Verify accepted for the request
// of ctx, and false outside a handler behind Verify.
func KeyID(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(keyIDKey{}).(string)
	return id, ok
}

func (v *verifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	keyID, body, rej := v.verify(w, r)
	if rej != nil {
		writeRejection(w, rej)
		return
	}
	r2 := r.WithContext(context.WithValue(r.Context(), keyIDKey{}, keyID))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	v.next.ServeHTTP(w, r2)
}

// verify checks r and returns its key id and body, or why it is refused.
func (v *verifier) verify(w http.ResponseWriter, r *http.Request) (string, []byte, *Rejection) {
	keyID, signature, rej := parseAuthorization(r.Header)
	if rej != nil {
		return "", nil, rej
	}
	secret, ok := v.keys[keyID]
	if !ok {
		return "", nil, reject(ReasonUnknownKey, "key id %q is not known here", keyID)
	}
	date, rej := header(r.Header, HeaderDate)
	if rej != nil {
		return "", nil, rej
	}
	signed, err := time.Parse(DateFormat, date)
	if err != nil || signed.Format(DateFormat) != date {
		return "", nil, reject(ReasonMalformed, "%s %q is not a UTC time like 2026-03-01T12:00:00Z", HeaderDate, date)
	}
	now := v.now().UTC()
	if off := signed.Sub(now); off > v.skew || off < -v.skew {
		dir := "ahead of"
		if off < 0 {
			dir = "behind"
		}
		rej := reject(ReasonClockSkew, "%s %s is %s %s the server's clock (%s); at most %s either way is allowed",
			HeaderDate, date, off.Abs().Round(time.Second), dir, now.Format(DateFormat), v.skew)
		rej.ServerTime = now.Format(DateFormat)
		return "", nil, rej
	}
	nonce, rej := header(r.Header, HeaderNonce)
	if rej != nil {
		return "", nil, rej
	}
	if !isLowerHex(nonce, 32) {
		return "", nil, reject(ReasonMalformed, "%s is not 32 lowercase hex digits", HeaderNonce)
	}
	digest, rej := header(r.Header, HeaderContentSHA256)
	if rej != nil {
		return "", nil, rej
	}
	if !isLowerHex(digest, 64) {
		return "", nil, reject(ReasonMalformed, "%s is not 64 lowercase hex digits", HeaderContentSHA256)
	}
	target, err := requestTarget(r)
	if err != nil {
		return "", nil, reject(ReasonMalformed, "the request target does not parse")
	}
	c, err := NewCanonical(r.Method, target, date, nonce, digest)
	if err != nil {
		return "", nil, reject(ReasonMalformed, "%v", err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, v.maxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return "", nil, &Rejection{Reason: ReasonBodyTooLarge, status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("the body is larger than %d bytes", v.maxBody)}
		}
		return "", nil, &Rejection{Reason: ReasonMalformed, status: http.StatusBadRequest, Message: "the body could not be read"}
	}
	sum := sha256.Sum256(body)
	if !hmac.Equal([]byte(hex.EncodeToString(sum[:])), []byte(digest)) {
		return "", nil, reject(ReasonBodyMismatch, "the body's SHA-256 is not the %s that was signed", HeaderContentSHA256)
	}
	if !hmac.Equal([]byte(Signature(secret, c)), []byte(signature)) {
		rej := reject(ReasonBadSignature, "the signature does not match the request as received; canonical holds what the server signed")
		rej.Canonical = c.String()
		return "", nil, rej
	}
	fresh, err := v.nonces.Remember(r.Context(), keyID+" "+nonce, signed.Add(v.skew))
	if err != nil {
		return "", nil, &Rejection{Reason: ReasonReplayCheckUnavailable, status: http.StatusServiceUnavailable,
			Message: "replays cannot be ruled out right now: " + err.Error()}
	}
	if !fresh {
		return "", nil, reject(ReasonReplay, "nonce %s of key id %q was already used", nonce, keyID)
	}
	return keyID, body, nil
}

// parseAuthorization reads
// `AUTHX-HMAC-SHA256 KeyId=<id>, SignedHeaders=<fixed>, Signature=<b64>`:
// each parameter exactly once, in any order, names case-sensitive.
func parseAuthorization(h http.Header) (keyID, signature string, rej *Rejection) {
	values := h.Values("Authorization")
	if len(values) == 0 {
		return "", "", reject(ReasonMissingSignature, "no Authorization header")
	}
	scheme, rest, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, Algorithm) {
		return "", "", reject(ReasonMissingSignature, "the Authorization header is not %s", Algorithm)
	}
	if len(values) > 1 {
		return "", "", reject(ReasonMalformed, "more than one Authorization header")
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if _, dup := params[name]; !ok || dup || value == "" {
			return "", "", reject(ReasonMalformed, "the Authorization header is not %s KeyId=..., SignedHeaders=..., Signature=...", Algorithm)
		}
		params[name] = value
	}
	keyID, signature = params["KeyId"], params["Signature"]
	if len(params) != 3 || keyID == "" || signature == "" || params["SignedHeaders"] != SignedHeaders {
		return "", "", reject(ReasonMalformed, "the Authorization header must hold exactly KeyId, SignedHeaders=%s and Signature", SignedHeaders)
	}
	return keyID, signature, nil
}

// header returns the single value of a signed header.
func header(h http.Header, name string) (string, *Rejection) {
	switch vs := h.Values(name); len(vs) {
	case 0:
		return "", reject(ReasonMalformed, "no %s header", name)
	case 1:
		return vs[0], nil
	default:
		return "", reject(ReasonMalformed, "more than one %s header", name)
	}
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// requestTarget returns the path and query as the client sent them:
// r.RequestURI when set (middleware may have rewritten r.URL), else r.URL.
func requestTarget(r *http.Request) (*url.URL, error) {
	if r.RequestURI == "" {
		return r.URL, nil
	}
	return url.ParseRequestURI(r.RequestURI)
}

func writeRejection(w http.ResponseWriter, rej *Rejection) {
	h := w.Header()
	if rej.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", fmt.Sprintf("%s error=%q", Algorithm, rej.Reason))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(rej.status)
	json.NewEncoder(w).Encode(rej)
}

// memoryNonces is the default NonceStore: a map bounded by max, with a heap
// of expiries to forget nonces once they can no longer be replayed.
type memoryNonces struct {
	max int
	now func() time.Time

	mu     sync.Mutex
	seen   map[string]struct{}
	expiry expiryHeap
}

// errNoncesFull is the error of a full memoryNonces.
var errNoncesFull = errors.New("the nonce memory is full")

func newMemoryNonces(max int, now func() time.Time) *memoryNonces {
	return &memoryNonces{max: max, now: now, seen: map[string]struct{}{}}
}

// Remember implements NonceStore, first forgetting every nonce that expired
// before now.
func (m *memoryNonces) Remember(_ context.Context, id string, expiry time.Time) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.expiry) > 0 && m.expiry[0].at.Before(now) {
		delete(m.seen, heap.Pop(&m.expiry).(expiring).id)
	}
	if _, ok := m.seen[id]; ok {
		return false, nil
	}
	if len(m.seen) >= m.max {
		return false, errNoncesFull
	}
	m.seen[id] = struct{}{}
	heap.Push(&m.expiry, expiring{id: id, at: expiry})
	return true, nil
}

type expiring struct {
	id string
	at time.Time
}

// expiryHeap is a min-heap of expiries (container/heap).
type expiryHeap []expiring

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiring)) }
func (h *expiryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
