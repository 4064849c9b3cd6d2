package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core/agent"
)

// withAgent starts this user's agent in e (its runtime directory under
// e.home) and points AUTHX_AGENT_SOCK at it; the agent is stopped, and
// its pid checked gone, when the test ends.
func (e *env) withAgent(args ...string) *agent.Status {
	e.t.Helper()
	run := filepath.Join(e.home, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		e.t.Fatal(err)
	}
	e.set("XDG_RUNTIME_DIR=" + run)
	r := e.run(append([]string{"agent", "start"}, args...)...)
	want := "AUTHX_AGENT_SOCK=" + filepath.Join(run, "authx", "agent.sock") + "; export AUTHX_AGENT_SOCK;\n"
	if r.code != 0 || r.stdout != want {
		e.t.Fatalf("agent start: %d %q %q; want %q", r.code, r.stdout, r.stderr, want)
	}
	e.set(agent.EnvSock + "=" + filepath.Join(run, "authx", "agent.sock"))
	st := e.agentStatus()
	e.t.Cleanup(func() {
		e.run("agent", "stop")
		syscall.Kill(st.PID, syscall.SIGKILL)
	})
	return st
}

func (e *env) agentStatus() *agent.Status {
	e.t.Helper()
	r := e.run("agent", "status", "--json")
	var st agent.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); r.code != 0 || err != nil {
		e.t.Fatalf("agent status: %d %q %q: %v", r.code, r.stdout, r.stderr, err)
	}
	return &st
}

// gone waits until process pid has exited (and been reaped, or is a
// zombie of another parent).
func gone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
	}
	t.Fatalf("process %d still runs", pid)
}

var (
	hmacOnce sync.Once
	hmacBin  string
	hmacErr  error
)

