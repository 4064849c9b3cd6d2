//go:build (dragonfly || freebsd || linux || netbsd || openbsd) && !android

package keystore

import (
	"errors"
	"os"
	"path/filepath"
)

// reachable says at once that there is no D-Bus session bus to ask: no
// DBUS_SESSION_BUS_ADDRESS and no $XDG_RUNTIME_DIR/bus socket. The D-Bus
// library would otherwise try to autolaunch one with dbus-launch, leaving a
// daemon behind.
func reachable() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		if fi, err := os.Stat(filepath.Join(d, "bus")); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return nil
		}
	}
	return errNoSession
}

var errNoSession = errors.New("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)")
