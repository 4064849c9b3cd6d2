//go:build linux

package keystore

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Without a session bus the keyring is unavailable at once: no D-Bus
// library call, so no dbus-launch either.
func TestNoSessionBusIsUnavailable(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	_, err := New("svc").Get("acct")
	if !errors.Is(err, ErrUnavailable) || err.Error() != "reading svc/acct in the keyring: no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)" {
		t.Fatalf("Get = %v", err)
	}
}

// A bus that accepts the connection and never answers (a hung daemon, or
// a collection waiting for its unlock prompt) costs the timeout, not a
// hang.
func TestSilentBusTimesOut(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
	k := &Keyring{Service: "svc", Timeout: 300 * time.Millisecond}
	start := time.Now()
	err = k.Set("acct", []byte("s3cret-value"))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Set took %s", d)
	}
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 300ms") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Set = %v", err)
	}
}
