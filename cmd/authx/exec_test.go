package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The exec scheme (plugins/exec) end to end: real authx processes, the
// real plugin, and testdata/exec-login.sh, a five-line login that appends
// a line to a counter file at each run and prints a token.

var execBuild struct {
	once sync.Once
	err  error
}

// execPlugin builds authx-plugin-exec beside the test's authx, where authx
// finds it.
func execPlugin(t *testing.T) {
	t.Helper()
	execBuild.once.Do(func() {
		out, err := exec.Command("go", "build", "-o", binDir+string(os.PathSeparator), "../../plugins/exec/cmd/authx-plugin-exec").CombinedOutput()
		if err != nil {
			execBuild.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if execBuild.err != nil {
		t.Fatal(execBuild.err)
	}
}

// execEnv is an environment whose profile P runs exec-login.sh with the
// variables vars (NAME: value) added; it returns the counter file.
func execEnv(t *testing.T, vars ...string) (*env, string) {
	t.Helper()
	execPlugin(t)
	e := newEnv(t)
	counter := filepath.Join(e.home, "runs")
	script, err := filepath.Abs("testdata/exec-login.sh")
	if err != nil {
		t.Fatal(err)
	}
	env := fmt.Sprintf("        EXEC_COUNTER: %q\n", counter)
	for _, kv := range vars {
		name, value, _ := strings.Cut(kv, "=")
		env += fmt.Sprintf("        %s: %q\n", name, value)
	}
	e.config(fmt.Sprintf(`profiles:
  P:
    scheme: exec
    match: https://api.example.com/
    config:
      command: [%q]
      env:
%s`, script, env))
	return e, counter
}

// runs returns the lines the script appended: one per run.
func runs(t *testing.T, counter string) []string {
	t.Helper()
	b, err := os.ReadFile(counter)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestExecCached: `authx token P` twice runs the script once; the second
// answer comes from the cache.
func TestExecCached(t *testing.T) {
	e, counter := execEnv(t)
	for i := 0; i < 2; i++ {
		if r := e.run("token", "P"); r.code != 0 || r.stdout != "tok-1\n" || r.stderr != "" {
			t.Fatalf("token %d: %+v", i+1, r)
		}
	}
	if got := runs(t, counter); len(got) != 1 || got[0] != "login " {
		t.Errorf("runs %q, want one login", got)
	}
}

// TestExecExpired: an answer whose expires_in has passed is not used
// again: the next `authx token P` runs the script again, as a refresh
// with the previous answer's refresh state on its stdin.
func TestExecExpired(t *testing.T) {
	e, counter := execEnv(t, "EXEC_EXPIRES_IN=1")
	if r := e.run("token", "P"); r.code != 0 || r.stdout != "tok-1\n" {
		t.Fatalf("first: %+v", r)
	}
	time.Sleep(1100 * time.Millisecond) // past expires_in (the refresh skew is at most a quarter of the lifetime)
	if r := e.run("token", "P"); r.code != 0 || r.stdout != "tok-2\n" {
		t.Fatalf("after the expiry: %+v", r)
	}
	if got := runs(t, counter); strings.Join(got, "|") != "login |refresh state-1" {
		t.Errorf("runs %q, want a login, then a refresh given state-1", got)
	}
}

// TestExecParallelCold: 20 authx processes started together with an
// empty cache run the script once: the others wait for its answer.
func TestExecParallelCold(t *testing.T) {
	e, counter := execEnv(t, "EXEC_SLEEP=0.5")
	const n = 20
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCmd(t, e.cmd("token", "P"))
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || r.stdout != "tok-1\n" {
			t.Errorf("process %d: %+v", i, r)
		}
	}
	if got := runs(t, counter); len(got) != 1 {
		t.Errorf("%d runs (%q), want 1", len(got), got)
	}
}

// TestExecMalformed: output that is not a valid answer is exit 16 (bad
// answer) with one line naming the problem, never quoting the output.
func TestExecMalformed(t *testing.T) {
	execPlugin(t)
	tests := []struct{ script, want string }{
		{`echo '{"token": "sekrit-tok3n", "expires_in": "an hour"}'`, "expires_in: not a number of seconds"},
		{`echo 'sekrit-tok3n'`, "not a JSON object"},
		{`printf '%s\n' '{"headers": {"X-Key": "sekrit-tok3n\r\nX-Evil: 1"}}'`, "headers.X-Key: holds a control character"},
		{`echo '{"tokn": "sekrit-tok3n"}'`, `unknown field "tokn"`},
	}
	for _, tt := range tests {
		e := newEnv(t)
		e.config(fmt.Sprintf("profiles:\n  P:\n    scheme: exec\n    config:\n      shell: %q\n", tt.script))
		r := e.run("token", "P")
		if r.code != 16 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "authx: ") ||
			!strings.Contains(r.stderr, "the command's output: "+tt.want) || strings.Contains(r.stderr, "sekrit") {
			t.Errorf("%s: exit %d, stderr %q; want 16 and one line naming %q", tt.script, r.code, r.stderr, tt.want)
		}
	}
}

// TestExecTimeout: a script that hangs (waiting on a `sleep 300` child)
// is stopped at its timeout: exit 15, one line, and neither the script,
// its child, nor the plugin is left running.
func TestExecTimeout(t *testing.T) {
	execPlugin(t)
	e := newEnv(t)
	pidFile := filepath.Join(e.home, "child.pid")
	e.config(fmt.Sprintf("profiles:\n  P:\n    scheme: exec\n    config:\n      shell: %q\n      timeout: 1s\n",
		"sleep 300 & echo $! >"+pidFile+"; echo $$ >"+pidFile+".sh; wait"))
	start := time.Now()
	r := e.run("token", "P")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	if r.code != 15 || r.stderr != "authx: the command did not finish within 1s (timeout); it and its children were killed\n" && !strings.Contains(r.stderr, "did not finish within 1s (timeout)") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 15 and one line", r.code, r.stderr)
	}
	for _, f := range []string{pidFile, pidFile + ".sh"} {
		b, err := os.ReadFile(f)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			t.Fatalf("%s: %q %v", f, b, err)
		}
		if alive(pid) {
			t.Errorf("process %d (%s) still runs", pid, filepath.Base(f))
		}
	}
	waitNoPlugins(t)
}

