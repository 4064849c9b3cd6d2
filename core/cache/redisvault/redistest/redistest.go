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
	Addr  string // 127.0.0.1:PORT
	t     testing.TB
	extra []string
	dir   string

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

// Start starts a redis-server with the extra arguments and waits until
// it answers PING (or refuses it for want of a password).
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	Require(t, "redis-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{Addr: addr, t: t, extra: extra, dir: t.TempDir()}
	t.Cleanup(s.Kill)
	s.Restart()
	return s
}

// Restart starts the server again on its address (after Kill): empty,
// as nothing is persisted. It is a no-op while the server runs.
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
	_, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command(Require(s.t, "redis-server"), "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning")
	cmd.Args = append(cmd.Args, s.extra...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			fmt.Fprint(c, "PING\r\n")
			c.SetReadDeadline(time.Now().Add(time.Second))
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

// CLI runs redis-cli --raw against the server and returns its output.
func (s *Server) CLI(t testing.TB, args ...string) []byte {
	t.Helper()
	bin := Require(t, "redis-cli")
	host, port, _ := net.SplitHostPort(s.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-h", host, "-p", port, "--raw"}, args...)...).Output()
	if err != nil {
		t.Fatalf("redis-cli %s: %v", strings.Join(args, " "), err)
	}
	return out
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

// Port is the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}
