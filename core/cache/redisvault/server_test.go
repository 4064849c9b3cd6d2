package redisvault

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
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core/sealed"
)

// server is a redis-server started by a test on 127.0.0.1, persisting
// nothing, killed and reaped when the test ends.
type server struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// requireTool skips t when name is not installed, or fails it under CI
// (CI or AUTHX_REQUIRE_IDPTEST=1, set by .ci/run, which installs it).
func requireTool(t testing.TB, name string) string {
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

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis starts a redis-server with the extra arguments and waits
// until it answers PING (or refuses it for want of a password).
func startRedis(t testing.TB, extra ...string) *server {
	t.Helper()
	port := strconv.Itoa(freePort(t))
	args := append([]string{"--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "warning"}, extra...)
	return runRedis(t, net.JoinHostPort("127.0.0.1", port), nil, args...)
}

// runRedis runs redis-server with args and waits until the server at addr
// answers PING (or refuses it for want of a password) on a connection
// from dial (nil: plain TCP).
func runRedis(t testing.TB, addr string, dial func(addr string) (net.Conn, error), args ...string) *server {
	t.Helper()
	bin := requireTool(t, "redis-server")
	if dial == nil {
		dial = func(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, time.Second) }
	}
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Kill)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := dial(s.Addr); err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			fmt.Fprint(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("redis-server exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer on %s: %s", s.Addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the server and reaps it.
func (s *server) Kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// URL is the server's redis:// URL.
func (s *server) URL() string { return "redis://" + s.Addr }

// cli runs redis-cli against the server and returns its output.
func (s *server) cli(t *testing.T, args ...string) []byte {
	t.Helper()
	bin := requireTool(t, "redis-cli")
	host, port, _ := net.SplitHostPort(s.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-h", host, "-p", port, "--raw"}, args...)...).Output()
	if err != nil {
		t.Fatalf("redis-cli %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, sealed.KeySize) }

func newVault(t testing.TB, s *server, o Options) *Vault {
	t.Helper()
	if o.URL == "" {
		o.URL = s.URL()
	}
	if o.Box == nil {
		box, err := sealed.New(testKey(7))
		if err != nil {
			t.Fatal(err)
		}
		o.Box = box
	}
	v, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
