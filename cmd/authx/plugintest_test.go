package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jenkins/jenkinstest"
)

// TestPluginsTest runs `authx plugins test` end to end: the conformance
// kit against a real plugin binary, a table on stdout, exit 6 and one line
// on stderr when a check fails.
func TestPluginsTest(t *testing.T) {
	noisyDir := t.TempDir()
	noisy := filepath.Join(noisyDir, "authx-plugin-noisy")
	if out, err := exec.Command("go", "build", "-o", noisy, "../../core/plugintest/testdata/noisy").CombinedOutput(); err != nil {
		t.Fatalf("building the noisy plugin: %v\n%s", err, out)
	}
	basic := filepath.Join(binDir, "authx-plugin-basic")
	files := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withRef := write("basic.yaml", "username: alice\npassword: env:PW\n")
	jenkins := jenkinstest.Start(jenkinstest.Options{})
	defer jenkins.Close()
	jenkinsConfig := write("jenkins.yaml", "user: admin\npassword: env:PW\n")
	jwtConfig := write("jwt.yaml", "mode: sign\nalgorithm: HS256\nkey: env:KEY\nissuer: conformance\nttl: 5m\n")
	hmacKey := strings.Repeat("k", 32)
	withoutPassword := write("prompt.json", `{"username": "alice"}`)
	answers := write("answers.yaml", "password: s3cr3t-pw\n")

	tests := []struct {
		name   string
		vars   []string
		args   []string
		code   int
		rows   []string // regexps of table rows
		stderr string   // the one line's start; "" for none
	}{
		{"basic", []string{"PW=s3cr3t-pw"}, []string{basic, "--config", withRef}, 0,
			[]string{`login\s+pass\s+a token, headers: Authorization`, `exits when its host dies\s+pass`, `login stream\s+pass\s+0 notices and 0 URLs, then a credential`, `login without a UI\s+pass\s+logs in without the user`,
				`login rejects a bad config\s+pass\s+refused with INVALID_ARGUMENT`, `second refusal\s+pass`, `^21 passed, 0 failed, 1 skipped$`}, ""},
		{"basic answering its prompt", nil, []string{basic, "--config", withoutPassword, "--answers", answers, "--url", "https://api.example.com/"}, 0,
			[]string{`input required\s+pass\s+Login asked for password; the continuation completed`, `login without a UI\s+pass\s+asks for input, which a non-interactive host refuses at once`, `^22 passed, 0 failed, 0 skipped$`}, ""},
		{"basic without config", nil, []string{basic}, 0,
			[]string{`login\s+skip\s+no Config given`, `login stream\s+skip\s+no Config given`, `^15 passed, 0 failed, 7 skipped$`}, ""},
		{"noisy", []string{"PW=s3cr3t-pw"}, []string{noisy, "--config", withRef}, 6,
			[]string{`stdout stays clean\s+FAIL\s+\d+ bytes written to stdout after the handshake, which carries nothing else: "DEBUG: logging in as alice\\n`,
				`^20 passed, 1 failed, 1 skipped$`}, "authx: 1 of 22 checks failed\n"},
		{"jenkins", []string{"PW=admin-pw"}, []string{filepath.Join(binDir, "authx-plugin-jenkins"), "--config", jenkinsConfig, "--url", jenkins.URL}, 0,
			[]string{`login\s+pass`, `handle challenge\s+pass`, `run action\s+pass`, `^21 passed, 0 failed, 1 skipped$`}, ""},
		{"jwt sign mode", []string{"KEY=" + hmacKey}, []string{filepath.Join(binDir, "authx-plugin-jwt"), "--config", jwtConfig}, 0,
			[]string{`login\s+pass\s+a token, headers: Authorization, expires`, `refresh\s+pass`, `^21 passed, 0 failed, 1 skipped$`}, ""},
		// Issue 12, point 4: the synthetic 401's headers, the expected error class.
		{"challenge", []string{"PW=s3cr3t-pw"}, []string{basic, "--config", withRef, "--challenge", `WWW-Authenticate: Basic realm="api"`, "--challenge", "X-Other: 1"}, 0,
			[]string{`handle challenge\s+pass\s+decision FAIL: .*\(realm "api"\)`, `^21 passed, 0 failed, 1 skipped$`}, ""},
		{"login error expected", []string{"PW=s3cr3t-pw"}, []string{basic, "--config", withRef, "--login-error", "rejected"}, 6,
			[]string{`login\s+FAIL\s+Login succeeded; want an error of class "credentials rejected" \(exit 4\)`}, "authx: "},
		{"bad challenge", nil, []string{basic, "--challenge", "WWW-Authenticate Basic"}, 2, nil, `authx: --challenge "WWW-Authenticate Basic": want HEADER: VALUE` + "\n"},
		{"bad login error", nil, []string{basic, "--login-error", "nope"}, 2, nil, `authx: --login-error "nope": want one of bad-answer, config, `},
		{"unset secret", nil, []string{basic, "--config", withRef}, 2, nil,
			"authx: --config " + withRef + ": password: env:PW: environment variable PW is not set\n"},
		{"missing config file", nil, []string{basic, "--config", filepath.Join(files, "nope.yaml")}, 2, nil, "authx: --config: open "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newEnv(t).set(tt.vars...).run(append([]string{"plugins", "test"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			lines := strings.Count(r.stderr, "\n")
			if !strings.HasPrefix(r.stderr, tt.stderr) || (tt.stderr == "") != (lines == 0) || lines > 1 {
				t.Errorf("stderr %q, want one line starting %q", r.stderr, tt.stderr)
			}
			for _, row := range tt.rows {
				if !regexp.MustCompile(`(?m)` + row).MatchString(r.stdout) {
					t.Errorf("no row matches %s:\n%s", row, r.stdout)
				}
			}
			if tt.rows == nil && r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if strings.Contains(r.stdout+r.stderr, "s3cr3t-pw") {
				t.Errorf("the output shows the secret:\n%s%s", r.stdout, r.stderr)
			}
			noOrphans(t, noisyDir)
		})
	}

	// --log-level debug shows why: the host's log and the plugin's own
	// lines (its stderr), without the secret. (A literal password: with a
	// reference, authx would start the plugin once more to describe it.)
	literal := write("literal.yaml", "username: alice\npassword: s3cr3t-pw\n")
	r := newEnv(t).run("plugins", "test", noisy, "--config", literal, "--log-level", "debug")
	own := regexp.MustCompile(`(?m)^\S+ \[DEBUG\] authx\.plugin\.noisy\.authx-plugin-noisy: plugin address: `)
	if r.code != 6 || !own.MatchString(r.stderr) || !strings.HasSuffix(r.stderr, "authx: 1 of 22 checks failed\n") ||
		strings.Contains(r.stderr, "s3cr3t-pw") {
		t.Errorf("--log-level debug: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	noOrphans(t, noisyDir)
}

// FuzzParseHeaderLine: a --challenge line parses into a header name that
// is an HTTP token and a value without a line break, or is refused with a
// configuration error; never a panic.
func FuzzParseHeaderLine(f *testing.F) {
	for _, s := range []string{`WWW-Authenticate: Digest realm="x", nonce="y"`, "X: ", ":v", "a b: c", "X: a\r\nY: b", "X:\tv\t", "X: \x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, value, err := parseHeaderLine(line)
		if err != nil {
			if core.KindOf(err) != core.KindConfig || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v (kind %v) is not a one-line configuration error", err, core.KindOf(err))
			}
			return
		}
		if !core.ValidHeaderName(name) || strings.ContainsAny(value, "\r\n\x00") || strings.TrimSpace(value) != strings.Trim(value, " \t") {
			t.Fatalf("%q parsed into %q: %q", line, name, value)
		}
		if n2, v2, err := parseHeaderLine(name + ": " + value); err != nil || n2 != name || v2 != value {
			t.Fatalf("%q: %q does not parse back: %q %q %v", line, name+": "+value, n2, v2, err)
		}
	})
}
