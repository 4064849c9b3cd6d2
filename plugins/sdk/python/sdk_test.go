package python_test

// Tests of the Python SDK (authx_plugin): its own unit tests (python3 -m
// unittest), and testdata/authx-plugin-sdktest, a scheme on it, run as a
// real plugin process by core/host and the conformance kit, and as go-plugin
// starts it (Shutdown, signals, parent death). They skip when no python3
// with Debian's python3-grpcio and python3-protobuf is installed, and fail
// then under AUTHX_REQUIRE_IDPTEST=1, as in CI.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/plugintest"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// python returns a python3 with the grpc and protobuf modules and a PATH
// whose python3 is that one (for the plugins' `#!/usr/bin/env python3`),
// or skips the test (fails it in CI).
func python(t *testing.T) (py, path string) {
	t.Helper()
	py, path = pythonNoSkip()
	if py == "" {
		const why = "no python3 with the grpc and protobuf modules (apt-get install python3-grpcio python3-protobuf)"
		if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	return py, path
}

// pythonNoSkip is python without a test: "" when there is none. When the
// first python3 on PATH lacks the modules (a pyenv python, say) but
// /usr/bin/python3 has them, a directory linking python3 to it goes first
// on the PATH.
func pythonNoSkip() (py, path string) {
	hasModules := func(py string) bool { return exec.Command(py, "-c", "import grpc, google.protobuf").Run() == nil }
	path = os.Getenv("PATH")
	if first, err := exec.LookPath("python3"); err == nil && hasModules(first) {
		return first, path
	}
	if !hasModules("/usr/bin/python3") {
		return "", ""
	}
	pythonLink.once.Do(func() {
		dir, err := os.MkdirTemp("", "authx-python-link")
		if err == nil && os.Symlink("/usr/bin/python3", filepath.Join(dir, "python3")) == nil {
			pythonLink.dir = dir
		}
	})
	if pythonLink.dir == "" {
		return "", ""
	}
	return "/usr/bin/python3", pythonLink.dir + string(os.PathListSeparator) + path
}

// pythonLink is the directory holding the python3 link, made once per
// test process and removed by TestMain.
var pythonLink struct {
	once sync.Once
	dir  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pythonLink.dir != "" {
		os.RemoveAll(pythonLink.dir)
	}
	os.Exit(code)
}

func testPlugin(t *testing.T) string {
	p, err := filepath.Abs(testPluginPath())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testPluginPath() string { return filepath.Join("testdata", "authx-plugin-sdktest") }

// TestPythonUnit runs the SDK's Python unit tests: Struct round trips,
// the schema's checks, error classes as status codes and ErrorInfo
// trailers, continuations, LoginStream events.
func TestPythonUnit(t *testing.T) {
	py, _ := python(t)
	c := exec.Command(py, "-B", "-m", "unittest", "discover", "-s", "tests", "-v")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("python unit tests: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "test_nested_lists_numbers_null_bools") || !strings.Contains(string(out), "test_errors_become_status_codes") {
		t.Fatalf("the unit tests did not run:\n%s", out)
	}
}

func startHost(t *testing.T) (*host.Host, *host.Plugin) {
	t.Helper()
	_, path := python(t)
	t.Setenv("PATH", path)
	t.Setenv("HOME", t.TempDir())
	h := host.New(host.Options{})
	t.Cleanup(h.Close)
	p, err := h.Start(context.Background(), host.Spec{Scheme: "sdktest", Path: testPlugin(t)})
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// Each error class the SDK offers reaches the host as its kind, so as the
// exit code docs/plugin-protocol.md gives it (ErrorInfo reasons included);
// an exception that is no error class is a plugin failure.
func TestPythonErrorClasses(t *testing.T) {
	_, p := startHost(t)
	ctx := context.Background()
	for fail, kind := range map[string]core.Kind{
		"config": core.KindConfig, "login-required": core.KindLoginRequired, "rejected": core.KindRejected,
		"network": core.KindNetwork, "http": core.KindHTTP, "server-error": core.KindHTTPServer,
		"forbidden": core.KindForbidden, "timeout": core.KindTimeout, "bad-answer": core.KindBadAnswer,
		"token-invalid": core.KindTokenInvalid, "unsupported": core.KindUnsupported, "plugin": core.KindPlugin,
		"bug": core.KindPlugin,
	} {
		_, err := p.Login(ctx, core.LoginRequest{Config: core.Config{"fail": fail}, URL: "https://a.test/"})
		if core.KindOf(err) != kind {
			t.Errorf("%s: %v (kind %v), want kind %v", fail, err, core.KindOf(err), kind)
		}
		if fail != "bug" && !strings.Contains(fmt.Sprint(err), "failed as "+fail+" asked") {
			t.Errorf("%s: %v, want the plugin's message", fail, err)
		}
	}
	_, err := p.Login(ctx, core.LoginRequest{Config: core.Config{"fial": "x"}, URL: "https://a.test/"})
	if core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), `fial: unknown key; did you mean "fail"?`) {
		t.Errorf("unknown key: %v", err)
	}
}

// The config arrives as the host sent it (nested objects, lists, numbers,
// null, bools), with the schema's defaults filled in, and the credential's
// fields survive Login, Refresh and Apply.
func TestPythonValuesRoundTrip(t *testing.T) {
	_, p := startHost(t)
	ctx := context.Background()
	tree := map[string]any{"s": "x", "n": 1.5, "i": 7.0, "neg": -3.0, "t": true, "f": false, "null": nil,
		"list": []any{"a", 2.0, nil, []any{true}, map[string]any{"k": "v"}}, "empty": map[string]any{}, "none": []any{},
		"deep": map[string]any{"a": map[string]any{"b": map[string]any{"c": "d"}}}}
	res, err := p.RunAction(ctx, core.ActionRequest{Action: "echo", Config: core.Config{"tree": tree}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(res.Stdout, &got); err != nil {
		t.Fatalf("%v: %q", err, res.Stdout)
	}
	if want := map[string]any{"tree": tree, "token": "tok"}; !reflect.DeepEqual(got, want) {
		t.Errorf("config as the plugin saw it:\n got %#v\nwant %#v", got, want)
	}

	cred, err := p.Login(ctx, core.LoginRequest{Config: core.Config{}, URL: "https://a.test/"})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Token != "tok" || string(cred.State) != "s1" || len(cred.Cookies) != 1 || cred.Cookies[0].Value != "c1" ||
		time.Until(cred.ExpiresAt) < 59*time.Minute || time.Until(cred.ExpiresAt) > time.Hour ||
		!reflect.DeepEqual(cred.Headers, []core.Header{{Name: "Authorization", Value: "Bearer tok"}}) {
		t.Errorf("login: %+v", cred)
	}
	ref, err := p.Refresh(ctx, core.RefreshRequest{Config: core.Config{}, Credential: cred})
	if err != nil || ref.Token != "tok-refreshed" || string(ref.State) != "s1+r" {
		t.Errorf("refresh: %+v %v", ref, err)
	}
	res2, err := p.RunAction(ctx, core.ActionRequest{Action: "stdout"})
	if err != nil || string(res2.Stdout) != "printed" || res2.ExitCode != 3 {
		t.Errorf("an action's result: %+v %v", res2, err)
	}
	if _, err := p.RunAction(ctx, core.ActionRequest{Action: "nope"}); core.KindOf(err) != core.KindUnsupported {
		t.Errorf("an unknown action: %v", err)
	}
}

// TestPythonConformance runs authx's conformance kit on the test scheme,
// which claims every capability (LoginStream, Apply's state, a second
// refusal, an action).
func TestPythonConformance(t *testing.T) {
	_, path := python(t)
	t.Setenv("PATH", path)
	plugintest.Test(t, plugintest.Options{Path: testPlugin(t), Config: map[string]any{"token": "conformance"}, Timeout: 30 * time.Second})
}

var handshakeLine = regexp.MustCompile(`^1\|1\|unix\|(/[^|]+)\|grpc\n$`)

// start runs argv as go-plugin would and returns it, the socket from its
// handshake line and what it writes to stdout after that line. The
// process is killed when the test ends.
func start(t *testing.T, path string, argv ...string) (*exec.Cmd, string, <-chan string) {
	t.Helper()
	c, socket, rest, err := launch(path, t.TempDir(), argv...)
	if c != nil {
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, socket, rest
}

// launch is start without a test: dir holds the plugin's HOME and socket.
func launch(path, dir string, argv ...string) (*exec.Cmd, string, <-chan string, error) {
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = []string{"PATH=" + path, "HOME=" + dir, "AUTHX_PLUGIN=6c1fa2b1-authx-plugin-v1", "PLUGIN_PROTOCOL_VERSIONS=1",
		"PLUGIN_UNIX_SOCKET_DIR=" + dir, "AUTHX_LOG_LEVEL=debug", "PYTHONFAULTHANDLER=1"}
	c.Stderr = new(strings.Builder)
	c.WaitDelay = 2 * time.Second
	out, err := c.StdoutPipe()
	if err != nil {
		return nil, "", nil, err
	}
	if err := c.Start(); err != nil {
		return nil, "", nil, err
	}
	lines := make(chan string, 2)
	go func() {
		br := bufio.NewReader(out)
		line, _ := br.ReadString('\n')
		lines <- line
		rest, _ := io.ReadAll(br)
		lines <- string(rest)
	}()
	select {
	case line := <-lines:
		m := handshakeLine.FindStringSubmatch(line)
		if m == nil {
			return c, "", nil, fmt.Errorf("handshake line %q", line)
		}
		return c, m[1], lines, nil
	case <-time.After(10 * time.Second):
		return c, "", nil, fmt.Errorf("no handshake within 10s")
	}
}

// waitExit waits up to d for c to exit; then it asks Python's faulthandler
// for every thread's stack (SIGABRT) and returns an error with c's stderr.
func waitExit(c *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		c.Process.Signal(syscall.SIGABRT)
		<-done
		return fmt.Errorf("still running after %s; its stderr:\n%s", d, c.Stderr)
	}
}

func dial(t *testing.T, socket string) *grpc.ClientConn {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// The lifecycle go-plugin needs: Shutdown exits at once even while a login
// is still running, a print() after the handshake never reaches stdout, the
// stdio stream is served (and ends when the plugin stops), a burst of
// signals ends the plugin without a deadlock, a dead parent is noticed,
// and a plugin run by hand refuses in one line.
func TestPythonLifecycle(t *testing.T) {
	_, path := python(t)
	plugin := testPlugin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	c, socket, rest := start(t, path, plugin)
	conn := dial(t, socket)
	stdio, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/plugin.GRPCStdio/StreamStdio")
	if err != nil {
		t.Fatal(err)
	}
	if err := stdio.SendMsg(&emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	stdio.CloseSend()
	scheme := pluginv1.NewAuthSchemeClient(conn)
	if r, err := scheme.RunAction(ctx, &pluginv1.RunActionRequest{Action: "stdout"}); err != nil || string(r.Stdout) != "printed" {
		t.Fatalf("RunAction: %v %v", r, err)
	}
	go scheme.Login(ctx, &pluginv1.LoginRequest{Config: mustStruct(t, map[string]any{"sleep": 60})}) // still running at Shutdown
	time.Sleep(200 * time.Millisecond)
	begin := time.Now()
	if err := conn.Invoke(ctx, "/plugin.GRPCController/Shutdown", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := waitExit(c, 5*time.Second); err != nil {
		t.Errorf("exit after Shutdown: %v", err)
	}
	if took := time.Since(begin); took > 2*time.Second {
		t.Errorf("exited %s after Shutdown; go-plugin kills a plugin after 2s", took)
	}
	if s := <-rest; s != "" {
		t.Errorf("stdout after the handshake: %q", s)
	}
	if !strings.Contains(fmt.Sprint(c.Stderr), "stray output") {
		t.Errorf("the stray print() is not on stderr:\n%s", c.Stderr)
	}
	if err := stdio.RecvMsg(new(emptypb.Empty)); err == nil {
		t.Error("the stdio stream sent data")
	}
	if _, err := os.Stat(socket); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}

	// A burst of each signal ends the plugin cleanly. (The deadlock of a
	// handler that takes a lock, threading.Event.set, needs the signal to
	// land inside Event.wait's few lines, which no test from outside can
	// aim at: the SDK's handlers take none, tests/test_server.py's
	// StopPipe checks that signals arrive through the wakeup pipe.)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		c, _, _ := start(t, path, plugin)
		for range 200 {
			c.Process.Signal(sig)
		}
		if err := waitExit(c, 5*time.Second); err != nil {
			t.Errorf("%v burst: %v", sig, err)
		}
	}

	// The parent (a shell) dies: the plugin notices within a second or so.
	c, _, _ = start(t, path, "sh", "-c", `"$0" & echo $! >&2; sleep 1`, plugin)
	c.Wait()
	var pid int
	fmt.Sscan(fmt.Sprint(c.Stderr), &pid)
	for deadline := time.Now().Add(5 * time.Second); pid > 0 && syscall.Kill(pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("the plugin (pid %d) outlived its parent by 5s", pid)
			break
		}
	}

	// Run by hand: one line on stderr, nothing on stdout, exit 1.
	cmd := exec.Command(plugin)
	cmd.Env = []string{"PATH=" + path}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("run by hand: %v, stdout %q, stderr %q", err, out.String(), errb.String())
	}
}

// The SDK installs with pip from its folder (offline, onto Debian's
// python3-grpcio and python3-protobuf), and a plugin importing the installed
// package (no link beside it) passes the conformance kit.
func TestPythonPipInstall(t *testing.T) {
	py, _ := python(t)
	if exec.Command(py, "-c", "import venv, ensurepip").Run() != nil {
		why := "no venv for " + py + " (apt-get install python3-venv)"
		if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	if out, err := exec.Command("cp", "-R", ".", src).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	venv := filepath.Join(tmp, "venv")
	for _, argv := range [][]string{
		{py, "-m", "venv", "--system-site-packages", venv},
		{filepath.Join(venv, "bin", "pip"), "install", "-q", "--no-build-isolation", "--no-index", src},
	} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	dir := filepath.Join(tmp, "plugin")
	os.Mkdir(dir, 0o755)
	script, err := os.ReadFile(testPlugin(t))
	if err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(dir, "authx-plugin-sdktest")
	if err := os.WriteFile(plugin, script, 0o755); err != nil {
		t.Fatal(err)
	}
	which := exec.Command(filepath.Join(venv, "bin", "python3"), "-c", "import authx_plugin; print(authx_plugin.__file__)")
	which.Dir = tmp
	out, err := which.Output()
	if err != nil || !strings.HasPrefix(string(out), venv) {
		t.Fatalf("authx_plugin imported from %q (%v), want the venv", out, err)
	}
	t.Setenv("PATH", filepath.Join(venv, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	plugintest.Test(t, plugintest.Options{Path: plugin, Config: map[string]any{}, Timeout: 30 * time.Second})
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