// alive reports whether pid is still there after a short grace: running,
// or a zombie nobody reaped (the exec plugin reaps what it kills).
func alive(pid int) bool {
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
	}
}

// waitNoPlugins fails t when an exec plugin process outlives authx.
func waitNoPlugins(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var left []int
		for _, pid := range pluginProcesses(t) {
			if exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); filepath.Base(exe) == "authx-plugin-exec" {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("exec plugin processes left: %v", left)
		}
	}
}

// TestExecConformance: the exec plugin with a trivial command passes the
// conformance kit (`authx plugins test`).
func TestExecConformance(t *testing.T) {
	execPlugin(t)
	cfg := filepath.Join(t.TempDir(), "exec.yaml")
	if err := os.WriteFile(cfg, []byte(`command: [echo, '{"token": "conformance-tok", "expires_in": 600, "refresh": "r"}']`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newEnv(t).run("plugins", "test", filepath.Join(binDir, "authx-plugin-exec"), "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, " 0 failed") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestExecHostKilled: when authx is killed (SIGKILL, no cleanup) while the
// command runs, the plugin exits and the command dies with it.
func TestExecHostKilled(t *testing.T) {
	execPlugin(t)
	e := newEnv(t)
	pidFile := filepath.Join(e.home, "command.pid")
	e.config(fmt.Sprintf("profiles:\n  P:\n    scheme: exec\n    config:\n      shell: %q\n      timeout: 5m\n", "echo $$ >"+pidFile+"; exec sleep 300"))
	c := exec.Command(filepath.Join(binDir, "authx-cli"), "token", "P")
	c.Env = e.vars
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(pidFile)
		if pid, _ = strconv.Atoi(strings.TrimSpace(string(b))); pid == 0 && time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatal("the command did not start")
		}
	}
	c.Process.Kill()
	c.Wait()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			break // gone, or dead awaiting init's reaping
		}
		if time.Now().After(deadline) {
			killPid(pid)
			t.Fatalf("the command %d outlived the killed authx by 5s", pid)
		}
	}
	waitNoPlugins(t)
}

// killPid kills a process the test left behind.
func killPid(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// TestExecRefreshRefused: a refresh the command refuses with exit 3 (its
// state is stale) is followed by a login, in the same authx call.
func TestExecRefreshRefused(t *testing.T) {
	execPlugin(t)
	e := newEnv(t)
	counter := filepath.Join(e.home, "runs")
	script := `echo "$AUTHX_EXEC_ACTION" >>"$C"; [ "$AUTHX_EXEC_ACTION" = login ] || exit 3; printf '{"token": "tok-%s", "expires_in": 1, "refresh": "r"}' "$(wc -l <"$C" | tr -d ' ')"`
	e.config(fmt.Sprintf("profiles:\n  P:\n    scheme: exec\n    config:\n      shell: %q\n      env:\n        C: %q\n", script, counter))
	if r := e.run("token", "P"); r.code != 0 || r.stdout != "tok-1\n" {
		t.Fatalf("first: %+v", r)
	}
	time.Sleep(1100 * time.Millisecond)
	if r := e.run("token", "P"); r.code != 0 || r.stdout != "tok-3\n" {
		t.Fatalf("after the expiry: %+v", r)
	}
	if got := runs(t, counter); strings.Join(got, " ") != "login refresh login" {
		t.Errorf("runs %q, want login, refresh (refused), login", got)
	}
}
