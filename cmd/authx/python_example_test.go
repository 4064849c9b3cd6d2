package main

// Tests of docs/examples/apikey-python: an authx scheme written in Python,
// run by the real authx binary and by core/host over the real protocol. They
// skip when no python3 with Debian's python3-grpcio and python3-protobuf is
// installed.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

const pythonExampleDir = "../../docs/examples/apikey-python"

// pythonExample returns the absolute example directory, the PATH under
// which `#!/usr/bin/env python3` finds a python3 with the grpc and protobuf
// modules, and that python3; or it skips the test. When the first python3 on
// PATH lacks them (a pyenv or virtualenv python, say) but /usr/bin/python3
// has them, a directory linking python3 to it goes first on the PATH.
func pythonExample(t *testing.T) (dir, path, python string) {
	t.Helper()
	dir, err := filepath.Abs(pythonExampleDir)
	if err != nil {
		t.Fatal(err)
	}
	hasModules := func(py string) bool {
		return exec.Command(py, "-c", "import grpc, google.protobuf").Run() == nil
	}
	path = os.Getenv("PATH")
	first, err := exec.LookPath("python3")
	switch {
	case err == nil && hasModules(first):
		return dir, path, first
	case hasModules("/usr/bin/python3"):
		link := t.TempDir()
		python = filepath.Join(link, "python3")
		if err := os.Symlink("/usr/bin/python3", python); err != nil {
			t.Fatal(err)
		}
		t.Logf("python3 on PATH (%s) lacks grpc/protobuf; using /usr/bin/python3", first)
		return dir, link + string(os.PathListSeparator) + path, python
	}
	t.Skip("no python3 with the grpc and protobuf modules (apt-get install python3-grpcio python3-protobuf)")
	return "", "", ""
}

// pythonEnv is newEnv with the example on AUTHX_PLUGIN_PATH and a PATH whose
// python3 can run it.
func pythonEnv(t *testing.T) (e *env, dir, python string) {
	t.Helper()
	dir, path, python := pythonExample(t)
	e = newEnv(t)
	for i, kv := range e.vars {
		if strings.HasPrefix(kv, "PATH=") {
			e.vars[i] = "PATH=" + path
		}
	}
	return e.set("AUTHX_PLUGIN_PATH=" + dir), dir, python
}

// scriptProcesses lists the pids of processes running script with HOME set
// to home. A script's /proc/PID/exe is its interpreter, so pluginProcesses
// does not see it; its command line names it. The test's own HOME (which
// authx passes on to plugins) tells its plugins from those of another test
// run using the same example.
func scriptProcesses(script, home string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		cmdline, err1 := os.ReadFile(filepath.Join("/proc", en.Name(), "cmdline"))
		environ, err2 := os.ReadFile(filepath.Join("/proc", en.Name(), "environ"))
		if err1 != nil || err2 != nil {
			continue
		}
		if slices.Contains(strings.Split(string(cmdline), "\x00"), script) &&
			slices.Contains(strings.Split(string(environ), "\x00"), "HOME="+home) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func noScriptOrphans(t *testing.T, script, home string) {
	t.Helper()
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		return // no /proc to look in
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		pids := scriptProcesses(script, home)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("python plugin processes left running: %v", pids)
		}
	}
}

