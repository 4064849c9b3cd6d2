package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildDevice builds the device test scheme (core/internal/testkit) beside
// authx, once.
var buildDevice = sync.OnceValue(func() error {
	out, err := exec.Command("go", "build", "-o", binDir+string(os.PathSeparator), "../../core/internal/testkit/cmd/authx-plugin-device").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
})

// deviceEnv is an environment with a profile "dev" of the device scheme,
// whose login shows a code and opens a URL through the host, and a
// $BROWSER script that appends its arguments to the file it returns.
func deviceEnv(t *testing.T) (*env, string) {
	t.Helper()
	if err := buildDevice(); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.config(`
profiles:
  dev:
    scheme: device
    url: https://api.example.com/
    config:
      code: WDJB-MJHT
      id_token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln
`)
	opened := filepath.Join(e.home, "browser-args")
	script := filepath.Join(e.home, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >>'"+opened+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.set("BROWSER=" + script + " --new-window")
	return e, opened
}

// ttyDriver runs argv[2:] under a new pseudo-terminal (Python's pty
// module), its stdout sent to the file argv[1]; it writes the terminal
// transcript (stderr) on its own stderr, then prints the exit code and the
// seconds the command took.
const ttyDriver = `
import os, pty, signal, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.time()
pid, fd = pty.fork()
if pid == 0:
    os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    os.execv(argv[0], argv)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.alarm(20)
seen = b""
while True:
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    seen += data
status = os.waitpid(pid, 0)[1]
took = time.time() - start
sys.stderr.write(seen.decode(errors="replace"))
print(os.waitstatus_to_exitcode(status), "%.3f" % took)
`

// onTerminal runs authx with args on a pseudo-terminal, without
// AUTHX_NO_INPUT, plus vars.
func onTerminal(t *testing.T, e *env, vars []string, args ...string) (r result, took time.Duration) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	out := filepath.Join(t.TempDir(), "stdout")
	c := exec.Command(python, append([]string{"-c", ttyDriver, out, filepath.Join(binDir, "authx")}, args...)...)
	for _, kv := range e.vars {
		if !strings.HasPrefix(kv, "AUTHX_NO_INPUT=") {
			c.Env = append(c.Env, kv)
		}
	}
	c.Env = append(c.Env, vars...)
	var transcript strings.Builder
	c.Stderr = &transcript
	status, err := c.Output()
	if err != nil {
		t.Fatalf("the terminal driver: %v\n%s", err, transcript.String())
	}
	var secs float64
	if _, err := fmt.Sscan(string(status), &r.code, &secs); err != nil {
		t.Fatalf("the terminal driver said %q", status)
	}
	stdout, _ := os.ReadFile(out)
	r.stdout, r.stderr = string(stdout), strings.ReplaceAll(transcript.String(), "\r\n", "\n")
	return r, time.Duration(secs * float64(time.Second))
}

// Issue 11, point 5: on a terminal, `authx login` shows the plugin's notice
// on stderr, line by line, and hands the URL to $BROWSER as its last
// argument; stdout stays empty. The id token is then served from the
// cache by the front and the full CLI alike.
func TestLoginOpensTheBrowser(t *testing.T) {
	e, opened := deviceEnv(t)
	r, _ := onTerminal(t, e, nil, "login", "dev")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("login: %+v", r)
	}
	for _, want := range []string{
		"authx: To sign in, open https://idp.example.com/device\nauthx: and enter the code WDJB-MJHT\n",
		"authx: opening your browser at https://idp.example.com/device?user_code=WDJB-MJHT\n",
		`authx: logged in to profile "dev"`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	args := waitFile(t, opened)
	if args != "--new-window\nhttps://idp.example.com/device?user_code=WDJB-MJHT\n" {
		t.Errorf("$BROWSER got %q", args)
	}
	for _, run := range []func(...string) result{e.run, func(a ...string) result { return e.runBin(filepath.Join(binDir, "authx-cli"), a...) }} {
		if r := run("token", "dev", "--id-token"); r.code != 0 || r.stdout != "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln\n" || r.stderr != "" {
			t.Errorf("token --id-token: %+v", r)
		}
		if r := run("token", "dev"); r.code != 0 || r.stdout != "device-WDJB-MJHT\n" {
			t.Errorf("token: %+v", r)
		}
	}
	noOrphans(t)
}

