// Package exec is the exec scheme: a configured command obtains the
// credential and prints it as JSON, and authx does the rest (cache,
// single-flight, scope, redaction). It is how a login someone already has
// as a script (a company SSO tool, `vault read`, an internal token
// service) becomes a profile in five lines. The contract the command
// follows is docs/exec.md; the JSON it prints is parsed by
// plugins/exec/answer.
package exec

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/tlsconfig"
	"github.com/authx/authx/plugins/exec/answer"
)

// Version of the scheme.
const Version = "0.1.0"

// DefaultTimeout bounds one run of the command unless `timeout` says
// otherwise.
const DefaultTimeout = 30 * time.Second

// ExitLoginRequired is the command's exit status that means "the user
// must log in first" (authx exits 3, and a refresh falls back to a login).
const ExitLoginRequired = 3

// Scheme implements core.Scheme and core.Refresher.
type Scheme struct {
	// Log receives the command's stderr, line by line; nil means none.
	Log hclog.Logger
	// Environ is the environment the command starts from, before the
	// host's plugin variables are dropped and `env:` is added; nil means
	// os.Environ.
	Environ func() []string
	// Now is the clock an answer's expires_in counts from; nil means
	// time.Now.
	Now func() time.Time
}

// New returns the exec scheme logging the command's stderr to log.
func New(log hclog.Logger) *Scheme { return &Scheme{Log: log} }

var _ core.Refresher = (*Scheme)(nil)

// Describe implements core.Scheme.
func (s *Scheme) Describe() core.Description {
	return core.Description{
		Name:    "exec",
		Version: Version,
		Summary: "runs a command that prints the credential as JSON (docs/exec.md)",
		Config: append([]core.Field{
			{Name: "command", Type: core.TypeStringList, Help: "the command to run, as a list: program and arguments (no shell; nothing secret: argv is public)"},
			{Name: "shell", Type: core.TypeString, Help: "instead of command: a script run by /bin/sh -c"},
			{Name: "env", Type: core.TypeObject, Secret: true, Help: "variables added to the command's environment, NAME: value or secret reference (env:, file:, cmd:, keyring:)"},
			{Name: "timeout", Type: core.TypeDuration, Default: DefaultTimeout.String(), Help: "how long one run may take before its whole process group is killed"},
			{Name: "dir", Type: core.TypeString, Help: "the command's working directory (default: authx's)"},
		}, tlsconfig.Fields()...), // for authx's requests: the scheme makes none
	}
}

// Configure implements core.Scheme.
func (s *Scheme) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	var ds []core.Diagnostic
	if _, err := commandOf(cfg); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		ds = append(ds, core.DiagError(field, "%s", msg))
	}
	if _, err := envOf(cfg); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		ds = append(ds, core.DiagError(field, "%s", msg))
	}
	if t, ok := cfg["timeout"].(string); ok {
		if d, err := time.ParseDuration(t); err != nil || d <= 0 {
			ds = append(ds, core.DiagError("timeout", "must be a positive duration such as 30s"))
		}
	}
	if _, err := tlsconfig.FromConfig(cfg); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		ds = append(ds, core.DiagError(field, "%s", msg))
	}
	return ds
}

// commandOf returns the argv to run: `command` (a list, or a string that
// is the program alone) or /bin/sh -c with `shell`.
func commandOf(cfg core.Config) ([]string, error) {
	cmd, hasCmd := cfg["command"]
	script, hasShell := cfg["shell"].(string)
	switch {
	case hasCmd && hasShell:
		return nil, fmt.Errorf("shell: give command or shell, not both")
	case hasShell:
		if strings.TrimSpace(script) == "" || strings.ContainsRune(script, 0) {
			return nil, fmt.Errorf("shell: an empty script or one holding NUL")
		}
		return []string{"/bin/sh", "-c", script}, nil
	case !hasCmd:
		return nil, fmt.Errorf("command: required (a list: program and arguments), or shell: a script")
	}
	var argv []string
	switch v := cmd.(type) {
	case string:
		argv = []string{v}
	case []string:
		argv = v
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("command: a list of strings")
			}
			argv = append(argv, s)
		}
	default:
		return nil, fmt.Errorf("command: a list of strings")
	}
	if len(argv) == 0 || argv[0] == "" {
		return nil, fmt.Errorf("command: names no program")
	}
	for _, a := range argv {
		if strings.ContainsRune(a, 0) {
			return nil, fmt.Errorf("command: an argument holds NUL")
		}
	}
	return argv, nil
}

// envOf returns `env:` as NAME=value entries.
func envOf(cfg core.Config) ([]string, error) {
	raw, ok := cfg["env"]
	if !ok {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("env: an object of NAME: value")
	}
	var env []string
	for name, v := range m {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return nil, fmt.Errorf("env: %q is not a variable name", name)
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("env.%s: a string (quote a number)", name)
		}
		if strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("env.%s: the value holds NUL", name)
		}
		env = append(env, name+"="+s)
	}
	return env, nil
}

// Login implements core.Scheme: it runs the command with stdin empty.
// When the host offers a UI (an interactive run), each line the command
// writes to stderr is shown to the user as it comes (a device code, "opening
// your browser"); it is logged in any case.
func (s *Scheme) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	var notify func(string)
	if req.UI != nil {
		notify = func(line string) { req.UI.Notify(ctx, line) }
	}
	return s.obtain(ctx, req.Config, "login", req.URL, req.Interactive, nil, notify)
}

// Refresh implements core.Refresher. Without the refresh state of the
// previous answer it is KindLoginRequired, and the host logs in; with it,
// the command runs again with the state on its stdin and
// AUTHX_EXEC_ACTION=refresh.
func (s *Scheme) Refresh(ctx context.Context, req core.RefreshRequest) (*core.Credential, error) {
	if req.Credential == nil || len(req.Credential.State) == 0 {
		return nil, core.Errorf(core.KindLoginRequired, "the previous answer gave no refresh state")
	}
	return s.obtain(ctx, req.Config, "refresh", req.URL, false, req.Credential.State, nil)
}

func (s *Scheme) obtain(ctx context.Context, cfg core.Config, action, url string, interactive bool, stdin []byte, notify func(string)) (*core.Credential, error) {
	argv, err := commandOf(cfg)
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "%s", err)
	}
	extra, err := envOf(cfg)
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "%s", err)
	}
	env := s.environ()
	env = append(env, "AUTHX_EXEC_ACTION="+action)
	if url != "" {
		env = append(env, "AUTHX_EXEC_URL="+url)
	}
	if interactive {
		env = append(env, "AUTHX_EXEC_INTERACTIVE=1")
	}
	env = append(env, extra...) // last: they override
	out, err := run(ctx, command{
		argv: argv, env: env, dir: cfg.String("dir", ""), stdin: stdin,
		timeout: cfg.Duration("timeout", DefaultTimeout), log: s.Log, notify: notify,
	})
	if err != nil {
		return nil, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	c, err := answer.Parse(out, now())
	if err != nil {
		return nil, core.Prefix("the command's output", err, core.KindBadAnswer)
	}
	return c, nil
}

// environ is the plugin's environment without what the host sets for the
// plugin itself (the handshake, the socket directory, the log level): the
// command is not a plugin.
func (s *Scheme) environ() []string {
	environ := os.Environ
	if s.Environ != nil {
		environ = s.Environ
	}
	var env []string
	for _, kv := range environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PLUGIN_") || strings.HasPrefix(name, "AUTHX_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
