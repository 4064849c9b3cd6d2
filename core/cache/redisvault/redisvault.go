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
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/sealed"
)

// DefaultTimeout bounds every call of a Vault whose Options give none.
const DefaultTimeout = 2 * time.Second

// DefaultPrefix starts every key a Vault whose Options give none writes.
const DefaultPrefix = "authx:"

// MaxEntry bounds what Get reads of an entry: a larger one is a miss. It
// is the cache's bound on an entry (4 MiB, which the largest valid
// credential fits in), sealed: what one machine stores, another reads.
const MaxEntry = 4<<20 + sealed.Overhead

// Options configure a Vault.
type Options struct {
	// URL is redis://[user[:password]@]host[:port][/db] or rediss:// for
	// TLS (verified against the system roots unless TLS says otherwise).
	// It is empty with Sentinel or Cluster, which name the addresses.
	URL string
	// Username, when not empty, replaces the URL's (a Redis ACL user).
	Username string
	// Password, when not empty, replaces the URL's (the resolved value
	// of a secret reference).
	Password string
	// TLS, when not nil, is the TLS configuration: with a URL (which must
	// then be rediss://) it replaces rediss://'s default, keeping the
	// URL's host as the name verified unless TLS.ServerName gives one;
	// with Sentinel or Cluster it turns TLS on for every connection.
	TLS *tls.Config
	// Sentinel, when not nil, finds the master through Redis Sentinel.
	Sentinel *Sentinel
	// Cluster, when not empty, lists seed nodes (HOST:PORT) of a Redis
	// Cluster.
	Cluster []string
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

// Sentinel says where Redis Sentinel runs and which master it names.
type Sentinel struct {
	// Master is the name the sentinels monitor the master under.
	Master string
	// Addrs are the sentinels, HOST:PORT.
	Addrs []string
	// Username and Password authenticate to the sentinels (empty: none);
	// Options' authenticate to the master.
	Username, Password string
}

// DefaultPollMax is the PollMax of Options that give none.
const DefaultPollMax = 250 * time.Millisecond

// Vault keeps sealed cache entries in Redis. It is safe for concurrent use;
// Close releases its connections.
type Vault struct {
	client  redis.UniversalClient
	box     *sealed.Box
	addr    string // for errors: where Redis is, never a password
	prefix  string
	timeout time.Duration
	pollMax time.Duration

	pollFirst time.Duration // Lock's first poll interval; zero: 10 ms (tests set it)

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
	if u.RawQuery != "" || u.ForceQuery { // go-redis' options, of which only skip_verify would apply
		return nil, errors.New("url: a query (?...) is not supported: Options.Timeout bounds every call, and Options.TLS holds the TLS settings")
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		u.User = nil
		return nil, fmt.Errorf("url %s: not a usable Redis URL (host, port and database number expected)", u.Redacted())
	}
	return o, nil
}

// New returns a Vault on the Redis of o: a single server (o.URL), a
// master found through Sentinel, or a Cluster. It does not connect: the
// first call does.
func New(o Options) (*Vault, error) {
	if o.Box == nil {
		return nil, errors.New("redis store: no sealing key")
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
	uo := &redis.UniversalOptions{
		TLSConfig:   o.TLS,
		DialTimeout: o.Timeout, ReadTimeout: o.Timeout, WriteTimeout: o.Timeout, PoolTimeout: o.Timeout,
		ContextTimeoutEnabled: true,
		// One attempt: the bound is the bound. A cluster still follows
		// MOVED and ASK (up to 3 redirects), within the same bound.
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
		// No CLIENT MAINT_NOTIFICATIONS on each connection: a round trip
		// (and an ACL denial) for a command-line process.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	quietOnce.Do(func() { redis.SetLogger(quiet{}) })
	var addr string
	switch {
	case o.Sentinel != nil && len(o.Cluster) > 0:
		return nil, errors.New("sentinel and cluster: one or the other")
	case (o.Sentinel != nil || len(o.Cluster) > 0) && o.URL != "":
		return nil, errors.New("url: not with sentinel or cluster, which name the addresses")
	case o.Sentinel != nil:
		if o.Sentinel.Master == "" || len(o.Sentinel.Addrs) == 0 {
			return nil, errors.New("sentinel: a master name and the sentinels' addresses are required")
		}
		uo.MasterName, uo.Addrs = o.Sentinel.Master, o.Sentinel.Addrs
		uo.SentinelUsername, uo.SentinelPassword = o.Sentinel.Username, o.Sentinel.Password
		addr = fmt.Sprintf("sentinel %s at %s", o.Sentinel.Master, strings.Join(o.Sentinel.Addrs, ","))
	case len(o.Cluster) > 0:
		uo.Addrs = o.Cluster
		addr = "cluster " + strings.Join(o.Cluster, ",")
	default:
		ro, err := ParseURL(o.URL)
		if err != nil {
			return nil, err
		}
		uo.Addrs, uo.DB, uo.Username, uo.Password = []string{ro.Addr}, ro.DB, ro.Username, ro.Password
		switch {
		case o.TLS == nil:
			uo.TLSConfig = ro.TLSConfig
		case ro.TLSConfig == nil:
			return nil, errors.New("tls: needs a rediss:// url")
		case o.TLS.ServerName == "":
			uo.TLSConfig = o.TLS.Clone()
			uo.TLSConfig.ServerName = ro.TLSConfig.ServerName
		}
		addr = ro.Addr
	}
	if o.Username != "" {
		uo.Username = o.Username
	}
	if o.Password != "" {
		uo.Password = o.Password
	}
	uo.Dialer = dialer(o.Timeout, uo.TLSConfig)
	var client redis.UniversalClient
	switch {
	case o.Sentinel != nil:
		client = redis.NewFailoverClient(uo.Failover())
	case len(o.Cluster) > 0:
		co := uo.Cluster()
		// Every command of a Vault has one key: routed by its slot, with
		// no COMMAND lookup (which go-redis bounds by 5 s of its own, not
		// by Timeout, and which an ACL user would need +command for).
		co.DisableRoutingPolicies = true
		client = redis.NewClusterClient(co)
	default:
		client = redis.NewClient(uo.Simple())
	}
	return &Vault{client: client, box: o.Box, addr: addr, prefix: o.Prefix, timeout: o.Timeout, pollMax: o.PollMax}, nil
}

// quiet drops go-redis' own log lines (a failed dial, a sentinel's new
// master), which would land on authx's stderr: the Vault's errors say
// what matters, once.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

// Close closes the Vault's connections.
func (v *Vault) Close() error { return v.client.Close() }

func (v *Vault) entryKey(account string) string     { return v.prefix + "entry:" + account }
func (v *Vault) lockKey(account string) string      { return v.prefix + "lock:" + account }
func (v *Vault) unlockedChan(account string) string { return v.prefix + "unlocked:" + account }

// ctx returns a context bounded by the Vault's timeout.
func (v *Vault) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), v.timeout)
}

