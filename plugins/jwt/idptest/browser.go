package idptest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Browser is a person at a headless chromium who signs in at the IdP as
// its test user: Path is a command to give authx as $BROWSER, and Visit
// drives one URL from the test itself (a device code's
// verification_uri_complete).
type Browser struct {
	// Path is an executable that, given a URL as its last argument, starts
	// the browser on it in the background and exits at once, as xdg-open
	// does; the browser signs in, consents and follows the redirect to the
	// loopback URL of an authorization code flow, or approves a device
	// code. Each run is recorded: see Opened and Runs.
	Path string

	t     testing.TB
	node  string
	env   []string
	dir   string
	idp   *IdP
	runID int
}

// BrowserOptions configure a Browser.
type BrowserOptions struct {
	// Deny makes the user refuse: abort at the consent page (the client
	// gets error=access_denied) or at the device code confirmation.
	Deny bool
	// Inert makes Path record the URL and do nothing else: for tests
	// where authx must not open a browser, or where the test approves a
	// device code itself with Visit.
	Inert bool
	// Password, when set, is typed instead of the user's: a wrong one
	// leaves the browser on the IdP's refusal (the run fails).
	Password string
}

// NewBrowser returns a browser that signs in at idp. It skips the test when
// chromium is missing, and kills any browser still running when the test
// ends.
func NewBrowser(t testing.TB, idp *IdP, o BrowserOptions) *Browser {
	t.Helper()
	node := needNode(t)
	chromium := chromiumPath()
	if chromium == "" {
		missing(t, "idptest: chromium is not installed (.ci/run installs it: apt-get install chromium)")
	}
	d := t.TempDir()
	action := "approve"
	if o.Deny {
		action = "deny"
	}
	b := &Browser{Path: filepath.Join(d, "browser"), t: t, node: node, dir: d, idp: idp}
	password := idp.Password
	if o.Password != "" {
		password = o.Password
	}
	b.env = []string{
		"IDPTEST_CHROMIUM=" + chromium, "IDPTEST_ISSUER=" + idp.Issuer,
		"IDPTEST_USER=" + idp.User, "IDPTEST_PASSWORD=" + password, "IDPTEST_ACTION=" + action,
		"IDPTEST_PROFILES=" + d,
	}
	var envFile strings.Builder
	for _, kv := range append(b.env, "IDPTEST_NODE="+node, "IDPTEST_DIR="+dir()) {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&envFile, "export %s=%s\n", k, shq(v))
	}
	if err := os.WriteFile(filepath.Join(d, "env"), []byte(envFile.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	script := browserScript
	if o.Inert {
		script = inertScript
	}
	script = strings.ReplaceAll(script, "@DIR@", shq(d))
	if err := os.WriteFile(b.Path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.killAll)
	return b
}

// browserScript is Path: it records the URL (its last argument), then
// runs browser.mjs on it in a session of its own (setsid), so that authx
// waiting for its opener or killing its process group does not touch the
// browser, and the test's cleanup kills the whole browser with its group.
const browserScript = `#!/bin/sh
# $BROWSER for a test (plugins/jwt/idptest): records the URL, drives chromium in the background.
for url; do :; done
d=@DIR@
printf 'open %s\n' "$url" >>"$d/opened"
setsid sh -c '. "$1/env"; cd "$IDPTEST_DIR" && "$IDPTEST_NODE" browser.mjs "$2" >"$1/run-$3.out" 2>"$1/run-$3.err"; echo $? >"$1/run-$3.status"' sh "$d" "$url" "$$" </dev/null >/dev/null 2>&1 &
echo $! >"$d/run-$$.pid"
`

// inertScript is Path for BrowserOptions.Inert.
const inertScript = `#!/bin/sh
# $BROWSER for a test (plugins/jwt/idptest): records the URL only.
for url; do :; done
printf 'open %s\n' "$url" >>@DIR@/opened
`

// chromiumPath finds Debian's chromium.
func chromiumPath() string {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// killAll kills the process group of every browser Path started. The
// group's leader is killed first: it may not have called setsid yet, and
// once killed it starts nothing more. Chromium, in a group of its own,
// quits when node's end of its pipe closes: killAll waits (up to 5 s) for
// every chromium process of this browser to be gone, so that the test's
// directory, where their profiles are, can be removed.
func (b *Browser) killAll() {
	for _, pgid := range b.groups() {
		syscall.Kill(pgid, syscall.SIGKILL)
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	for deadline := time.Now().Add(5 * time.Second); len(processesNaming(b.dir)) > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}

// processesNaming lists the live processes (not zombies) whose command
// line holds dir, other than a shell: the browser's chromium processes,
// whose profile is in dir.
func processesNaming(dir string) []string {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var live []string
	for _, f := range cmdlines {
		data, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(data), dir) || strings.HasPrefix(string(data), "/bin/sh") || strings.HasPrefix(string(data), "sh\x00") {
			continue
		}
		stat, _ := os.ReadFile(strings.TrimSuffix(f, "cmdline") + "stat")
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && !strings.HasPrefix(strings.TrimSpace(string(stat[i+1:])), "Z") {
			cmd := strings.ReplaceAll(string(data), "\x00", " ")
			live = append(live, cmd[:min(len(cmd), 80)])
		}
	}
	return live
}

// groups are the process groups of the browsers Path started.
func (b *Browser) groups() []int {
	files, _ := filepath.Glob(filepath.Join(b.dir, "run-*.pid"))
	var pgids []int
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 1 {
			pgids = append(pgids, pid)
		}
	}
	return pgids
}

// Opened returns the URLs Path was given, in order.
func (b *Browser) Opened() []string {
	data, _ := os.ReadFile(filepath.Join(b.dir, "opened"))
	var urls []string
	for _, l := range strings.Split(string(data), "\n") {
		if u, ok := strings.CutPrefix(l, "open "); ok {
			urls = append(urls, u)
		}
	}
	return urls
}

// Run is one browser run Path started.
type Run struct {
	Status int    // exit status: 0 when the flow completed
	Out    string // "landed URL\npage: TEXT" (the loopback redirect and what it showed) or "success" (device flow)
	Err    string // why it failed
}

// Runs waits up to timeout for every browser Path started to finish and
// returns their outcomes; a run still going after timeout has Status -1.
func (b *Browser) Runs(timeout time.Duration) []Run {
	deadline := time.Now().Add(timeout)
	for {
		pids, _ := filepath.Glob(filepath.Join(b.dir, "run-*.pid"))
		var runs []Run
		done := true
		for _, f := range pids {
			base := strings.TrimSuffix(f, ".pid")
			r := Run{Status: -1}
			if s, err := os.ReadFile(base + ".status"); err == nil {
				r.Status, _ = strconv.Atoi(strings.TrimSpace(string(s)))
			} else {
				done = false
			}
			out, _ := os.ReadFile(base + ".out")
			errb, _ := os.ReadFile(base + ".err")
			r.Out, r.Err = strings.TrimSpace(string(out)), strings.TrimSpace(string(errb))
			runs = append(runs, r)
		}
		if done || time.Now().After(deadline) {
			return runs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Visit drives the browser through url in the foreground, as Path would,
// and returns its outcome, as Run.Out.
func (b *Browser) Visit(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.node, "browser.mjs", url)
	cmd.Dir = dir()
	cmd.Env = append(os.Environ(), b.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // chromium's helpers, if any linger
	if err != nil {
		return "", fmt.Errorf("browser on %s: %v: %s", url, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// shq quotes s for sh.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
