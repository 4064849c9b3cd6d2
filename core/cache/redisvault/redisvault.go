// Package redisvault is a cache.Vault on Redis: the entries of a shared
// store (`stores: {NAME: {type: redis, ...}}`, docs/stores.md), sealed
// (core/sealed) before they leave the process, and a lock per entry for
// single-flight across machines.
//
// Keys are derived from the cache entry's name (the profile's name and the
// keyed hash of its identity, never a secret): PREFIX "entry:" NAME holds
// the sealed entry, PREFIX "lock:" NAME the lock, and PREFIX "unlocked:"
// NAME is the channel on which a released lock is announced.
//
// Every call is bounded by Options.Timeout; an error saying that Redis
// cannot be used now wraps cache.ErrVaultUnavailable.
package redisvault

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/sealed"
)

// DefaultTimeout bounds every call of a Vault whose Options give none.
const DefaultTimeout = 2 * time.Second

// DefaultPrefix starts every key a Vault whose Options give none writes.
const DefaultPrefix = "authx:"

// MaxEntry bounds what Get reads of an entry: a larger one is a miss.
const MaxEntry = 1 << 20

// Options configure a Vault.
type Options struct {
	// URL is redis://[user[:password]@]host[:port][/db] or rediss:// for
	// TLS (verified against the system roots).
	URL string
	// Password, when not empty, replaces the URL's (the resolved value
	// of a secret reference).
	Password string
	// Box seals every entry before it is written and opens it when read.
	Box *sealed.Box
	// Timeout bounds every call: connecting, writing, reading, waiting
	// for a pooled connection. Zero means DefaultTimeout.
	Timeout time.Duration
	// Prefix starts every key; empty means DefaultPrefix.
	Prefix string
	// PollMax bounds the interval at which Lock polls a held lock (for a
	// holder that died, which announces no release); zero means
	// DefaultPollMax.
	PollMax time.Duration
}

// DefaultPollMax is the PollMax of Options that give none.
const DefaultPollMax = 250 * time.Millisecond

// Vault keeps sealed cache entries in Redis. It is safe for concurrent use;
// Close releases its connections.
type Vault struct {
	client  *redis.Client
	box     *sealed.Box
	addr    string // for errors: host:port, never the URL's password
	prefix  string
	timeout time.Duration
	pollMax time.Duration

	nkMu sync.Mutex // guards nk
	nk   []byte     // the key for entry names, once read (NameKey)
}

// ParseURL checks a store's url: a redis:// or rediss:// URL that go-redis
// can use. Its error is one line and never holds the URL's password.
func ParseURL(raw string) (*redis.Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("url: not a URL (expected redis://HOST:PORT or rediss://HOST:PORT)")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("url: scheme %q: expected redis:// or rediss:// (TLS)", u.Scheme)
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		u.User = nil
		return nil, fmt.Errorf("url %s: not a usable Redis URL (host, port and database number expected)", u.Redacted())
	}
	return o, nil
}

// New returns a Vault on the Redis of o.URL. It does not connect: the first
// call does.
func New(o Options) (*Vault, error) {
	if o.Box == nil {
		return nil, errors.New("redis store: no sealing key")
	}
	ro, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Password != "" {
		ro.Password = o.Password
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PollMax <= 0 {
		o.PollMax = DefaultPollMax
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, ro.PoolTimeout = o.Timeout, o.Timeout, o.Timeout, o.Timeout
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = -1 // one attempt: the bound is the bound
	ro.DialerRetries = 1
	ro.DisableIdentity = true
	return &Vault{client: redis.NewClient(ro), box: o.Box, addr: ro.Addr, prefix: o.Prefix, timeout: o.Timeout, pollMax: o.PollMax}, nil
}

// Close closes the Vault's connections.
func (v *Vault) Close() error { return v.client.Close() }

func (v *Vault) entryKey(account string) string     { return v.prefix + "entry:" + account }
func (v *Vault) lockKey(account string) string      { return v.prefix + "lock:" + account }
func (v *Vault) unlockedChan(account string) string { return v.prefix + "unlocked:" + account }

// ctx returns a context bounded by the Vault's timeout.
func (v *Vault) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), v.timeout)
}

// unavailable wraps a Redis error of op as cache.ErrVaultUnavailable.
func (v *Vault) unavailable(op string, err error) error {
	return unavailableError{fmt.Errorf("redis %s: %s: %w", v.addr, op, err)}
}

type unavailableError struct{ err error }

func (e unavailableError) Error() string   { return e.err.Error() }
func (e unavailableError) Unwrap() []error { return []error{e.err, cache.ErrVaultUnavailable} }

type notFoundError struct{ err error }

func (e notFoundError) Error() string   { return e.err.Error() }
func (e notFoundError) Unwrap() []error { return []error{e.err, cache.ErrVaultNotFound} }

// Get returns the entry stored under account, opened. A missing entry, one
// larger than MaxEntry, or one that does not open (damaged, sealed under a
// key no longer configured, or copied from another account) is an error
// wrapping cache.ErrVaultNotFound: a miss.
func (v *Vault) Get(account string) ([]byte, error) {
	ctx, cancel := v.ctx()
	defer cancel()
	// GETRANGE bounds the read; a missing key reads as empty, which no
	// sealed entry is.
	blob, err := v.client.GetRange(ctx, v.entryKey(account), 0, MaxEntry).Bytes()
	switch {
	case err != nil:
		return nil, v.unavailable("reading "+account, err)
	case len(blob) == 0:
		return nil, notFoundError{fmt.Errorf("%s: %w", account, cache.ErrVaultNotFound)}
	case len(blob) > MaxEntry:
		return nil, notFoundError{fmt.Errorf("%s: larger than %d bytes", account, MaxEntry)}
	}
	data, err := v.box.Open(account, blob)
	if err != nil {
		return nil, notFoundError{fmt.Errorf("%s: %w", account, err)}
	}
	return data, nil
}

// Set stores data under account, sealed, without expiry.
func (v *Vault) Set(account string, data []byte) error { return v.SetUntil(account, data, time.Time{}) }

// SetUntil stores data under account, sealed, to be dropped by Redis at
// until (zero: never; a past time: at once).
func (v *Vault) SetUntil(account string, data []byte, until time.Time) error {
	var ttl time.Duration
	if !until.IsZero() {
		ttl = max(time.Until(until), time.Millisecond)
	}
	ctx, cancel := v.ctx()
	defer cancel()
	if err := v.client.Set(ctx, v.entryKey(account), v.box.Seal(account, data), ttl).Err(); err != nil {
		return v.unavailable("writing "+account, err)
	}
	return nil
}

// Delete removes the entry of account; an absent one is not an error.
func (v *Vault) Delete(account string) error {
	ctx, cancel := v.ctx()
	defer cancel()
	if err := v.client.Del(ctx, v.entryKey(account)).Err(); err != nil {
		return v.unavailable("removing "+account, err)
	}
	return nil
}

var _ cache.Vault = (*Vault)(nil)
