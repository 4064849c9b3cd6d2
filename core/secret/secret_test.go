package secret

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/keystore"
)

const value = "s3cr3t-value"

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte(value+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "crlf"), []byte(value+"\r\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "two"), []byte(value+"\n\n"), 0o600)
	env := map[string]string{"PW": value, "EMPTY": ""}
	r := &Resolver{
		Getenv:      func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Interactive: true,
		Prompt: func(_ context.Context, msg string) (string, error) {
			return "typed:" + msg, nil
		},
	}
	tests := []struct {
		in, want string
		kind     core.Kind // 0 = success
		msg      string
	}{
		{"plain literal", "plain literal", 0, ""},
		{"environment:x", "environment:x", 0, ""},
		{"env:PW", value, 0, ""},
		{"env:MISSING", "", core.KindConfig, "env:MISSING: environment variable MISSING is not set"},
		{"env:EMPTY", "", core.KindConfig, "environment variable EMPTY is empty"},
		{"env:", "", core.KindConfig, "needs a variable name"},
		{"env: PW", "", core.KindConfig, "env: PW: a variable name has no spaces around it (env:PW)"},
		{"file:", "", core.KindConfig, "file: needs a path (file:PATH)"},
		{"cmd: ", "", core.KindConfig, "cmd: needs a command (cmd:COMMAND)"},
		// A misspelt reference is not sent as the secret; the rest of the
		// text (perhaps a real password) is not shown.
		{"Env:PW", "", core.KindConfig, `"Env:…" looks like a misspelt secret reference: did you mean "env:"?`},
		{"envv:PW", "", core.KindConfig, `did you mean "env:"?`},
		{"FILE:/run/secrets/pw", "", core.KindConfig, `did you mean "file:"?`},
		{"promt:", "", core.KindConfig, `did you mean "prompt:"?`},
		{"cmdd:" + value, "", core.KindConfig, `did you mean "cmd:"?`},
		// Not close to any kind, or not a word: a literal.
		{"hunter:2", "hunter:2", 0, ""},
		{"https://user:pw@example.com", "https://user:pw@example.com", 0, ""},
		{"3nv:x", "3nv:x", 0, ""},
		{"file:" + filepath.Join(dir, "pw"), value, 0, ""},
		{"file:" + filepath.Join(dir, "crlf"), value, 0, ""},
		{"file:" + filepath.Join(dir, "two"), value + "\n", 0, ""},
		{"file:" + filepath.Join(dir, "nope"), "", core.KindConfig, "no such file or directory"},
		{"cmd:echo " + value, value, 0, ""},
		{"cmd:printf '%s' " + value, value, 0, ""},
		{"cmd:echo " + value + " >&2; exit 3", "", core.KindConfig, "cmd: command exited with status 3"},
		{"prompt:", "typed:Secret: ", 0, ""},
		{"prompt:Jenkins token:", "typed:Jenkins token: ", 0, ""},
	}
	for _, tt := range tests {
		got, err := r.Resolve(context.Background(), tt.in)
		if tt.kind == 0 {
			if err != nil || got != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if core.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Resolve(%q) error %v (kind %v), want %v containing %q", tt.in, err, core.KindOf(err), tt.kind, tt.msg)
		}
		if err != nil && strings.Contains(err.Error(), value) {
			t.Errorf("Resolve(%q) error leaks the secret: %v", tt.in, err)
		}
	}
}

func TestPromptNonInteractive(t *testing.T) {
	_, err := (&Resolver{}).Resolve(context.Background(), "prompt:")
	if core.KindOf(err) != core.KindLoginRequired || !strings.Contains(err.Error(), "non-interactive") {
		t.Errorf("prompt in a non-interactive run: %v", err)
	}
}

