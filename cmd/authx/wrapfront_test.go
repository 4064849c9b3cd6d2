package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTool records how it was run: its arguments (one per line, quoted),
// its environment (sorted) and what it reads on fd 3 (curl's config,
// wget's wgetrc), into $AUTHX_TEST_DUMP/<name>.
const fakeTool = `#!/bin/sh
d="$AUTHX_TEST_DUMP/$(basename "$0")"
mkdir -p "$d"
printf '[%%s]\n' "$@" >"$d/argv"
env | LC_ALL=C sort >"$d/env"
if [ -e /dev/fd/3 ]; then cat /dev/fd/3 >"$d/fd3"; fi
exit 0
`

// TestFrontWrappersMatchCLI: the front serves authx curl, wget and exec
// from a fresh cached credential by itself, and runs the tool with the
// same argv, environment and config bytes as authx-cli; for every command
// line it is unsure of, it runs nothing and authx-cli answers.
func TestFrontWrappersMatchCLI(t *testing.T) {
	e := newEnv(t).set(`TOK=t0k"with\quote`, "KEY=api-k3y-0123")
	tools := filepath.Join(e.home, "tools")
	os.MkdirAll(tools, 0o700)
	for _, name := range []string{"curl", "wget", "recorder"} {
		if err := os.WriteFile(filepath.Join(tools, name), []byte(strings.ReplaceAll(fakeTool, "%%", "%")), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.set("PATH=" + tools + string(os.PathListSeparator) + os.Getenv("PATH"))
	e.config(`profiles:
  api:
    scheme: jwt
    match: https://api.example.com/v1/
    config: {mode: static, token: env:TOK}
    env: {GITHUB_TOKEN: token, AUTH: authorization}
  key:
    scheme: jwt
    url: https://keys.example.com/
    config: {mode: static, token: env:KEY, header: X-Api-Key}
  open:
    scheme: jwt
    config: {mode: static, token: env:KEY}
  tls:
    scheme: jwt
    url: https://tls.example.com/
    config: {mode: static, token: env:KEY, ca_file: /nonexistent/ca.pem}
`)
	for _, p := range []string{"api", "key", "open"} {
		if r := e.run("token", p); r.code != 0 {
			t.Fatalf("token %s: %+v", p, r)
		}
	}
	// A directory holding the front alone: what it serves, it serves
	// without authx-cli (which it would be missing, exit 8).
	alone := filepath.Join(e.home, "alone")
	os.MkdirAll(alone, 0o700)
	front, err := os.ReadFile(filepath.Join(binDir, "authx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(alone, "authx"), front, 0o700)

	tests := []struct {
		args   []string
		served bool
	}{
		{[]string{"curl", "api", "--", "-sSf", "https://api.example.com/v1/items"}, true},
		{[]string{"curl", "--", "-s", "HTTPS://API.example.com/v1/x?a=b"}, true}, // the profile by URL
		{[]string{"-q", "--config", "", "curl", "api", "--", "-H", "X-Evil: a\r\nb", "-d", "@-", "https://api.example.com/v1/x"}, true},
		{[]string{"curl", "api", "--", "-sL", "https://api.example.com/v1/x", "--", "https://api.example.com/v1/y"}, true},
		{[]string{"curl", "api", "--", "-sL", "https://api.example.com/v1/x", "--", "-K"}, false}, // after curl's own --, a URL without a scheme
		{[]string{"curl", "api", "--", "-x", "http://proxy.other:3128", "https://api.example.com/v1/x"}, true},
		{[]string{"curl", "open", "--", "https://anything.example.org/a", "https://anything.example.org/b"}, true}, // no scope: the first URL's origin
		{[]string{"curl", "open", "--", "https://anything.example.org/a", "https://other.example.org/b"}, false},
		{[]string{"curl", "key", "--", "-s", "https://keys.example.com/k"}, true},
		{[]string{"curl", "key", "--", "-sL", "https://keys.example.com/k"}, false},                  // -L with an API key header
		{[]string{"curl", "api", "--", "--location-trusted", "https://api.example.com/v1/x"}, false}, // always refused
		{[]string{"curl", "api", "--", "-K", "/dev/null", "https://api.example.com/v1/x"}, false},
		{[]string{"curl", "api", "--", "-sK-", "https://api.example.com/v1/x"}, false},
		{[]string{"curl", "api", "--", "https://api.example.com/v2/x"}, false},            // outside the match prefix
		{[]string{"curl", "api", "--", "https://api.example.com/v1/../admin"}, false},     // dot segments out of it
		{[]string{"curl", "api", "--", "https://api.example.com/v1%2F..%2Fadmin"}, false}, // encoded ones
		{[]string{"curl", "api", "--", "https://api.example.com:8443/v1/x"}, false},       // another port
		{[]string{"curl", "api", "--", "https://api.example.com/v1/x", "http://api.example.com/v1/x"}, false},
		{[]string{"curl", "api", "--", "https://api.example.com/v1/\x7f%zz"}, false}, // does not parse
		{[]string{"curl", "api", "-sSf", "https://api.example.com/v1/x"}, false},     // no --
		{[]string{"curl", "api", "--log-level", "off", "--", "https://api.example.com/v1/x"}, false},
		{[]string{"curl", "--url", "https://api.example.com/v1/", "--", "https://api.example.com/v1/x"}, false},
		{[]string{"curl", "tls", "--", "https://tls.example.com/x"}, false}, // TLS settings: authx-cli's
		{[]string{"curl", "nope", "--", "https://api.example.com/v1/x"}, false},
		{[]string{"curl", "a", "b", "--", "https://api.example.com/v1/x"}, false},
		{[]string{"wget", "api", "--", "-qO-", "https://api.example.com/v1/x"}, true},
		{[]string{"wget", "api", "--", "-q", "--", "https://api.example.com/v1/x"}, true},
		{[]string{"wget", "api", "--", "-r", "https://api.example.com/v1/x"}, false},
		{[]string{"wget", "api", "--", "-e", "input=/etc/passwd", "https://api.example.com/v1/x"}, false},
		{[]string{"wget", "api", "--", "--input-file=u.txt"}, false},
		{[]string{"exec", "api", "--", "recorder", "a b", "$(id)", "'\n"}, true},
		{[]string{"exec", "key", "--", "recorder"}, false}, // env: names a header the credential lacks? no env: served below
		{[]string{"exec", "api", "--"}, false},
		{[]string{"exec", "api", "--", "no-such-command-authx"}, false},
		{[]string{"exec", "--", "recorder"}, false}, // no profile, no $AUTHX_PROFILE
	}
	// key has no env: map: exec serves it.
	tests[31].served = true
	for _, tt := range tests {
		name := strings.Join(tt.args, " ")
		dumps := func(which string) string {
			d := filepath.Join(e.home, "dump-"+which)
			os.RemoveAll(d)
			os.MkdirAll(d, 0o700)
			e.set("AUTHX_TEST_DUMP=" + d)
			return d
		}
		cliDir := dumps("cli")
		cli := e.runBin(filepath.Join(binDir, "authx-cli"), tt.args...)
		aloneDir := dumps("alone")
		byFront := e.runBin(filepath.Join(alone, "authx"), tt.args...)
		fullDir := dumps("full")
		full := e.run(tt.args...)
		if full != cli {
			t.Errorf("%s:\n front %+v\n cli   %+v", name, full, cli)
		}
		if a, b := readDump(t, fullDir), readDump(t, cliDir); a != b {
			t.Errorf("%s: the front ran the tool as\n%s\nauthx-cli as\n%s", name, a, b)
		}
		if tt.served && !strings.Contains(readDump(t, cliDir), "argv") {
			t.Errorf("%s: authx-cli ran no tool: %+v", name, cli)
		}
		switch {
		case tt.served && byFront != cli:
			t.Errorf("%s: the front alone answered %+v, want authx-cli's %+v", name, byFront, cli)
		case tt.served && readDump(t, aloneDir) != readDump(t, cliDir):
			t.Errorf("%s: the front alone ran\n%s\nwant\n%s", name, readDump(t, aloneDir), readDump(t, cliDir))
		case !tt.served && (byFront.code != 8 || readDump(t, aloneDir) != ""):
			t.Errorf("%s: the front alone did not hand it over: %+v, ran %q", name, byFront, readDump(t, aloneDir))
		}
	}
}

// readDump returns what the fake tools recorded under dir, but for the
// variables that name the dump directory itself.
func readDump(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		data, _ := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		var lines []string
		for _, l := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(l, "AUTHX_TEST_DUMP=") && !strings.HasPrefix(l, "_=") {
				lines = append(lines, l)
			}
		}
		fmt.Fprintf(&b, "== %s\n%s\n", rel, strings.Join(lines, "\n"))
		return nil
	})
	return b.String()
}