// unavailable wraps a Redis error of op as cache.ErrVaultUnavailable. Its
// text, which may come from the server (an error reply), is one line
// without control characters (a hostile server's terminal escapes land on
// stderr otherwise), at most maxErrText bytes of it.
//
// Redis refusing authx's user (WRONGPASS, NOAUTH: a wrong or missing
// password; NOPERM: a command or key its ACL does not allow) is not an
// outage to work around but settings to fix: that error does not wrap
// cache.ErrVaultUnavailable, so that no store falls back from it.
func (v *Vault) unavailable(op string, err error) error {
	text := redact.OneLine(err.Error())
	if len(text) > maxErrText {
		text = strings.ToValidUTF8(text[:maxErrText], "") + "…"
	}
	msg := fmt.Sprintf("redis %s: %s: %s", v.addr, op, text)
	if refusedUser(err) {
		return fmt.Errorf("%s (check the store's username, password and its user's ACL: docs/fleet.md)", msg)
	}
	return unavailableError{msg, err}
}

// refusedUser reports an error reply that refuses the connection's user.
func refusedUser(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return false
	}
	code, _, _ := strings.Cut(reply.Error(), " ")
	return code == "WRONGPASS" || code == "NOAUTH" || code == "NOPERM"
}

// maxErrText bounds what an error quotes of a Redis error.
const maxErrText = 200

type unavailableError struct {
	msg string
	err error
}

func (e unavailableError) Error() string   { return e.msg }
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
