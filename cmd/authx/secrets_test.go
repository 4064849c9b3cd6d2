package main

import (
	"strings"
	"testing"
	"time"
)

// TestSetLiteralSecretWarns: --set password=LITERAL works but warns, in
// one line without the secret, that it is in argv; a reference does not.
func TestSetLiteralSecretWarns(t *testing.T) {
	e := newEnv(t).set("PW=s3cr3t-pw")
	r := e.run("header", "--scheme", "basic", "--set", "username=alice", "--set", "password=s3cr3t-pw")
	want := "authx: warning: a secret given with --set is on authx's command line, where other processes can read it (ps); pass env:NAME, file:PATH or prompt: instead\n"
	if r.code != 0 || r.stdout != "Authorization: Basic YWxpY2U6czNjcjN0LXB3\n" || r.stderr != want {
		t.Errorf("literal: %+v; want the header and the warning %q", r, want)
	}
	r = e.run("header", "--scheme", "basic", "--set", "username=alice", "--set", "password=env:PW")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("reference: %+v; want no warning", r)
	}
	// A field given twice that is no list is refused, not silently the last.
	r = e.run("header", "--scheme", "basic", "--set", "username=alice", "--set", "username=bob", "--set", "password=env:PW")
	if r.code != 2 || !strings.Contains(r.stderr, "username") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("username twice: %+v", r)
	}
}

// TestCmdTimeoutSetting: cmd_timeout bounds a cmd: reference.
func TestCmdTimeoutSetting(t *testing.T) {
	e := newEnv(t)
	e.config(`
cmd_timeout: 300ms
profiles:
  slow:
    scheme: basic
    config: {username: alice, password: "cmd:sleep 20; echo pw"}
`)
	start := time.Now()
	r := e.run("header", "slow")
	if r.code != 2 || !strings.Contains(r.stderr, "cmd: command timed out after 300ms") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("%+v", r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}
