package agentd

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/host"
)

// start runs an agent at a socket in a fresh 0700 directory, with no
// plugins to start; peer is its peer-credential function (nil: the real
// one).
func start(t *testing.T, peer func(syscall.Conn) (int, error)) *Server {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	os.Mkdir(dir, 0o700)
	h := host.New(host.Options{SearchPath: []string{t.TempDir()}})
	s := &Server{Socket: filepath.Join(dir, "authx", "agent.sock"), Host: h, PeerUID: peer}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return s
}

func do(t *testing.T, s *Server, req *agent.Request) (*agent.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return (&agent.Client{Socket: s.Socket}).Do(ctx, req)
}

// TestOtherUserRefused: a connection whose peer is another uid is closed
// without an answer; the agent goes on serving its user.
func TestOtherUserRefused(t *testing.T) {
	var other atomic.Bool
	other.Store(true)
	s := start(t, func(c syscall.Conn) (int, error) {
		if other.Load() {
			return os.Geteuid() + 1000, nil
		}
		return agent.PeerUID(c)
	})
	if resp, err := do(t, s, &agent.Request{Op: agent.OpStatus}); err == nil || resp != nil {
		t.Fatalf("another user got %+v", resp)
	}
	other.Store(false)
	if resp, err := do(t, s, &agent.Request{Op: agent.OpStatus}); err != nil || resp.Status.PID != os.Getpid() {
		t.Fatalf("own user: %+v %v", resp, err)
	}
}

// TestBadMessagesCloseTheirConnectionOnly: an oversized length, malformed
// JSON or an unknown op end that connection, without an answer; the next
// connection is served.
func TestBadMessagesCloseTheirConnectionOnly(t *testing.T) {
	s := start(t, nil)
	for _, msg := range [][]byte{
		binary.BigEndian.AppendUint32(nil, agent.MaxMessage+1),
		append(binary.BigEndian.AppendUint32(nil, 5), "{nope"...),
		append(binary.BigEndian.AppendUint32(nil, 13), `{"op":"exec"}`...),
	} {
		c, err := net.Dial("unix", s.Socket)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(msg)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := io.ReadAll(c); err != nil || len(n) != 0 {
			t.Errorf("%q: answered %q, %v; want the connection closed", msg, n, err)
		}
		c.Close()
		if _, err := do(t, s, &agent.Request{Op: agent.OpPing}); err != nil {
			t.Fatalf("after %q: %v", msg, err)
		}
	}
}

