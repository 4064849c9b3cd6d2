// Package redistest starts a real redis-server (Debian's) on 127.0.0.1
// for tests: persisting nothing, killed and reaped when the test ends.
// A test skips when redis-server is not installed, and fails instead
// under CI (CI or AUTHX_REQUIRE_IDPTEST=1, set by .ci/run, which installs
// it).
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server started by a test.
type Server struct {
	Addr string // 127.0.0.1:PORT
	t    testing.TB
	args []string
	dial func(addr string) (net.Conn, error)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Require returns the path of the tool name (redis-server, redis-cli),
// skipping t when it is not installed, or failing it under CI.
func Require(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		what := name + " is not installed (Debian package redis-server)"
		if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("%s, and CI or AUTHX_REQUIRE_IDPTEST=1", what)
		}
		t.Skip(what)
	}
	return path
}

// FreePort returns a TCP port of 127.0.0.1 that nothing listens on.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts a redis-server on a free port with the extra arguments and
// waits until it answers PING (or refuses it for want of a password).
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	port := strconv.Itoa(FreePort(t))
	args := append([]string{"--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "warning"}, extra...)
	return Run(t, net.JoinHostPort("127.0.0.1", port), nil, args...)
}

// Run runs redis-server with args (a TLS port, a sentinel's config) and
// waits until the server at addr answers PING (or refuses it for want of
// a password) on a connection from dial (nil: plain TCP).
func Run(t testing.TB, addr string, dial func(addr string) (net.Conn, error), args ...string) *Server {
	t.Helper()
	if dial == nil {
		dial = func(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, time.Second) }
	}
	s := &Server{Addr: addr, t: t, args: args, dial: dial}
	t.Cleanup(s.Kill)
	s.Restart()
	return s
}

// Restart starts the server again with its arguments (after Kill):
// empty, as nothing is persisted. It is a no-op while the server runs.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		select {
		case <-s.done:
		default:
			return
		}
	}
	cmd := exec.Command(Require(s.t, "redis-server"), s.args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := s.dial(s.Addr); err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			fmt.Fprint(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
				return
			}
		}
		select {
		case <-done:
			s.t.Fatalf("redis-server exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server did not answer on %s: %s", s.Addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the server and reaps it.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Stop stops the server (SIGSTOP): it accepts connections and answers
// nothing, as a Redis that hangs. Cont resumes it.
func (s *Server) Stop() { s.signal(syscall.SIGSTOP) }

// Cont resumes a stopped server.
func (s *Server) Cont() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmd.Process.Signal(sig)
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr }

// CLI runs redis-cli --raw against the server and returns its output,
// failing t when redis-cli fails.
func (s *Server) CLI(t testing.TB, args ...string) []byte {
	t.Helper()
	out, ok := s.TryCLI(t, args...)
	if !ok {
		t.Fatalf("redis-cli %s failed: %s", strings.Join(args, " "), out)
	}
	return []byte(out)
}

// TryCLI runs redis-cli --raw against the server, returning its output
// and whether it ran.
func (s *Server) TryCLI(t testing.TB, args ...string) (string, bool) {
	t.Helper()
	bin := Require(t, "redis-cli")
	host, port, _ := net.SplitHostPort(s.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-h", host, "-p", port, "--raw"}, args...)...).Output()
	return string(out), err == nil
}

// Dump returns every key of the server and its value as redis-cli shows
// them (strings; other types by their type name): what someone with
// access to Redis sees.
func (s *Server) Dump(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, k := range strings.Fields(string(s.CLI(t, "--scan"))) {
		b.WriteString(k + "\n")
		if typ := strings.TrimSpace(string(s.CLI(t, "TYPE", k))); typ == "string" {
			b.Write(s.CLI(t, "GET", k))
		} else {
			b.WriteString(typ + "\n")
		}
	}
	return b.String()
}