func TestPythonExampleWithAuthx(t *testing.T) {
	e, dir, _ := pythonEnv(t)
	e.set("API_KEY=k-123+secret")
	script := filepath.Join(dir, "authx-plugin-apikey")

	r := e.run("header", "--scheme", "apikey", "--set", "key=env:API_KEY")
	if r.code != 0 || r.stdout != "X-API-Key: k-123+secret\n" || r.stderr != "" {
		t.Errorf("authx header: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = e.run("token", "--scheme", "apikey", "--set", "key=env:API_KEY", "--set", "header=X-Token")
	if r.code != 0 || r.stdout != "k-123+secret\n" {
		t.Errorf("authx token: %+v", r)
	}

	// The example's action, through the SDK's RunAction.
	r = e.run("apikey", "fingerprint", "--scheme", "apikey", "--set", "key=env:API_KEY")
	if sum := sha256.Sum256([]byte("k-123+secret")); r.code != 0 || r.stdout != "X-API-Key: sha256:"+hex.EncodeToString(sum[:8])+"\n" {
		t.Errorf("authx apikey fingerprint: %+v", r)
	}

	r = e.run("plugins", "list")
	listed := slices.ContainsFunc(strings.Split(r.stdout, "\n"), func(l string) bool {
		return strings.HasPrefix(l, "apikey ") && strings.Contains(l, script)
	})
	if r.code != 0 || !listed {
		t.Errorf("plugins list does not show the python plugin: %+v", r)
	}

	// No key and no terminal: the plugin's prompt cannot be asked.
	r = e.run("header", "--scheme", "apikey")
	if r.code != 3 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "login needs input (key)") {
		t.Errorf("no key, no terminal: %+v", r)
	}

	// Bad config names the field: the plugin's Configure checks the header
	// name, authx itself the keys against the plugin's schema.
	r = e.run("header", "--scheme", "apikey", "--set", "key=env:API_KEY", "--set", "header=bad header")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, `--set header: "bad header" is not an HTTP header name`) {
		t.Errorf("bad header name: %+v", r)
	}
	r = e.run("header", "--scheme", "apikey", "--set", "key=env:API_KEY", "--set", "hedaer=X")
	if r.code != 2 || !strings.Contains(r.stderr, `hedaer: unknown key; did you mean "header"?`) {
		t.Errorf("unknown key: %+v", r)
	}

	// Every level of the host's log is clean: the missing (optional)
	// GRPCStdio service is noted at debug level only.
	r = e.run("header", "--scheme", "apikey", "--set", "key=env:API_KEY", "--log-level", "trace")
	if r.code != 0 || strings.Contains(r.stderr, "[WARN]") || strings.Contains(r.stderr, "[ERROR]") || strings.Contains(r.stderr, "k-123") {
		t.Errorf("trace log has warnings, errors or the key:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "authx-plugin-apikey: plugin address: ") || !strings.Contains(r.stderr, "@module=plugin.apikey") ||
		!strings.Contains(r.stderr, "asked the plugin to shut down") {
		t.Errorf("the plugin's JSON log lines are not parsed by the host:\n%s", r.stderr)
	}
	noScriptOrphans(t, script, e.home)
}

// TestPythonExampleLoginContinuation drives Login twice over the real
// protocol: the plugin asks for the key, and the second call carries the
// answer and the continuation the first one returned.
func TestPythonExampleLoginContinuation(t *testing.T) {
	dir, path, _ := pythonExample(t)
	home := t.TempDir()
	t.Setenv("PATH", path) // the plugin's PATH and HOME come from the host's environment
	t.Setenv("HOME", home)
	h := host.New(host.Options{SearchPath: []string{dir}})
	defer h.Close()
	ctx := context.Background()
	p, err := h.Start(ctx, host.Spec{Scheme: "apikey"})
	if err != nil {
		t.Fatal(err)
	}

	d, err := p.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "apikey" || d.ProtocolMinor != 4 || d.Capabilities != (core.Capabilities{Login: true, Actions: true}) || len(d.Config) != 2 || len(d.Actions) != 1 {
		t.Errorf("describe: %+v", d)
	}

	const url = "https://api.example.com/"
	_, err = p.Login(ctx, core.LoginRequest{Config: core.Config{}, URL: url, Interactive: true})
	var ir *core.InputRequired
	if !errors.As(err, &ir) {
		t.Fatalf("login without a key: %v, want input required", err)
	}
	if len(ir.Prompts) != 1 || ir.Prompts[0].ID != "key" || !ir.Prompts[0].Secret || len(ir.Continuation) == 0 {
		t.Fatalf("input required: %+v", ir)
	}
	cred, err := p.Login(ctx, core.LoginRequest{Config: core.Config{"header": "X-Key"}, URL: url,
		Answers: map[string]string{"key": "typed"}, Continuation: ir.Continuation})
	if core.KindOf(err) != core.KindLoginRequired {
		t.Errorf("a continuation for another header: %v %+v, want login required", err, cred)
	}
	cred, err = p.Login(ctx, core.LoginRequest{Config: core.Config{}, URL: url, Interactive: true,
		Answers: map[string]string{"key": "typed"}, Continuation: ir.Continuation})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Token != "typed" || !reflect.DeepEqual(cred.Headers, []core.Header{{Name: "X-API-Key", Value: "typed"}}) {
		t.Errorf("credential: %+v", cred)
	}

	// A continuation is checked, not trusted.
	_, err = p.Login(ctx, core.LoginRequest{Config: core.Config{}, URL: url,
		Answers: map[string]string{"key": "typed"}, Continuation: []byte("forged")})
	if core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "not one this plugin issued") {
		t.Errorf("forged continuation: %v", err)
	}
	_, err = p.Login(ctx, core.LoginRequest{Config: core.Config{}, URL: "https://other.example.com/",
		Answers: map[string]string{"key": "typed"}, Continuation: ir.Continuation})
	if core.KindOf(err) != core.KindLoginRequired {
		t.Errorf("continuation of another login: %v", err)
	}
	_, err = p.Login(ctx, core.LoginRequest{Config: core.Config{}, URL: url, Continuation: ir.Continuation})
	if core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), `"key"`) {
		t.Errorf("continuation without the answer: %v", err)
	}

	// Configure reports every problem with its field.
	ds, err := p.Configure(ctx, core.Config{"header": "a b", "key": 5.0, "kye": "x"})
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, d := range ds {
		fields[d.Field] = d.Message
	}
	if len(ds) != 3 || fields["header"] == "" || fields["key"] != "expected a string" || !strings.Contains(fields["kye"], `did you mean "key"?`) {
		t.Errorf("diagnostics: %+v", ds)
	}
	if ds, err := p.Configure(ctx, core.Config{"key": "k", "header": "Authorization"}); err != nil || len(ds) != 0 {
		t.Errorf("valid config: %v %+v", err, ds)
	}

	// Calls whose capability is false answer UNIMPLEMENTED.
	if _, err := p.Refresh(ctx, core.RefreshRequest{Config: core.Config{}, Credential: cred}); core.KindOf(err) != core.KindUnsupported {
		t.Errorf("refresh: %v, want unsupported", err)
	}
	if _, err := p.RunAction(ctx, core.ActionRequest{Action: "x"}); core.KindOf(err) != core.KindUnsupported {
		t.Errorf("run action: %v, want unsupported", err)
	}
	h.Close()
	noScriptOrphans(t, filepath.Join(dir, "authx-plugin-apikey"), home)
}

