package redisvault

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"
)

// The bounds of what a Vault reads from Redis, whatever the server says:
// go-redis allocates what a reply announces before reading it, so that a
// hostile server (or one in the middle of a redis:// link) announcing a
// string of terabytes would kill the process.
const (
	// maxBulk bounds a string of a reply: an entry (GETRANGE's MaxEntry+1
	// bytes), a key.
	maxBulk = MaxEntry + 1
	// maxElems bounds the elements an aggregate reply announces (a SCAN's
	// keys, a cluster's slots).
	maxElems = 1 << 16
	// maxLine bounds a line of a reply (an error, a number).
	maxLine = 64 << 10
	// maxReply bounds what is read after a command is written: its reply.
	maxReply = 64 << 20
)

var errHugeReply = errors.New("the server's reply is larger than authx reads (a hostile or broken Redis)")

// dialer returns the Vault's dialer: go-redis' (TCP, then TLS with tlsConf
// when not nil), with every connection's reads bounded (boundedConn).
func dialer(timeout time.Duration, tlsConf *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		var c net.Conn
		var err error
		if tlsConf == nil {
			c, err = nd.DialContext(ctx, network, addr)
		} else {
			c, err = (&tls.Dialer{NetDialer: nd, Config: tlsConf}).DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		bc := &boundedConn{Conn: c}
		if sc, ok := c.(syscall.Conn); ok { // TCP: go-redis checks a pooled connection's socket before use
			return boundedSysConn{bc, sc}, nil
		}
		return bc, nil
	}
}

// boundedSysConn is a boundedConn over a connection that gives its
// socket (TCP; not TLS), which go-redis peeks at to drop a pooled
// connection that the server closed.
type boundedSysConn struct {
	*boundedConn
	sc syscall.Conn
}

func (c boundedSysConn) SyscallConn() (syscall.RawConn, error) { return c.sc.SyscallConn() }

// boundedConn is a connection to Redis whose reads fail (errHugeReply)
// once the server announces a string longer than maxBulk, an aggregate of
// more than maxElems elements, sends a line longer than maxLine, or more
// than maxReply bytes since the client last wrote. It follows the RESP
// stream (RESP2 and RESP3) only as far as needed: lines, and the bodies
// of length-prefixed strings, which it skips.
type boundedConn struct {
	net.Conn
	scan respScan
}

func (c *boundedConn) Write(p []byte) (int, error) {
	c.scan.sinceWrite = 0
	return c.Conn.Write(p)
}

func (c *boundedConn) Read(p []byte) (int, error) {
	if c.scan.err != nil {
		return 0, c.scan.err
	}
	n, err := c.Conn.Read(p)
	if serr := c.scan.feed(p[:n]); serr != nil {
		return 0, serr // nothing of it reaches go-redis, which drops the connection
	}
	return n, err
}

// respScan follows a RESP stream byte by byte.
type respScan struct {
	sinceWrite int
	skip       int    // bytes of a string's body (and its CRLF) still to come
	line       []byte // the current line's first bytes: its type and length
	lineLen    int
	err        error
}

// feed scans b, the next bytes of the stream, and returns errHugeReply
// when they break a bound.
func (s *respScan) feed(b []byte) error {
	s.sinceWrite += len(b)
	if s.sinceWrite > maxReply {
		s.err = errHugeReply
		return s.err
	}
	for len(b) > 0 {
		if s.skip > 0 {
			n := min(s.skip, len(b))
			s.skip -= n
			b = b[n:]
			continue
		}
		c := b[0]
		b = b[1:]
		if c == '\n' {
			s.endLine()
			if s.err != nil {
				return s.err
			}
			continue
		}
		s.lineLen++
		if s.lineLen > maxLine {
			s.err = errHugeReply
			return s.err
		}
		if len(s.line) < 24 {
			s.line = append(s.line, c)
		}
	}
	return nil
}

// endLine checks the line just ended: a length-prefixed string's body is
// skipped, an aggregate's or a string's announced size bounded.
func (s *respScan) endLine() {
	line, long := s.line, s.lineLen > len(s.line)
	s.line, s.lineLen = s.line[:0], 0
	if !long && len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) < 2 {
		return
	}
	n := 0
	for _, d := range line[1:] {
		if d < '0' || d > '9' { // -1 (a null), a streamed "?", not a length: go-redis judges it
			return
		}
		n = min(10*n+int(d-'0'), maxReply+1)
	}
	if long { // more digits than a line holds here
		n = maxReply + 1
	}
	switch line[0] {
	case '$', '=', '!', ';': // strings, verbatim strings, blob errors, chunks
		if n > maxBulk {
			s.err = errHugeReply
			return
		}
		s.skip = n + 2
	case '*', '%', '~', '>', '|': // arrays, maps, sets, pushes, attributes
		if n > maxElems {
			s.err = errHugeReply
		}
	}
}
