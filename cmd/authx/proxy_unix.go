//go:build unix

package main

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/authx/authx/core"
)

// listenProxy listens on la. A Unix socket gets mode 0600 in a directory
// of the user's that no one else may write (a missing one is created with
// mode 0700); a stale socket left by a killed proxy is replaced, a live one
// or another file is not.
func listenProxy(la listenAddr) (net.Listener, error) {
	if la.network != "unix" {
		l, err := net.Listen(la.network, la.addr)
		if err != nil {
			return nil, core.Wrap(core.KindConfig, err, "authx proxy cannot listen")
		}
		return l, nil
	}
	if err := privateDir(filepath.Dir(la.addr)); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(la.addr); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, core.Errorf(core.KindConfig, "--listen unix:%s: the file exists and is not a socket", la.addr)
		}
		if c, err := net.Dial("unix", la.addr); err == nil {
			c.Close()
			return nil, core.Errorf(core.KindConfig, "--listen unix:%s: another process listens there", la.addr)
		}
		os.Remove(la.addr) // stale
	}
	old := syscall.Umask(0o177) // the socket is born 0600: no moment when others may connect
	l, err := net.Listen("unix", la.addr)
	syscall.Umask(old)
	if err != nil {
		return nil, core.Wrap(core.KindConfig, err, "authx proxy cannot listen")
	}
	if err := os.Chmod(la.addr, 0o600); err != nil {
		l.Close()
		return nil, core.Wrap(core.KindConfig, err, "authx proxy cannot protect its socket")
	}
	return l, nil
}

// privateDir makes sure dir exists, is the user's and is writable by no
// one else, creating it (mode 0700) when missing.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return core.Errorf(core.KindConfig, "--listen: cannot create the socket's directory %s: %v", dir, errors.Unwrap(err))
	}
	fi, err := os.Lstat(dir) // not a link: its owner could point it elsewhere once the socket is made
	if err != nil {
		return core.Errorf(core.KindConfig, "--listen: %v", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode().Type() == fs.ModeSymlink:
		return core.Errorf(core.KindConfig, "--listen: the socket's directory %s is a symbolic link, which its owner could point elsewhere; name the directory itself", dir)
	case !fi.IsDir():
		return core.Errorf(core.KindConfig, "--listen: %s is not a directory", dir)
	case !ok || int(st.Uid) != os.Getuid():
		return core.Errorf(core.KindConfig, "--listen: the socket's directory %s belongs to another user; use one of your own (e.g. $XDG_RUNTIME_DIR/authx)", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return core.Errorf(core.KindConfig, "--listen: the socket's directory %s is writable by others (mode %04o), who could replace the socket; use one only you can write (chmod 700)", dir, fi.Mode().Perm())
	}
	return nil
}