func writeConfig(t *testing.T, yaml string) (string, *config.Profile) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(p, []byte(yaml), 0o600)
	f, err := config.Load(config.LoadOptions{Path: p, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return f.Path, f.Profiles["m"]
}

// TestHeldCredential: a store: memory profile's credential handed to the
// agent is served without a plugin, without its state; a profile the
// client reads otherwise is a miss; a file profile's credential is not
// taken.
func TestHeldCredential(t *testing.T) {
	s := start(t, nil)
	path, p := writeConfig(t, "profiles:\n  m: {scheme: nosuch, store: memory, url: \"https://api.example.com/\"}\n  f: {scheme: nosuch}\n")
	id := agent.IdentityDigest(p.Identity())
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	put := &agent.Request{Op: agent.OpPut, Config: path, Profile: "m", Identity: id,
		Credential: &core.Credential{Token: "tok", State: []byte("refresh-me"), ExpiresAt: exp}}
	if resp, err := do(t, s, put); err != nil || resp.Error != nil || resp.Miss != "" {
		t.Fatalf("put: %+v %v", resp, err)
	}
	resp, err := do(t, s, &agent.Request{Op: agent.OpCredential, Config: path, Profile: "m", Identity: id})
	if err != nil || resp.Credential == nil || resp.Credential.Token != "tok" || resp.Credential.State != nil || !resp.Credential.ExpiresAt.Equal(exp) || resp.Source != "cache" {
		t.Fatalf("credential: %+v %v", resp, err)
	}
	for _, u := range []string{"https://elsewhere.example/", "/relative"} {
		apply := &agent.Request{Op: agent.OpApply, Config: path, Profile: "m", Identity: id, Request: &agent.SignRequest{Method: "GET", URL: u}}
		if resp, _ := do(t, s, apply); resp == nil || resp.Error == nil || resp.Error.Kind != core.KindConfig || len(resp.Headers) != 0 {
			t.Errorf("apply for %s, outside the profile's scope: %+v", u, resp)
		}
	}
	apply := &agent.Request{Op: agent.OpApply, Config: path, Profile: "m", Identity: id, Request: &agent.SignRequest{Method: "GET", URL: "https://api.example.com/x"}}
	if resp, _ := do(t, s, apply); resp == nil || resp.Error != nil || len(resp.Headers) != 0 {
		t.Errorf("apply, a credential without headers: %+v", resp)
	}
	if resp, _ := do(t, s, &agent.Request{Op: agent.OpCredential, Config: path, Profile: "m", Identity: "other"}); resp == nil || !strings.Contains(resp.Miss, "not what the client read") {
		t.Errorf("another identity: %+v; want a miss", resp)
	}
	if resp, _ := do(t, s, &agent.Request{Op: agent.OpCredential, Config: path, Profile: "f", Identity: "x"}); resp == nil || resp.Miss == "" {
		t.Errorf("unknown identity of f: %+v; want a miss", resp)
	}
	st, _ := do(t, s, &agent.Request{Op: agent.OpStatus})
	if len(st.Status.Profiles) != 1 || st.Status.Profiles[0].Store != "memory" || !st.Status.Profiles[0].ExpiresAt.Equal(exp) {
		t.Errorf("status: %+v", st.Status)
	}
	// Without a credential, the agent needs the plugin, which it cannot
	// find: a miss (the client's environment may have it).
	f, _ := config.Load(config.LoadOptions{Path: path, Getenv: func(string) string { return "" }})
	fid := agent.IdentityDigest(f.Profiles["f"].Identity())
	if resp, _ := do(t, s, &agent.Request{Op: agent.OpCredential, Config: path, Profile: "f", Identity: fid}); resp == nil || !strings.Contains(resp.Miss, "nosuch") {
		t.Errorf("no plugin: %+v; want a miss", resp)
	}
	if resp, _ := do(t, s, &agent.Request{Op: agent.OpPut, Config: path, Profile: "f", Identity: fid, Credential: &core.Credential{Token: "x"}}); resp == nil || !strings.Contains(resp.Miss, "store: file") {
		t.Errorf("put for a file profile: %+v; want a miss", resp)
	}
}

// TestListen: the directory is checked; one agent per socket.
func TestListen(t *testing.T) {
	s := start(t, nil)
	second := &Server{Socket: s.Socket, Host: host.New(host.Options{})}
	if err := second.Listen(); !errors.Is(err, ErrRunning) {
		t.Errorf("second agent: %v, want ErrRunning", err)
	}
	open := filepath.Join(t.TempDir(), "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o755)
	bad := &Server{Socket: filepath.Join(open, "agent.sock"), Host: host.New(host.Options{})}
	if err := bad.Listen(); err == nil || !strings.Contains(err.Error(), "others may write") && !strings.Contains(err.Error(), "mode 0755") {
		t.Errorf("0755 directory: %v", err)
	}
	fi, err := os.Stat(s.Socket)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v %v", fi, err)
	}
}

// A credential that lives barely longer than the refresh skew is not
// renewed every few seconds: renewals are MinRenewInterval apart at least,
// and one that would come after the expiry is left to the next request.
func TestRenewalAt(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	skew := time.Minute
	for _, tt := range []struct {
		name         string
		exp, renewed time.Time
		want         time.Time
		ok           bool
	}{
		{"no expiry", time.Time{}, time.Time{}, time.Time{}, false},
		{"first renewal: skew before the expiry", t0.Add(time.Hour), time.Time{}, t0.Add(59 * time.Minute), true},
		{"long after the last renewal", t0.Add(time.Hour), t0, t0.Add(59 * time.Minute), true},
		{"a credential living 62 s, just renewed", t0.Add(62 * time.Second), t0, t0.Add(MinRenewInterval), true},
		{"one living 20 s, just renewed: left to the next request", t0.Add(20 * time.Second), t0, t0.Add(MinRenewInterval), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at, ok := renewalAt(tt.exp, skew, tt.renewed)
			if ok != tt.ok || ok && !at.Equal(tt.want) {
				t.Errorf("renewalAt = %v, %v; want %v, %v", at, ok, tt.want, tt.ok)
			}
		})
	}
}