// startPythonPlugin starts the script as go-plugin would, through argv0
// (e.g. "sh" to put a shell in between), and returns the process, the
// handshake line and the rest of stdout. The plugin logs at debug level to
// a buffer that waitExit shows when the plugin does not exit.
func startPythonPlugin(t *testing.T, path, home string, argv ...string) (*exec.Cmd, string, <-chan string) {
	t.Helper()
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = []string{"PATH=" + path, "HOME=" + home, "AUTHX_PLUGIN=6c1fa2b1-authx-plugin-v1", "PLUGIN_PROTOCOL_VERSIONS=1",
		"PLUGIN_UNIX_SOCKET_DIR=" + t.TempDir(), "AUTHX_LOG_LEVEL=debug", "PYTHONFAULTHANDLER=1"}
	c.Stderr = new(strings.Builder) // read only after Wait
	c.WaitDelay = 2 * time.Second   // an orphan (the "sh" case) may hold stderr open
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(out)
		line, _ := br.ReadString('\n')
		lines <- line
		rest, _ := io.ReadAll(br)
		lines <- string(rest)
	}()
	select {
	case line := <-lines:
		return c, line, lines
	case <-time.After(10 * time.Second):
		t.Fatal("no handshake within 10s")
	}
	return nil, "", nil
}

// waitExit waits up to d for c, started by startPythonPlugin, to exit.
// After that it sends SIGABRT, on which Python's faulthandler prints every
// thread's stack, then kills c and returns an error with c's stderr.
func waitExit(c *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		c.Process.Signal(syscall.SIGABRT)
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			c.Process.Kill()
			<-done
		}
		return fmt.Errorf("still running after %s; its stderr:\n%s", d, c.Stderr)
	}
}

var handshakeLine = regexp.MustCompile(`^1\|1\|unix\|(/[^|]+)\|grpc\n$`)

