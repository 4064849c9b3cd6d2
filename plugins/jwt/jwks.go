package jwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/redact"
)

// JWKS caching bounds: a document without Cache-Control max-age is kept
// defaultJWKSTTL; no document is kept longer than maxJWKSTTL. jwksTimeout
// bounds a fetch by the default client.
const (
	defaultJWKSTTL = 5 * time.Minute
	maxJWKSTTL     = 24 * time.Hour
	jwksTimeout    = 10 * time.Second
	// jwksRefetchInterval bounds refetches for an unknown kid: at most one
	// per URL in this time (the cache file records the last), so that
	// tokens with made-up kids cannot make authx hammer the issuer.
	jwksRefetchInterval = 30 * time.Second
)

// jwk holds the RFC 7517/7518 members authx reads. Private members (d, p,
// q, ...) are ignored: only the public part of a key is used, except for
// "oct" keys, whose k is the shared secret.
type jwk struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use"`
	Alg    string   `json:"alg"`
	KeyOps []string `json:"key_ops"`
	Crv    string   `json:"crv"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	K      string   `json:"k"`
}

// errNotForSigning marks a JWK that is valid but not meant for signature
// verification ("use":"enc", an encryption "alg", another kty or curve). A
// JWKS skips such keys silently.
var errNotForSigning = errors.New("not a signature verification key")

// parseJWKSet reads a JWKS ({"keys":[...]}) or a single JWK. A JWKS keeps
// the keys it can use and skips the others; it fails only when no key is
// usable. A single JWK must be usable. The caller classifies the error.
func parseJWKSet(data []byte) ([]verifyKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("the JWKS is not a JSON object with a keys array")
	}
	if doc.Keys == nil {
		k, err := parseJWK(data)
		if err != nil {
			return nil, fmt.Errorf("JWK: %v", err)
		}
		return []verifyKey{k}, nil
	}
	var keys []verifyKey
	var firstErr error
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw)
		switch {
		case err == nil:
			keys = append(keys, k)
		case firstErr == nil && !errors.Is(err, errNotForSigning):
			firstErr = fmt.Errorf("keys[%d]: %w", i, err)
		}
	}
	if len(keys) == 0 {
		if firstErr != nil {
			return nil, fmt.Errorf("the JWKS has no usable signature key (%v)", firstErr)
		}
		return nil, fmt.Errorf("the JWKS has no signature verification key")
	}
	return keys, nil
}

// parseJWK reads one JWK as a verification key. "use" other than "sig",
// "key_ops" without "verify", and unknown kty/crv/alg give errNotForSigning.
// A JWK "alg" binds the key to that algorithm alone.
func parseJWK(data []byte) (verifyKey, error) {
	var j jwk
	if err := json.Unmarshal(data, &j); err != nil {
		return verifyKey{}, fmt.Errorf("not a JWK object: %v", err)
	}
	if j.Use != "" && j.Use != "sig" {
		return verifyKey{}, fmt.Errorf("use %q: %w", j.Use, errNotForSigning)
	}
	if j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify") {
		return verifyKey{}, fmt.Errorf("key_ops lacks verify: %w", errNotForSigning)
	}
	if j.Alg != "" && !knownAlg(j.Alg) {
		return verifyKey{}, fmt.Errorf("alg %q: %w", j.Alg, errNotForSigning)
	}
	k, err := j.key()
	if err != nil {
		return verifyKey{}, err
	}
	if j.Alg != "" {
		return k.restrict(j.Alg)
	}
	return k, nil
}

// key builds the verification key of j from its kty-specific members.
func (j jwk) key() (verifyKey, error) {
	switch j.Kty {
	case "RSA":
		return j.rsaKey()
	case "EC":
		return j.ecKey()
	case "OKP":
		if j.Crv != "Ed25519" {
			return verifyKey{}, fmt.Errorf("crv %q: %w", j.Crv, errNotForSigning)
		}
		x, err := b64member("x", j.X)
		if err != nil {
			return verifyKey{}, err
		}
		return publicKey(ed25519.PublicKey(x), j.Kid)
	case "oct":
		k, err := b64member("k", j.K)
		if err != nil {
			return verifyKey{}, err
		}
		return hmacKey(k, j.Kid)
	case "":
		return verifyKey{}, fmt.Errorf("kty is missing")
	}
	return verifyKey{}, fmt.Errorf("kty %q: %w", j.Kty, errNotForSigning)
}

// rsaKey reads the modulus n and exponent e of an RSA JWK (RFC 7518 §6.3.1).
func (j jwk) rsaKey() (verifyKey, error) {
	n, err := b64member("n", j.N)
	if err != nil {
		return verifyKey{}, err
	}
	e, err := b64member("e", j.E)
	if err != nil {
		return verifyKey{}, err
	}
	exp := new(big.Int).SetBytes(e)
	if len(e) > 4 || exp.Int64() < 3 {
		return verifyKey{}, fmt.Errorf("RSA exponent e is out of range")
	}
	return publicKey(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, j.Kid)
}

// ecKey reads the point x, y of an EC JWK (RFC 7518 §6.2.1), which must
// be full-length and on the curve.
func (j jwk) ecKey() (verifyKey, error) {
	c, ok := curveByName[j.Crv]
	if !ok {
		return verifyKey{}, fmt.Errorf("crv %q: %w", j.Crv, errNotForSigning)
	}
	x, err := b64member("x", j.X)
	if err != nil {
		return verifyKey{}, err
	}
	y, err := b64member("y", j.Y)
	if err != nil {
		return verifyKey{}, err
	}
	if len(x) != c.size || len(y) != c.size {
		return verifyKey{}, fmt.Errorf("%s coordinates must be %d bytes each", j.Crv, c.size)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(c.curve, append(append([]byte{4}, x...), y...))
	if err != nil {
		return verifyKey{}, fmt.Errorf("the EC point is invalid: %v", err)
	}
	return publicKey(pub, j.Kid)
}

// b64member decodes the base64url JWK member name; it must not be empty.
// Padding, which some JWKS publishers add, is tolerated. The message names
// the member, never its value.
func b64member(name, v string) ([]byte, error) {
	if v == "" {
		return nil, fmt.Errorf("member %q is missing", name)
	}
	return b64url(fmt.Sprintf("member %q", name), strings.TrimRight(v, "="))
}

// jwksSource fetches a JWKS over HTTP(S) and caches it on disk.
type jwksSource struct {
	url      string
	client   *http.Client
	cacheDir string           // "" = no disk cache
	now      func() time.Time // the cache's clock: real time, not the verification time
	// lastRefetch is this process's last refetch for an unknown kid.
	lastRefetch time.Time
}

// newJWKSSource checks rawURL (https, or http to a loopback host) and
// returns a source fetching with client (nil means one with a jwksTimeout
// timeout) and caching in cacheDir ("" means no disk cache).
func newJWKSSource(rawURL string, client *http.Client, cacheDir string) (*jwksSource, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, core.Errorf(core.KindConfig, "the JWKS URL is not an absolute URL")
	}
	if !secureTransport(u) {
		return nil, core.Errorf(core.KindConfig, "the JWKS URL must use https (plain http only to a loopback address), not %s", u.Scheme)
	}
	if client == nil {
		client = &http.Client{Timeout: jwksTimeout}
	}
	return &jwksSource{url: rawURL, client: client, cacheDir: cacheDir, now: time.Now}, nil
}

// secureTransport reports whether u may carry a secret or fetch keys: it
// uses https, or plain http to a loopback host (a local server, a tunnel).
// Every endpoint the scheme sends secrets to or trusts keys from is held to
// it: JWKS URLs, login_url, refresh_url and token_url.
func secureTransport(u *url.URL) bool {
	return u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())
}

// isLoopback reports whether host is localhost or a loopback IP address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// keys returns the keys of the JWKS: from the disk cache while it is fresh
// unless refresh is set, else fetched (and cached). cached reports whether
// they came from the cache. A refresh (an unknown kid) is recorded in the
// cache: see mayRefetch.
func (s *jwksSource) keys(ctx context.Context, refresh bool) (keys []verifyKey, cached bool, err error) {
	if !refresh {
		if e := s.readCache(); e != nil {
			if keys, err := parseJWKSet(e.JWKS); err == nil {
				return keys, true, nil
			}
		}
	}
	doc, ttl, err := s.fetch(ctx)
	if err != nil {
		return nil, false, err
	}
	keys, err = parseJWKSet(doc)
	if err != nil {
		return nil, false, core.Errorf(core.KindBadAnswer, "JWKS %s: %v", redact.RawURL(s.url), err)
	}
	var refetched time.Time
	if refresh {
		refetched = s.now()
		s.lastRefetch = refetched
	}
	s.writeCache(doc, ttl, refetched)
	return keys, false, nil
}

// mayRefetch reports whether the JWKS may be fetched again for an unknown
// kid: not within jwksRefetchInterval of the last such refetch, by this
// process or another (the cache file says when).
func (s *jwksSource) mayRefetch() bool {
	last := s.lastRefetch
	if e := s.readCache(); e != nil && e.Refetched.After(last) {
		last = e.Refetched
	}
	return last.IsZero() || s.now().Sub(last) >= jwksRefetchInterval
}

// fetch GETs the document and returns it with its cache lifetime. Failures
// are KindNetwork or KindTimeout (no answer) or KindBadAnswer.
func (s *jwksSource) fetch(ctx context.Context) ([]byte, time.Duration, error) {
	where := redact.RawURL(s.url)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, 0, core.Errorf(core.KindConfig, "JWKS %s: %v", where, err)
	}
	req.Header.Set("Accept", "application/json")
	limit := "the time allowed"
	if s.client.Timeout > 0 {
		limit = s.client.Timeout.String()
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, 0, transportError("JWKS", where, limit, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, core.Errorf(core.KindBadAnswer, "JWKS %s: HTTP %d", where, resp.StatusCode)
	}
	doc, err := readBody(resp.Body)
	if err != nil {
		return nil, 0, transportError("JWKS", where, limit, err)
	}
	return doc, cacheTTL(resp.Header.Get("Cache-Control")), nil
}

// cacheTTL reads a Cache-Control header: max-age capped at maxJWKSTTL,
// defaultJWKSTTL without one, 0 (do not cache) for no-store or no-cache.
func cacheTTL(header string) time.Duration {
	ttl := defaultJWKSTTL
	for _, d := range strings.Split(header, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			// An overflowing max-age counts as the largest (RFC 9111 §1.2.2).
			n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
			if (err == nil || errors.Is(err, strconv.ErrRange)) && n >= 0 {
				ttl = time.Duration(min(n, int64(maxJWKSTTL/time.Second))) * time.Second
			}
		}
	}
	return ttl
}

// cacheEntry is the on-disk form of a cached JWKS.
type cacheEntry struct {
	URL     string          `json:"url"`
	Expires time.Time       `json:"expires"`
	JWKS    json.RawMessage `json:"jwks"`
	// Refetched is when the document was last fetched for an unknown kid.
	Refetched time.Time `json:"refetched,omitzero"`
}

// cachePath is <cacheDir>/<sha256 hex of the URL>.json.
func (s *jwksSource) cachePath() string {
	sum := sha256.Sum256([]byte(s.url))
	return filepath.Join(s.cacheDir, hex.EncodeToString(sum[:])+".json")
}

// readCache returns the cache entry while it is fresh, else nil.
func (s *jwksSource) readCache() *cacheEntry {
	if s.cacheDir == "" {
		return nil
	}
	data, err := cache.ReadPrivate(s.cachePath(), maxBody)
	if err != nil {
		return nil
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil || e.URL != s.url || !s.now().Before(e.Expires) || e.Expires.After(s.now().Add(maxJWKSTTL)) {
		return nil
	}
	return &e
}

// writeCache stores doc for ttl (with the time of a refetch for an unknown
// kid, or zero); best effort.
func (s *jwksSource) writeCache(doc []byte, ttl time.Duration, refetched time.Time) {
	if s.cacheDir == "" || ttl <= 0 {
		return
	}
	data, err := json.Marshal(cacheEntry{URL: s.url, Expires: s.now().Add(ttl).UTC(), JWKS: doc, Refetched: refetched.UTC()})
	if err == nil {
		writeCacheFile(s.cachePath(), data)
	}
}

// writeCacheFile writes data to path atomically (temporary file and
// rename), as a 0600 file in a 0700 directory. A cache is best effort: a
// failure to write it is ignored.
func writeCacheFile(path string, data []byte) {
	dir := filepath.Dir(path)
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	f, err := os.CreateTemp(dir, ".cache-*.tmp")
	if err != nil {
		return
	}
	defer os.Remove(f.Name()) // a no-op after a successful rename
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Chmod(f.Name(), 0o600) != nil {
		return
	}
	_ = os.Rename(f.Name(), path)
}
