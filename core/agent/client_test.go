package agent

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveOnce answers every connection at sock with resp.
func serveOnce(t *testing.T, sock string, resp *Response) {
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ReadFrame(c)
			Write(c, resp)
			c.Close()
		}
	}()
}

func TestClient(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	c := &Client{Socket: sock}
	ctx := context.Background()
	if _, err := c.Do(ctx, &Request{Op: OpPing}); !errors.Is(err, ErrNoAgent) {
		t.Errorf("no socket: %v, want ErrNoAgent", err)
	}
	serveOnce(t, sock, &Response{Source: "cache"})
	if resp, err := c.Do(ctx, &Request{Op: OpPing}); err != nil || resp.Source != "cache" {
		t.Errorf("agent: %+v %v", resp, err)
	}
	var untrusted *UntrustedError
	other := &Client{Socket: sock, PeerUID: func(syscall.Conn) (int, error) { return os.Geteuid() + 1, nil }}
	if _, err := other.Do(ctx, &Request{Op: OpPing}); !errors.As(err, &untrusted) || !strings.Contains(err.Error(), "runs as uid") {
		t.Errorf("another user's agent: %v, want UntrustedError", err)
	}
	os.Chmod(dir, 0o777)
	if _, err := c.Do(ctx, &Request{Op: OpPing}); !errors.As(err, &untrusted) || !strings.Contains(err.Error(), "others may write") {
		t.Errorf("socket in an open directory: %v, want UntrustedError", err)
	}
	os.Chmod(dir, 0o700)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := (&Client{Socket: file}).Do(ctx, &Request{Op: OpPing}); !errors.As(err, &untrusted) {
		t.Errorf("a file, not a socket: %v", err)
	}
	stale := filepath.Join(dir, "stale.sock")
	ln, _ := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := (&Client{Socket: stale}).Do(ctx, &Request{Op: OpPing}); !errors.Is(err, ErrNoAgent) {
		t.Errorf("stale socket: %v, want ErrNoAgent", err)
	}
}

func TestDefaultSocket(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := DefaultSocket(env(map[string]string{"XDG_RUNTIME_DIR": "/run/user/7"})); got != "/run/user/7/authx/agent.sock" {
		t.Errorf("runtime dir: %s", got)
	}
	if got := DefaultSocket(env(map[string]string{"XDG_RUNTIME_DIR": "relative"})); !strings.HasPrefix(got, os.TempDir()) || !strings.Contains(got, "authx-agent-") {
		t.Errorf("no runtime dir: %s", got)
	}
}

// TestClientTimeout: an agent that never answers costs the client its
// deadline, no more.
func TestClientTimeout(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // read nothing, answer nothing
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = (&Client{Socket: sock}).Do(ctx, &Request{Op: OpPing})
	if err == nil || errors.Is(err, ErrNoAgent) || time.Since(start) > 3*time.Second {
		t.Errorf("silent agent: %v after %s; want a timeout after 300ms", err, time.Since(start))
	}
}