// countedHMACPlugin returns a plugin directory whose authx-plugin-hmac
// (docs/examples/hmac-signer, a per-request signing scheme) appends its
// pid to the returned file each time it starts.
func countedHMACPlugin(t *testing.T) (dir, starts string) {
	hmacOnce.Do(func() {
		hmacBin = filepath.Join(binDir, "hmac", "authx-plugin-hmac")
		out, err := exec.Command("go", "build", "-C", "../../docs/examples/hmac-signer", "-o", hmacBin, "./cmd/authx-plugin-hmac").CombinedOutput()
		if err != nil {
			hmacErr = fmt.Errorf("building the hmac-signer example: %v\n%s", err, out)
		}
	})
	if hmacErr != nil {
		t.Fatal(hmacErr)
	}
	dir = t.TempDir()
	starts = filepath.Join(t.TempDir(), "starts")
	script := fmt.Sprintf("#!/bin/sh\necho $$ >>'%s'\nexec '%s' \"$@\"\n", starts, hmacBin)
	if err := os.WriteFile(filepath.Join(dir, "authx-plugin-hmac"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, starts
}

func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

// TestAgentSignsWithoutPluginStarts: with an agent, N `authx request`
// processes of a per-request signing scheme start the plugin once (the
// agent's), where each starts it without; authx agent stop kills it.
func TestAgentSignsWithoutPluginStarts(t *testing.T) {
	pluginDir, starts := countedHMACPlugin(t)
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization")+" "+r.Header.Get("X-Authx-Nonce"))
		mu.Unlock()
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t).set("AUTHX_PLUGIN_PATH="+pluginDir, "HMAC_SECRET=hmac-secret-0123456789-0123456789")
	e.config(fmt.Sprintf("profiles:\n  P:\n    scheme: hmac\n    url: %s\n    config: {key_id: k1, secret: env:HMAC_SECRET}\n", srv.URL))
	request := func() {
		t.Helper()
		if r := e.run("request", "P", "GET", "/orders", "--fail"); r.code != 0 || r.stdout != "ok\n" {
			t.Fatalf("authx request: %d %q %q", r.code, r.stdout, r.stderr)
		}
	}
	request()
	request()
	if n := countLines(starts); n != 2 {
		t.Fatalf("without an agent, 2 requests started the plugin %d times; want 2", n)
	}
	e.withAgent("--idle", "1m")
	const n = 5
	for range n {
		request()
	}
	if got := countLines(starts); got != 3 {
		t.Errorf("with an agent, %d requests started the plugin %d times; want once, in the agent", n, got-2)
	}
	seen := map[string]bool{}
	mu.Lock()
	got := slices.Clone(auths)
	mu.Unlock()
	for _, a := range got {
		if !strings.HasPrefix(a, "AUTHX-HMAC-SHA256 KeyId=k1") || seen[a] {
			t.Errorf("request not signed afresh: %q", a)
		}
		seen[a] = true
	}
	st := e.agentStatus()
	if len(st.Profiles) != 1 || st.Profiles[0].PluginPID == 0 || st.Profiles[0].Profile != "P" {
		t.Fatalf("agent status: %+v", st)
	}
	if out, _ := json.Marshal(st); strings.Contains(string(out), "hmac-secret") {
		t.Errorf("status shows the secret: %s", out)
	}
	pluginPID := st.Profiles[0].PluginPID
	if r := e.run("agent", "stop"); r.code != 0 || r.stdout != "unset AUTHX_AGENT_SOCK;\n" {
		t.Fatalf("agent stop: %+v", r)
	}
	gone(t, pluginPID)
	gone(t, st.PID)
	// Without the agent (its socket gone), authx goes on as before, silently.
	if r := e.run("request", "P", "GET", "/orders", "--fail"); r.code != 0 || r.stderr != "" {
		t.Errorf("after agent stop: %+v", r)
	}
}

// TestAgentIdleStopsPlugin: a plugin idle for --idle is stopped; the next
// request starts it again.
func TestAgentIdleStopsPlugin(t *testing.T) {
	pluginDir, starts := countedHMACPlugin(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	t.Cleanup(srv.Close)
	e := newEnv(t).set("AUTHX_PLUGIN_PATH="+pluginDir, "HMAC_SECRET=hmac-secret-0123456789-0123456789")
	e.config(fmt.Sprintf("profiles:\n  P:\n    scheme: hmac\n    url: %s\n    config: {key_id: k1, secret: env:HMAC_SECRET}\n", srv.URL))
	e.withAgent("--idle", "300ms")
	if r := e.run("request", "P", "GET", "/", "--fail"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	st := e.agentStatus()
	if len(st.Profiles) != 1 || st.Profiles[0].PluginPID == 0 {
		t.Fatalf("agent status: %+v", st)
	}
	gone(t, st.Profiles[0].PluginPID)
	if st := e.agentStatus(); st.Profiles[0].PluginPID != 0 {
		t.Errorf("idle plugin still listed: %+v", st.Profiles[0])
	}
	if r := e.run("request", "P", "GET", "/", "--fail"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if got := countLines(starts); got != 2 {
		t.Errorf("plugin started %d times; want 2 (again after the idle stop)", got)
	}
}

// TestAgentMemoryStore: a store: memory profile's credential is never
// written to disk: without an agent every command logs in; with one, the
// agent holds it, and the front (alone, without authx-cli) serves token and
// header from it.
func TestAgentMemoryStore(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, "    store: memory\n"))
	for i := 1; i <= 2; i++ {
		if r := e.run("token", "tk"); r.code != 0 || r.stdout != fmt.Sprintf("login-%d-\n", i) {
			t.Fatalf("without an agent, run %d: %+v", i, r)
		}
	}
	e.withAgent()
	for range 3 {
		if r := e.run("token", "tk"); r.code != 0 || r.stdout != "login-3-\n" {
			t.Fatalf("with the agent: %+v", r)
		}
	}
	if got := srv.logins.Load(); got != 3 {
		t.Errorf("%d logins; want 3 (one per run without the agent, one for the agent)", got)
	}
	// The front alone answers from the agent.
	front := filepath.Join(t.TempDir(), "authx")
	copyFile(t, filepath.Join(binDir, "authx"), front)
	if r := e.runBin(front, "token", "tk"); r.code != 0 || r.stdout != "login-3-\n" || r.stderr != "" {
		t.Errorf("front, token: %+v", r)
	}
	if r := e.runBin(front, "header", "tk"); r.code != 0 || r.stdout != "Authorization: Bearer login-3-\n" || r.stderr != "" {
		t.Errorf("front, header: %+v", r)
	}
	if r := e.run("request", "tk", "GET", "/api/me", "--fail"); r.code != 0 || !strings.Contains(r.stdout, `"token":"login-3-"`) {
		t.Errorf("request: %+v", r)
	}
	filepath.WalkDir(e.home, func(path string, d os.DirEntry, err error) error {
		if b, _ := os.ReadFile(path); d != nil && !d.IsDir() && strings.Contains(string(b), "login-") {
			t.Errorf("%s holds the credential", path)
		}
		return nil
	})
	if got := srv.logins.Load(); got != 3 {
		t.Errorf("%d logins; want 3", got)
	}
	// Logging out makes the agent revoke and forget it.
	if r := e.run("logout", "tk"); r.code != 0 || srv.logouts.Load() != 1 {
		t.Errorf("logout: %+v, %d revocations", r, srv.logouts.Load())
	}
	if st := e.agentStatus(); len(st.Profiles) != 0 {
		t.Errorf("after logout the agent still serves %+v", st.Profiles)
	}
	if r := e.run("token", "tk"); r.code != 0 || r.stdout != "login-4-\n" {
		t.Errorf("after logout: %+v", r)
	}
}

// TestAgentHostileSocket: a socket at $AUTHX_AGENT_SOCK in a directory
// others may write to is refused with a warning, and authx goes on
// without it; a socket with nothing behind it is passed over silently.
func TestAgentHostileSocket(t *testing.T) {
	e := newEnv(t).set("PW=pw1")
	e.config("profiles:\n  work:\n    scheme: basic\n    url: https://api.example.com/\n    config: {username: alice, password: env:PW}\n")
	open := filepath.Join(e.home, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	sock := filepath.Join(open, "agent.sock")
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
			c.Write([]byte("\x00\x00\x00\x02{}")) // would serve anything
			c.Close()
		}
	}()
	r := e.set(agent.EnvSock+"="+sock).run("token", "work")
	if r.code != 0 || r.stdout != "YWxpY2U6cHcx\n" || !strings.Contains(r.stderr, "warning: not using the authx agent: "+open+" has mode 0777") {
		t.Errorf("hostile socket: %+v", r)
	}
	stale := filepath.Join(e.home, "run", "agent.sock")
	os.MkdirAll(filepath.Dir(stale), 0o700)
	l2, _ := net.Listen("unix", stale)
	l2.(*net.UnixListener).SetUnlinkOnClose(false)
	l2.Close() // a dead agent's socket
	e.vars[len(e.vars)-1] = agent.EnvSock + "=" + stale
	if r := e.run("header", "work", "--renew"); r.code != 0 || r.stderr != "" {
		t.Errorf("stale socket: %+v", r)
	}
}

// TestAgentRenewsAheadOfExpiry: the agent refreshes a credential in use
// at the refresh skew before it expires, without waiting for a request.
func TestAgentRenewsAheadOfExpiry(t *testing.T) {
	srv := newTokenServer(t, 4)
	e := newEnv(t).set("TK_SECRET=right")
	e.config("refresh_skew: 2s\n" + testkitConfig(srv.URL, "    store: memory\n"))
	e.withAgent()
	if r := e.run("token", "tk"); r.code != 0 || r.stdout != "login-1-\n" {
		t.Fatalf("%+v", r)
	}
	for deadline := time.Now().Add(5 * time.Second); srv.refreshes.Load() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the agent did not refresh ahead of expiry")
		}
	}
	if r := e.run("token", "tk"); r.code != 0 || r.stdout != "refreshed-1\n" {
		t.Errorf("after the renewal: %+v", r)
	}
	if srv.logins.Load() != 1 || srv.refreshes.Load() != 1 {
		t.Errorf("%d logins, %d refreshes; want 1 and 1", srv.logins.Load(), srv.refreshes.Load())
	}
}
