// Package keystore reaches the operating system's keyring: the Secret
// Service over D-Bus on Linux and the BSDs (GNOME Keyring, KeePassXC,
// KWallet's Secret Service), the macOS Keychain and the Windows Credential
// Manager, through github.com/zalando/go-keyring.
//
// Every call is bounded by a timeout: a keyring that does not answer (a
// locked collection waiting for an unlock prompt nobody sees, a hung D-Bus
// daemon) is an unavailable keyring, not a hang. Errors never hold the
// secret; they name the service and account.
package keystore

import (
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the keyring service under which authx keeps its credential
// cache's entries (store: keyring), one item per profile identity.
const Service = "authx"

// DefaultTimeout bounds one keyring call when Keyring.Timeout is zero. A
// Secret Service answers in milliseconds; a call that takes longer is
// waiting for something that will not come in a script (an unlock prompt).
const DefaultTimeout = 3 * time.Second

// ErrNotFound says the keyring holds no item for the service and account.
var ErrNotFound = errors.New("no such item in the keyring")

// ErrUnavailable is wrapped by every error that says the keyring cannot be
// used now: no D-Bus session, no Secret Service on it, a locked collection,
// a refused unlock, a timeout; or cannot hold this item (too large for the
// macOS Keychain or the Windows Credential Manager).
var ErrUnavailable = errors.New("the keyring is not reachable")

// Keyring is one service of the OS keyring. The zero value is not usable:
// use New. It is safe for concurrent use.
type Keyring struct {
	// Service names the items' service attribute.
	Service string
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
}

// New returns the keyring items of service.
func New(service string) *Keyring { return &Keyring{Service: service} }

// Name names the store for messages and authx status.
func (k *Keyring) Name() string { return "keyring" }

// Get returns the secret stored under account, ErrNotFound when there is
// none, or an error wrapping ErrUnavailable.
func (k *Keyring) Get(account string) ([]byte, error) {
	var s string
	err := k.call("reading", account, func() (err error) {
		s, err = keyring.Get(k.Service, account)
		return err
	})
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// Set stores data under account, replacing what was there.
func (k *Keyring) Set(account string, data []byte) error {
	return k.call("writing", account, func() error { return keyring.Set(k.Service, account, string(data)) })
}

// Delete removes the item of account; an absent item is not an error.
func (k *Keyring) Delete(account string) error {
	err := k.call("deleting", account, func() error { return keyring.Delete(k.Service, account) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// call runs f within the timeout, classifying its error. A call that
// times out is left running in its goroutine: the D-Bus library has no
// way to cancel it, and the process gives up on the keyring.
func (k *Keyring) call(doing, account string, f func() error) error {
	if err := reachable(); err != nil {
		return &Error{Doing: doing, Service: k.Service, Account: account, Err: err, unavailable: true}
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case err = <-done:
	case <-t.C:
		err = fmt.Errorf("no answer within %s (a locked keyring waiting for its unlock prompt?)", timeout)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		// The macOS Keychain and the Windows Credential Manager hold a few
		// KiB per item: this keyring cannot be used for it.
		return &Error{Doing: doing, Service: k.Service, Account: account, Err: errors.New("the item is too large for this keyring"), unavailable: true}
	}
	return &Error{Doing: doing, Service: k.Service, Account: account, Err: err, unavailable: true}
}

// Error is a failed keyring call. Its text names the service and account,
// never the secret.
type Error struct {
	Doing            string // "reading", "writing", "deleting"
	Service, Account string
	Err              error
	unavailable      bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s/%s in the keyring: %v", e.Doing, e.Service, e.Account, e.Err)
}

func (e *Error) Unwrap() []error {
	if e.unavailable {
		return []error{e.Err, ErrUnavailable}
	}
	return []error{e.Err}
}