// With --no-browser the URL is printed and $BROWSER never runs.
func TestLoginNoBrowser(t *testing.T) {
	e, opened := deviceEnv(t)
	r, _ := onTerminal(t, e, nil, "login", "dev", "--no-browser")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "authx: open this URL in your browser: https://idp.example.com/device?user_code=WDJB-MJHT\n") ||
		!strings.Contains(r.stderr, "authx: and enter the code WDJB-MJHT\n") {
		t.Fatalf("login --no-browser: %+v", r)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(opened); err == nil {
		t.Error("$BROWSER ran despite --no-browser")
	}
}

// Issue 11, points 4 and 5: a run that cannot reach the user (no terminal,
// --no-input, CI=true) gives the plugin no UI: the login fails within a
// second with exit 3 and the command to run, and no browser opens.
func TestLoginNonInteractive(t *testing.T) {
	e, opened := deviceEnv(t)
	const want = `authx: profile "dev": the device login needs a browser and this run is non-interactive; run: authx login dev` + "\n"
	check := func(name string, r result, took time.Duration) {
		t.Helper()
		if r.code != 3 || r.stdout != "" || !strings.HasSuffix(r.stderr, want) || took > time.Second {
			t.Errorf("%s: exit %d after %s, stdout %q, stderr %q; want exit 3 within 1s and %q", name, r.code, took, r.stdout, r.stderr, want)
		}
	}
	for _, args := range [][]string{{"login", "dev"}, {"token", "dev"}} {
		// No terminal: a session of its own, with no controlling terminal,
		// and without AUTHX_NO_INPUT.
		c := exec.Command(filepath.Join(binDir, "authx"), args...)
		for _, kv := range e.vars {
			if !strings.HasPrefix(kv, "AUTHX_NO_INPUT=") {
				c.Env = append(c.Env, kv)
			}
		}
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		var stdout, stderr strings.Builder
		c.Stdout, c.Stderr = &stdout, &stderr
		start := time.Now()
		err := c.Run()
		took := time.Since(start)
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		check(strings.Join(args, " ")+" without a terminal", result{stdout.String(), stderr.String(), code}, took)

		start = time.Now()
		r := e.run(args...) // AUTHX_NO_INPUT=1
		check(strings.Join(args, " ")+" with AUTHX_NO_INPUT", r, time.Since(start))

		r, took = onTerminal(t, e, nil, append([]string{"--no-input"}, args...)...)
		check(strings.Join(args, " ")+" --no-input on a terminal", r, took)
		r, took = onTerminal(t, e, []string{"CI=true"}, args...)
		check(strings.Join(args, " ")+" with CI=true on a terminal", r, took)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(opened); err == nil {
		t.Error("$BROWSER ran in a non-interactive run")
	}
	noOrphans(t)
}

// `authx token --id-token` for a credential without one is a one-line
// error of exit 10, from the front as from the full CLI.
func TestIDTokenMissing(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, ""))
	if r := e.run("token", "tk"); r.code != 0 {
		t.Fatal(r)
	}
	const want = `authx: profile "tk": the credential has no id token (an OpenID Connect login with the openid scope gives one)` + "\n"
	for _, bin := range []string{"authx", "authx-cli"} {
		if r := e.runBin(filepath.Join(binDir, bin), "token", "tk", "--id-token"); r.code != 10 || r.stdout != "" || r.stderr != want {
			t.Errorf("%s token --id-token: %+v, want exit 10 and %q", bin, r, want)
		}
	}
	if srv.logins.Load() != 1 {
		t.Errorf("%d logins: --id-token must not log in again", srv.logins.Load())
	}
}

// waitFile returns the contents of path once it exists (at most 5s).
func waitFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 && strings.HasSuffix(string(b), "\n") {
			return string(b)
		}
	}
	t.Fatalf("%s never appeared", path)
	return ""
}
