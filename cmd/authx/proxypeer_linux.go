package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// ownerOnly makes l, a loopback TCP listener, hand out only the
// connections of this user's processes: every user of the machine can
// connect to 127.0.0.1, and whoever reaches the proxy uses the
// credential. The kernel tells who owns the connecting socket
// (/proc/net/tcp, the identd way); another user's connection, or one the
// kernel no longer lists, is closed before a byte of it is read, and
// refused reports it.
func ownerOnly(l net.Listener, refused func(format string, args ...any)) net.Listener {
	return &ownerListener{Listener: l, refused: refused, uid: os.Geteuid()}
}

type ownerListener struct {
	net.Listener
	refused func(format string, args ...any)
	uid     int
}

func (l *ownerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client, _ := c.RemoteAddr().(*net.TCPAddr)
		server, _ := c.LocalAddr().(*net.TCPAddr)
		if client == nil || server == nil {
			return c, nil // not TCP: the caller's own checks apply
		}
		uid, err := tcpOwner(client, server)
		if err == nil && uid == l.uid {
			return c, nil
		}
		c.Close()
		if err != nil {
			l.refused("a connection from %s refused: cannot tell whose it is (%v)", client, err)
		} else {
			l.refused("a connection from %s refused: it is uid %d's, and only uid %d may use this proxy", client, uid, l.uid)
		}
	}
}

// tcpOwner returns the uid owning the TCP socket at client connected to
// server, as /proc/net/tcp and /proc/net/tcp6 list it.
func tcpOwner(client, server *net.TCPAddr) (int, error) {
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		uid, err := findOwner(f, client, server)
		f.Close()
		if err == nil {
			return uid, nil
		}
	}
	return 0, errors.New("the kernel does not list the connecting socket")
}

// findOwner reads a /proc/net/tcp table for the socket whose local address
// is client and remote address server, and returns its uid.
func findOwner(r io.Reader, client, server *net.TCPAddr) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), 4096)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || !sameAddr(f[1], client) || !sameAddr(f[2], server) {
			continue
		}
		uid, err := strconv.Atoi(f[7])
		if err != nil {
			return 0, fmt.Errorf("a malformed line in the kernel's socket table")
		}
		return uid, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("not found")
}

// sameAddr reports whether s, an address as /proc/net/tcp prints it (the
// IP as 32-bit words in the host's byte order, in hex, then ":PORT" in
// hex), is a.
func sameAddr(s string, a *net.TCPAddr) bool {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok || (len(ipHex) != 8 && len(ipHex) != 32) {
		return false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil || int(port) != a.Port {
		return false
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil {
		return false
	}
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	return ip.Equal(a.IP)
}