func TestResolveTree(t *testing.T) {
	r := &Resolver{Getenv: func(k string) (string, bool) { return "v-" + k, true }}
	in := map[string]any{"user": "alice", "pw": "env:A", "n": 3, "list": []any{"env:B", true}, "nested": map[string]any{"x": "env:C"}}
	got, err := r.ResolveTree(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"user": "alice", "pw": "v-A", "n": 3, "list": []any{"v-B", true}, "nested": map[string]any{"x": "v-C"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolveTree = %v", got)
	}
	if in["pw"] != "env:A" || in["nested"].(map[string]any)["x"] != "env:C" {
		t.Error("ResolveTree modified its input")
	}
}

func TestCmdTimeoutKillsTheGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := &Resolver{CmdTimeout: 300 * time.Millisecond}
	start := time.Now()
	// The shell starts a child that would outlive a plain kill of the shell.
	_, err := r.Resolve(context.Background(), "cmd:sleep 30 & echo $! > "+pidFile+"; wait")
	if core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Fatalf("timeout error: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the command's child %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIsRef(t *testing.T) {
	for s, want := range map[string]bool{"env:X": true, "file:/x": true, "cmd:true": true, "prompt:": true, "literal": false, "ENV:X": false, "": false} {
		if IsRef(s) != want {
			t.Errorf("IsRef(%q) = %v", s, !want)
		}
	}
}

// TestArgvLiteralWarns: a literal secret that came from the command line
// is reported once, without its value; references and values nested in an
// object (a login body's templates) are not.
func TestArgvLiteralWarns(t *testing.T) {
	var warnings []string
	r := &Resolver{FromArgv: "--set", Warn: func(m string) { warnings = append(warnings, m) },
		Getenv: func(string) (string, bool) { return value, true }}
	ctx := context.Background()
	for _, v := range []any{"env:PW", map[string]any{"username": "{{username}}"}, true, ""} {
		if _, err := r.ResolveTree(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if len(warnings) != 0 {
		t.Fatalf("warned about references: %q", warnings)
	}
	for range 2 {
		if got, err := r.ResolveTree(ctx, value); err != nil || got != value {
			t.Fatalf("ResolveTree(literal) = %v, %v", got, err)
		}
	}
	want := "a secret given with --set is on authx's command line, where other processes can read it (ps); pass env:NAME, file:PATH or prompt: instead"
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q, want one: %q", warnings, want)
	}
}

func TestKeyringReference(t *testing.T) {
	items := map[string]string{"github/alice": "s3cret-from-keyring", "x/a/b": "slash"}
	r := &Resolver{Keyring: func(service, account string) ([]byte, error) {
		switch v, ok := items[service+"/"+account]; {
		case service == "down":
			return nil, &keystore.Error{Doing: "reading", Service: service, Account: account, Err: errors.New("no D-Bus session")}
		case !ok:
			return nil, keystore.ErrNotFound
		default:
			return []byte(v), nil
		}
	}}
	for ref, want := range map[string]string{"keyring:github/alice": "s3cret-from-keyring", "keyring:x/a/b": "slash"} {
		if got, err := r.Resolve(context.Background(), ref); err != nil || got != want {
			t.Errorf("%s = %q, %v", ref, got, err)
		}
	}
	for ref, want := range map[string]struct {
		kind core.Kind
		msg  string
	}{
		"keyring:github/bob": {core.KindConfig, "keyring:github/bob: no such item in the keyring (put it there with: authx secret set github/bob)"},
		"keyring:github":     {core.KindConfig, "keyring:github: expected SERVICE/ACCOUNT"},
		"keyring:/alice":     {core.KindConfig, "expected SERVICE/ACCOUNT"},
		"keyring:down/alice": {core.KindKeyring, "keyring:down/alice: reading down/alice in the keyring: no D-Bus session"},
		"keyring:gi\nthub/a": {core.KindConfig, "control character"},
	} {
		_, err := r.Resolve(context.Background(), ref)
		if core.KindOf(err) != want.kind || err == nil || !strings.Contains(err.Error(), want.msg) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: error %v (kind %v), want kind %v containing %q", ref, err, core.KindOf(err), want.kind, want.msg)
		}
	}
	if err := Check("keyrng:github/alice"); err == nil || !strings.Contains(err.Error(), `did you mean "keyring:"`) {
		t.Errorf("misspelt keyring: Check = %v", err)
	}
}
