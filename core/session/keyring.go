package session

import (
	"errors"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/keystore"
)

// useKeyring makes a store: keyring profile's cache keep its secrets in
// the OS keyring (service keystore.Service, one item per identity), the
// lock and a stub without secrets staying in the cache directory. An
// unreachable keyring falls back to the file store with one warning, or
// fails (exit 17) with store_fallback: fail.
func (s *Session) useKeyring(p *config.Profile) {
	if p.Store != config.StoreKeyring || s.Store == nil {
		return
	}
	s.Store.Vault = KeyringVault()
	s.Store.VaultFallback = p.StoreFallback != config.FallbackFail
	s.Store.Notice = func(msg string) { s.warn("%s", msg) }
}

// KeyringVault returns the OS keyring's items of service keystore.Service
// as a cache.Vault: what a store: keyring profile's cache keeps its
// entries in (and what forgets the items of a profile that is no longer
// in the config).
func KeyringVault() cache.Vault { return keyringVault{keystore.New(keystore.Service)} }

// keyringVault is a keystore.Keyring as a cache.Vault: its errors carry the
// cache's classification.
type keyringVault struct{ k *keystore.Keyring }

func (v keyringVault) Get(account string) ([]byte, error) {
	data, err := v.k.Get(account)
	return data, vaultErr(err)
}

func (v keyringVault) Set(account string, data []byte) error {
	return vaultErr(v.k.Set(account, data))
}

func (v keyringVault) Delete(account string) error { return vaultErr(v.k.Delete(account)) }

// vaultErr marks err with cache.ErrVaultNotFound or ErrVaultUnavailable.
func vaultErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keystore.ErrNotFound):
		return classified{err, cache.ErrVaultNotFound}
	case errors.Is(err, keystore.ErrUnavailable):
		return classified{err, cache.ErrVaultUnavailable}
	}
	return err
}

type classified struct{ err, class error }

func (c classified) Error() string   { return c.err.Error() }
func (c classified) Unwrap() []error { return []error{c.err, c.class} }

// boundTTL gives a credential without an expiry of its own the profile's
// cache_ttl, so that no store serves it longer.
func (s *Session) boundTTL(cred *core.Credential) {
	if ttl := s.Profile.CacheTTL; ttl > 0 && cred != nil && cred.ExpiresAt.IsZero() {
		cred.ExpiresAt = s.now().Add(ttl).UTC()
	}
}