// TestPythonExampleGoPluginContract checks what go-plugin needs from a
// plugin, without authx: the handshake, the health and controller services,
// UNIMPLEMENTED for the rest, exiting on Shutdown, on SIGTERM and when the
// parent dies, and refusing to run without the cookie or protocol v1.
func TestPythonExampleGoPluginContract(t *testing.T) {
	dir, path, _ := pythonExample(t)
	script := filepath.Join(dir, "authx-plugin-apikey")
	home := t.TempDir()

	c, line, rest := startPythonPlugin(t, path, home, script)
	m := handshakeLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("handshake line %q", line)
	}
	socket := m[1]
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	health, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "plugin"})
	if err != nil || health.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Errorf("health of plugin: %v %v", health, err)
	}
	scheme := pluginv1.NewAuthSchemeClient(conn)
	if _, err := scheme.Logout(ctx, &pluginv1.LogoutRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("Logout: %v, want Unimplemented", err)
	}
	if err := conn.Invoke(ctx, "/plugin.GRPCBroker/StartStream", &emptypb.Empty{}, &emptypb.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("an unknown service: %v, want Unimplemented", err)
	}
	start := time.Now()
	if err := conn.Invoke(ctx, "/plugin.GRPCController/Shutdown", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	// The plugin closed its stdout right after the handshake.
	if s := <-rest; s != "" {
		t.Errorf("the plugin wrote %q to stdout after the handshake", s)
	}
	if err := waitExit(c, 5*time.Second); err != nil {
		t.Errorf("exit after Shutdown: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second { // go-plugin kills a plugin that takes longer
		t.Errorf("the plugin took %s to exit after Shutdown", took)
	}
	if _, err := os.Stat(socket); !os.IsNotExist(err) {
		t.Errorf("socket %s left behind: %v", socket, err)
	}

	// SIGTERM: a clean exit, socket removed.
	c, line, _ = startPythonPlugin(t, path, home, script)
	c.Process.Signal(syscall.SIGTERM)
	if err := waitExit(c, 5*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	if m := handshakeLine.FindStringSubmatch(line); m == nil {
		t.Errorf("handshake line %q", line)
	} else if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("socket left behind after SIGTERM: %v", err)
	}

	// The parent (a shell here) dies: the plugin notices within a second or so.
	startPythonPlugin(t, path, home, "sh", "-c", `"$0" & sleep 1`, script)
	noScriptOrphans(t, script, home)

	// Refusals: one line on stderr, nothing on stdout, exit 1.
	for name, env := range map[string][]string{
		"no cookie":     {"PATH=" + path},
		"no v1 offered": {"PATH=" + path, "AUTHX_PLUGIN=6c1fa2b1-authx-plugin-v1", "PLUGIN_PROTOCOL_VERSIONS=2,3"},
	} {
		c := exec.Command(script)
		c.Env = env
		var out, errb strings.Builder
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%s: %v, stdout %q, stderr %q; want exit 1 and one line on stderr", name, err, out.String(), errb.String())
		}
	}
}

// ptyDriver runs a command under a new pseudo-terminal (Python's pty module,
// since the test needs python3 anyway), answers the first prompt that ends
// in ": " with argv[2], sends the command's stdout to the file argv[1],
// prints the terminal transcript on stderr and kills the command after 20s.
const ptyDriver = `
import os, pty, select, signal, sys, time
out, answer, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    os.execv(argv[0], argv)
seen, answered, deadline = b"", False, time.time() + 20
while time.time() < deadline:
    if select.select([fd], [], [], 0.1)[0]:
        try:
            data = os.read(fd, 1024)
        except OSError:
            break
        if not data:
            break
        seen += data
    if not answered and seen.endswith(b": "):
        os.write(fd, answer.encode() + b"\r")
        answered = True
if time.time() >= deadline:
    os.kill(pid, signal.SIGKILL)
sys.stderr.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`

// TestPythonExamplePromptOnTerminal runs `authx header --scheme apikey` with
// no key on a terminal: authx shows the plugin's prompt, reads the key
// without echo and calls Login again with the answer and the continuation.
func TestPythonExamplePromptOnTerminal(t *testing.T) {
	e, dir, python := pythonEnv(t)
	var vars []string
	for _, kv := range e.vars {
		if !strings.HasPrefix(kv, "AUTHX_NO_INPUT=") {
			vars = append(vars, kv)
		}
	}
	out := filepath.Join(t.TempDir(), "stdout")
	c := exec.Command(python, "-c", ptyDriver, out, "typed-key-42", filepath.Join(binDir, "authx"), "header", "--scheme", "apikey")
	c.Env = vars
	var transcript strings.Builder
	c.Stderr = &transcript
	if err := c.Run(); err != nil {
		t.Fatalf("authx under a terminal: %v\n%s", err, transcript.String())
	}
	stdout, _ := os.ReadFile(out)
	if string(stdout) != "X-API-Key: typed-key-42\n" {
		t.Errorf("stdout %q", stdout)
	}
	if tr := transcript.String(); !strings.Contains(tr, "API key (X-API-Key): ") || strings.Contains(tr, "typed-key-42") {
		t.Errorf("terminal transcript %q: want the prompt and no echo of the key", tr)
	}
	noScriptOrphans(t, filepath.Join(dir, "authx-plugin-apikey"), e.home)
}
