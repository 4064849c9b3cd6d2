package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/cache/redisvault"
	"github.com/authx/authx/core/config"
)

// useShared puts a profile of a shared store (stores: NAME, docs/stores.md)
// behind its local cache: the directory keeps a copy that is served while
// fresh, and the shared store is opened (its key resolved, Redis
// connected) only when that copy is missing or due. An unavailable shared
// store makes the session go on with the directory alone, with one
// warning, or fail (exit 17) with store_fallback: fail.
func (s *Session) useShared(f *config.File, p *config.Profile) {
	st, ok := f.Stores[p.Store]
	if !ok || s.Store == nil {
		return
	}
	s.shared = &lazyShared{open: func() (*redisvault.Vault, error) {
		return redisvault.FromConfig(context.Background(), p.Store, st, s.Secrets.Resolve)
	}}
	s.Store.Shared = s.shared
	s.Store.VaultName = p.Store
	s.Store.VaultFallback = p.StoreFallback != config.FallbackFail
	s.Store.Notice = func(msg string) { s.warn("%s", msg) }
}

// lazyShared is a shared store opened on its first use: a command served
// from the local copy never resolves the store's key nor connects. An
// error opening it (a key that does not resolve) is every call's error.
type lazyShared struct {
	open func() (*redisvault.Vault, error)

	once sync.Once
	v    *redisvault.Vault
	err  error
}

func (l *lazyShared) vault() (*redisvault.Vault, error) {
	l.once.Do(func() { l.v, l.err = l.open() })
	return l.v, l.err
}

func (l *lazyShared) Get(account string) ([]byte, error) {
	v, err := l.vault()
	if err != nil {
		return nil, err
	}
	return v.Get(account)
}

func (l *lazyShared) Set(account string, data []byte) error {
	return l.SetUntil(account, data, time.Time{})
}

func (l *lazyShared) SetUntil(account string, data []byte, until time.Time) error {
	v, err := l.vault()
	if err != nil {
		return err
	}
	return v.SetUntil(account, data, until)
}

func (l *lazyShared) Delete(account string) error {
	v, err := l.vault()
	if err != nil {
		return err
	}
	return v.Delete(account)
}

func (l *lazyShared) NameKey() ([]byte, error) {
	v, err := l.vault()
	if err != nil {
		return nil, err
	}
	return v.NameKey()
}

func (l *lazyShared) List(prefix string) ([]string, error) {
	v, err := l.vault()
	if err != nil {
		return nil, err
	}
	return v.List(prefix)
}

func (l *lazyShared) LockEntry(ctx context.Context, account string, wait time.Duration) (func() error, error) {
	v, err := l.vault()
	if err != nil {
		return nil, err
	}
	return v.LockEntry(ctx, account, wait)
}

// close closes the store's connections if it was opened; a call after it
// finds the store closed.
func (l *lazyShared) close() {
	if l == nil {
		return
	}
	l.once.Do(func() { l.err = errClosed })
	if l.v != nil {
		l.v.Close()
	}
}

var errClosed = fmt.Errorf("shared store closed: %w", cache.ErrVaultUnavailable)

var _ cache.Shared = (*lazyShared)(nil)
