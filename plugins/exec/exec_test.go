package exec

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

func login(t *testing.T, cfg core.Config) (*core.Credential, error) {
	t.Helper()
	s := &Scheme{Environ: func() []string {
		return []string{"PATH=" + os.Getenv("PATH"), "AUTHX_PLUGIN=cookie", "PLUGIN_UNIX_SOCKET_DIR=/x", "HOME=/h"}
	}}
	if ds := s.Configure(context.Background(), cfg); len(ds) > 0 {
		t.Fatalf("Configure: %v", ds)
	}
	return s.Login(context.Background(), core.LoginRequest{Config: cfg, URL: "https://api.example.com/"})
}

// TestLoginEnvironment: the command gets the plugin's environment without
// the host's plugin variables, the action and URL, and env: on top.
func TestLoginEnvironment(t *testing.T) {
	c, err := login(t, core.Config{
		"shell": `printf '{"token":"%s","refresh":"r"}' "$(env | sort | grep -v '^PWD=\|^SHLVL=\|^_=' | tr '\n' ';' | tr -d ' ')"`,
		"env":   map[string]any{"HOME": "/override", "TENANT": "acme"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "AUTHX_EXEC_ACTION=login;AUTHX_EXEC_URL=https://api.example.com/;HOME=/override;PATH=" + os.Getenv("PATH") + ";TENANT=acme;"
	if c.Token != want || string(c.State) != "r" {
		t.Errorf("environment %q, want %q", c.Token, want)
	}
}

// TestRefreshOnStdin: Refresh hands the previous answer's refresh state
// on stdin; without one it is KindLoginRequired, so that the host logs in.
func TestRefreshOnStdin(t *testing.T) {
	s := &Scheme{}
	cfg := core.Config{"command": []any{"sh", "-c", `read -r s; printf '{"token":"%s-%s"}' "$AUTHX_EXEC_ACTION" "$s"`}}
	c, err := s.Refresh(context.Background(), core.RefreshRequest{Config: cfg, Credential: &core.Credential{State: []byte("st8\n")}})
	if err != nil || c.Token != "refresh-st8" {
		t.Fatalf("Refresh = %+v, %v", c, err)
	}
	_, err = s.Refresh(context.Background(), core.RefreshRequest{Config: cfg, Credential: &core.Credential{Token: "x"}})
	if core.KindOf(err) != core.KindLoginRequired {
		t.Fatalf("Refresh without state = %v, want login required", err)
	}
}

// TestFailures: each way a command fails is one line of its own kind,
// quoting at most the last line of stderr (made safe).
func TestFailures(t *testing.T) {
	tests := []struct {
		cfg  core.Config
		kind core.Kind
		want string
	}{
		{core.Config{"shell": "echo 'vault: permission denied' >&2; exit 2"}, core.KindPlugin, "the command exited with status 2: vault: permission denied"},
		{core.Config{"shell": "printf 'first\\nplease run sso login\\033[0m\\n\\n' >&2; exit 3"}, core.KindLoginRequired, "status 3 (login required): please run sso login [0m"},
		{core.Config{"shell": "kill -9 $$"}, core.KindPlugin, "the command was killed (signal: killed)"},
		{core.Config{"command": []any{"authx-no-such-program"}}, core.KindConfig, "cannot run the command authx-no-such-program: not found in PATH"},
		{core.Config{"command": "true", "dir": "/nonexistent-dir"}, core.KindConfig, "no such file or directory"},
		{core.Config{"shell": "head -c 2000000 /dev/zero"}, core.KindBadAnswer, "larger than 1 MiB"},
		{core.Config{"shell": `echo '{"token":"SECRET","expires_in":"soon"}'`}, core.KindBadAnswer, "the command's output: expires_in: not a number of seconds"},
	}
	for _, tt := range tests {
		_, err := login(t, tt.cfg)
		if core.KindOf(err) != tt.kind || err == nil || !strings.Contains(err.Error(), tt.want) || strings.ContainsAny(err.Error(), "\n\r\x1b") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%v: %v (kind %v), want kind %v holding %q", tt.cfg, err, core.KindOf(err), tt.kind, tt.want)
		}
	}
}

// TestTimeoutKillsGroup: a command that hangs with a child is stopped at
// its timeout, and the child (a grandchild of the plugin) is gone too.
func TestTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	_, err := login(t, core.Config{"shell": "sleep 300 & echo $! >" + pidFile + "; wait", "timeout": "500ms"})
	if core.KindOf(err) != core.KindTimeout || !strings.Contains(err.Error(), "did not finish within 500ms (timeout)") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	assertGone(t, pidFile)
}

// TestBackgroundChildKilled: a command that exits but leaves a child
// holding its stdout neither holds the call up nor leaves the child.
func TestBackgroundChildKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	c, err := login(t, core.Config{"shell": `sleep 300 & echo $! >` + pidFile + `; echo '{"token":"t"}'`})
	if err != nil || c.Token != "t" {
		t.Fatalf("= %+v, %v", c, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	assertGone(t, pidFile)
}

// assertGone waits briefly for the process whose pid is in pidFile to be
// gone: killed and reaped (not even a zombie is left).
func assertGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("pid file: %q %v", b, err)
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child %d still runs", pid)
		}
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		cfg  core.Config
		want string // "" = valid
	}{
		{core.Config{"command": []any{"vault", "read", "-field=token", "a,b"}}, ""},
		{core.Config{"command": "/usr/bin/get-token"}, ""},
		{core.Config{"shell": "echo x", "env": map[string]any{"A": "b"}, "timeout": "5s"}, ""},
		{core.Config{}, "command: required"},
		{core.Config{"command": []any{}}, "command: names no program"},
		{core.Config{"command": []any{"a", 1}}, "command: a list of strings"},
		{core.Config{"command": []any{"a"}, "shell": "b"}, "shell: give command or shell, not both"},
		{core.Config{"shell": " "}, "shell: an empty script"},
		{core.Config{"command": "a", "env": map[string]any{"A=B": "c"}}, "env: \"A=B\" is not a variable name"},
		{core.Config{"command": "a", "env": map[string]any{"PORT": 8200}}, "env.PORT: a string"},
		{core.Config{"command": "a", "timeout": "-1s"}, "timeout: must be a positive duration"},
	}
	for _, tt := range tests {
		ds := (&Scheme{}).Configure(context.Background(), tt.cfg)
		got := ""
		if len(ds) > 0 {
			got = ds[0].Field + ": " + ds[0].Message
		}
		if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
			t.Errorf("%v: %q, want %q", tt.cfg, got, tt.want)
		}
	}
}

// ui records what a login shows the user.
type ui struct{ notes []string }

func (u *ui) Notify(_ context.Context, m string) error    { u.notes = append(u.notes, m); return nil }
func (u *ui) OpenURL(_ context.Context, url string) error { return nil }

// TestStderrShown: with the host's UI (an interactive run), each line of
// the command's stderr reaches the user, made safe; without one it does not.
func TestStderrShown(t *testing.T) {
	cfg := core.Config{"shell": `printf 'Go to https://sso.example/device\ncode: \033[31mABCD-EFGH\n' >&2; echo '{"token":"t"}'`}
	u := &ui{}
	c, err := (&Scheme{}).Login(context.Background(), core.LoginRequest{Config: cfg, Interactive: true, UI: u})
	if err != nil || c.Token != "t" {
		t.Fatalf("= %+v, %v", c, err)
	}
	if strings.Join(u.notes, "|") != "Go to https://sso.example/device|code: [31mABCD-EFGH" {
		t.Errorf("shown %q", u.notes)
	}
}
