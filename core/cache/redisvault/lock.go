package redisvault

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotHeld is what Unlock returns when the lock is no longer its
// caller's: it expired, and another may hold it now.
var ErrNotHeld = errors.New("the Redis lock is no longer held")

// ErrLockWait is what Lock returns when another held the lock for all of
// the wait.
var ErrLockWait = errors.New("another process held the Redis lock for all of the wait")

// unlockScript deletes the lock only when it holds the caller's token, and
// announces the release to the waiters.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	redis.call("DEL", KEYS[1])
	redis.call("PUBLISH", ARGV[2], "1")
	return 1
end
return 0`)

// extendScript resets the lock's TTL only when it holds the caller's token.
var extendScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

// Lock is a held lock of one entry: a Redis key set with NX and a TTL to a
// random token only its holder knows. While held it is extended every
// third of its TTL, so that a slow login keeps it; a holder that dies
// stops extending it and it expires after at most its TTL. The holder
// re-reads the entry after taking it (another may have just stored it).
type Lock struct {
	v       *Vault
	account string
	token   string
	ttl     time.Duration

	stopOnce sync.Once
	stop     chan struct{}
	stopped  chan struct{}
	lost     chan struct{}
}

// TryLock takes the lock of account for ttl (at least 3 ms), or returns
// nil, nil when another holds it.
func (v *Vault) TryLock(account string, ttl time.Duration) (*Lock, error) {
	ttl = max(ttl, 3*time.Millisecond)
	var b [16]byte
	crand.Read(b[:])
	token := hex.EncodeToString(b[:])
	ctx, cancel := v.ctx()
	defer cancel()
	ok, err := v.client.SetNX(ctx, v.lockKey(account), token, ttl).Result()
	if err != nil {
		return nil, v.unavailable("locking "+account, err)
	}
	if !ok {
		return nil, nil
	}
	l := &Lock{v: v, account: account, token: token, ttl: ttl,
		stop: make(chan struct{}), stopped: make(chan struct{}), lost: make(chan struct{})}
	go l.extend()
	return l, nil
}

// Lock takes the lock of account for ttl, waiting up to wait while another
// holds it: woken when the holder releases it (pub/sub), and polling with
// a growing interval (at most PollMax) for a holder that died, whose lock
// expires. It returns ErrLockWait when the wait ends first. With Redis
// unreachable it fails within twice the Vault's timeout. It returns
// ctx's error when ctx ends first.
func (v *Vault) Lock(ctx context.Context, account string, ttl, wait time.Duration) (*Lock, error) {
	deadline := time.Now().Add(wait)
	// Subscribed before the first try, so that no release is missed. A
	// subscription that fails leaves polling.
	sctx, scancel := v.ctx()
	sub := v.client.Subscribe(sctx, v.unlockedChan(account))
	defer sub.Close()
	sub.Receive(sctx) // the confirmation: subscribed from here on
	scancel()
	woken := sub.Channel()
	interval := cmp.Or(v.pollFirst, 10*time.Millisecond)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, err := v.TryLock(account, ttl)
		if l != nil || err != nil {
			return l, err
		}
		sleep := interval + rand.N(interval/2+1)
		if left := time.Until(deadline); left <= 0 {
			return nil, ErrLockWait
		} else if sleep > left {
			sleep = left
		}
		t := time.NewTimer(sleep)
		select {
		case <-woken:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		interval = min(2*interval, v.pollMax)
	}
}

// extend resets the lock's TTL every third of it until Unlock, or until it
// finds the lock taken by another (then Lost is closed).
func (l *Lock) extend() {
	defer close(l.stopped)
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		// Bounded by a third of the TTL too: an extension that outlasts
		// the lock would extend nothing.
		ctx, cancel := context.WithTimeout(context.Background(), min(l.v.timeout, l.ttl/3))
		n, err := extendScript.Run(ctx, l.v.client, []string{l.v.lockKey(l.account)}, l.token, l.ttl.Milliseconds()).Int()
		cancel()
		if err == nil && n == 0 {
			close(l.lost)
			return
		}
		// An unavailable Redis: try again at the next tick; the lock
		// expires meanwhile if it stays so.
	}
}

// stopExtending stops the extension (Unlock does it too).
func (l *Lock) stopExtending() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.stopped
}

// Lost is closed when the holder finds its lock expired and taken by
// another while it still held it: its work is no longer single-flight.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// Unlock releases the lock if it is still the caller's and wakes the
// waiters; otherwise it returns ErrNotHeld and leaves the lock alone.
func (l *Lock) Unlock() error {
	l.stopExtending()
	ctx, cancel := l.v.ctx()
	defer cancel()
	n, err := unlockScript.Run(ctx, l.v.client, []string{l.v.lockKey(l.account)}, l.token, l.v.unlockedChan(l.account)).Int()
	if err != nil {
		return l.v.unavailable("unlocking "+l.account, err)
	}
	if n == 0 {
		return ErrNotHeld
	}
	return nil
}
