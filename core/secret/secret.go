// Package secret resolves secret references: the strings `env:NAME`,
// `file:PATH`, `cmd:COMMAND`, `prompt:[MESSAGE]`, `profile:NAME` and
// `keyring:SERVICE/ACCOUNT` that a
// profile's secret fields may hold instead of the secret itself. Anything
// else is a literal.
//
// Errors never contain a resolved value: they name the reference and say
// what went wrong.
package secret

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// Bounds of the sources.
const (
	// DefaultCmdTimeout bounds a cmd: reference.
	DefaultCmdTimeout = 30 * time.Second
	// MaxSize bounds a secret read from a file: or a cmd: (a trailing
	// newline aside).
	MaxSize     = 64 << 10
	maxSizeText = "64 KiB"
	// orphanGrace is how long the output of a command whose shell has
	// exited is still read: enough for what is in the pipe, not for a
	// child that escaped the process group and holds it open.
	orphanGrace = 100 * time.Millisecond
)

var prefixes = []string{"env:", "file:", "cmd:", "prompt:", "profile:", "keyring:"}

// kinds are the prefixes without their colon, for suggestions.
var kinds = []string{"env", "file", "cmd", "prompt", "profile", "keyring"}

// IsRef reports whether s is a secret reference.
func IsRef(s string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Resolver resolves references. The zero value reads the process
// environment, cannot prompt, and runs commands with DefaultCmdTimeout.
type Resolver struct {
	// Getenv looks a variable up; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// Interactive allows prompt: references; Prompt asks without echo.
	Interactive bool
	Prompt      func(ctx context.Context, message string) (string, error)
	// CmdTimeout bounds cmd: references; zero means DefaultCmdTimeout.
	CmdTimeout time.Duration
	// FromArgv names the flag the values came from ("--set") when they
	// were given on the command line, where other processes can read them
	// (ps, /proc): Warn is then told, once, that a literal secret was.
	FromArgv string
	Warn     func(message string)
	warned   bool
	// Profile returns the current token of another profile, for a
	// profile:NAME reference; the host sets it (a plugin cannot read
	// another profile). ctx carries the chain of profiles being resolved:
	// a Resolver the host makes for NAME must be given it, so that a loop
	// is refused. nil means profile: references are refused.
	Profile func(ctx context.Context, name string) (string, error)
	// Self is the profile whose config this Resolver resolves: a
	// reference back to it, directly or through others, is a cycle.
	Self string
	// Keyring reads a keyring: reference's item; nil means the OS keyring
	// (core/keystore), each read bounded by keystore.DefaultTimeout.
	Keyring func(service, account string) ([]byte, error)
}

// Resolve returns the secret s refers to, or s itself when it is a literal.
func (r *Resolver) Resolve(ctx context.Context, s string) (string, error) {
	if err := Check(s); err != nil {
		return "", err
	}
	kind, arg, _ := strings.Cut(s, ":")
	if !IsRef(s) {
		return s, nil
	}
	switch kind {
	case "env":
		return r.env(arg)
	case "file":
		return readFile(arg)
	case "cmd":
		return r.command(ctx, arg)
	case "profile":
		return r.profile(ctx, arg)
	case "keyring":
		return r.keyring(arg)
	default: // prompt
		return r.prompt(ctx, arg)
	}
}

// Check reports what is wrong with s as a secret field's value without
// resolving it: a misspelt reference ("Env:PW", "envv:PW"), which would
// otherwise be sent as the secret itself, or a reference without its
// argument. A literal and a well-formed reference give nil.
func Check(s string) error {
	kind, arg, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return nil
	case !IsRef(s):
		if isWord(kind) {
			if want := core.Suggest(kind, kinds); want != "" {
				return core.Errorf(core.KindConfig, "%q looks like a misspelt secret reference: did you mean %q? (a literal secret that starts so belongs in an environment variable: env:NAME)", kind+":…", want+":")
			}
		}
	case kind == "env" && arg == "":
		return core.Errorf(core.KindConfig, "env: needs a variable name (env:NAME)")
	case kind == "env" && strings.TrimSpace(arg) != arg:
		return core.Errorf(core.KindConfig, "env:%s: a variable name has no spaces around it (env:%s)", redact.OneLine(arg), redact.OneLine(strings.TrimSpace(arg)))
	case kind == "env" && strings.ContainsFunc(arg, func(r rune) bool { return r == '=' || unicode.IsControl(r) }):
		return core.Errorf(core.KindConfig, "env:%s: not a variable name (it holds = or a control character)", redact.OneLine(arg))
	case kind == "file" && strings.TrimSpace(arg) == "":
		return core.Errorf(core.KindConfig, "file: needs a path (file:PATH)")
	case kind == "cmd" && strings.TrimSpace(arg) == "":
		return core.Errorf(core.KindConfig, "cmd: needs a command (cmd:COMMAND)")
	case kind == "keyring":
		if _, _, err := KeyringName(arg); err != nil {
			return core.Prefix("keyring:"+redact.OneLine(arg), err, core.KindConfig)
		}
	case kind == "profile" && arg == "":
		return core.Errorf(core.KindConfig, "profile: needs a profile name (profile:NAME)")
	case kind == "profile" && !profileName.MatchString(arg):
		return core.Errorf(core.KindConfig, "profile:%s: not a profile name (letters, digits, '.', '_' and '-')", redact.OneLine(arg))
	}
	return nil
}

// ResolveTree returns a copy of v with every string leaf of its maps and
// slices resolved. v itself is not modified. A literal string v from the
// command line is warned about (see FromArgv); literals nested in an object,
// such as a login body's templates, are not.
func (r *Resolver) ResolveTree(ctx context.Context, v any) (any, error) {
	out, err := r.resolveTree(ctx, v)
	if s, ok := v.(string); ok && err == nil && s != "" && !IsRef(s) && r.FromArgv != "" && r.Warn != nil && !r.warned {
		r.warned = true
		r.Warn(fmt.Sprintf("a secret given with %s is on authx's command line, where other processes can read it (ps); pass env:NAME, file:PATH or prompt: instead", r.FromArgv))
	}
	return out, err
}

func (r *Resolver) resolveTree(ctx context.Context, v any) (any, error) {
	switch t := v.(type) {
	case string:
		return r.Resolve(ctx, t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			res, err := r.resolveTree(ctx, e)
			if err != nil {
				return nil, err
			}
			out[k] = res
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			res, err := r.resolveTree(ctx, e)
			if err != nil {
				return nil, err
			}
			out[i] = res
		}
		return out, nil
	}
	return v, nil
}

func (r *Resolver) env(name string) (string, error) {
	lookup := r.Getenv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, ok := lookup(name)
	switch {
	case !ok:
		return "", core.Errorf(core.KindConfig, "env:%s: environment variable %s is not set", redact.OneLine(name), redact.OneLine(name))
	case v == "":
		return "", core.Errorf(core.KindConfig, "env:%s: environment variable %s is empty", redact.OneLine(name), redact.OneLine(name))
	}
	return v, nil
}

// isWord reports whether s is one to eight ASCII letters, the shape of a
// reference's kind.
func isWord(s string) bool {
	if s == "" || len(s) > 8 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// readFile reads a file: reference: a regular file of at most MaxSize
// bytes. It is opened without blocking, so a named pipe is refused rather
// than waited on.
func readFile(path string) (string, error) {
	p := path
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	fail := func(format string, args ...any) (string, error) {
		return "", core.Errorf(core.KindConfig, "file:%s: %s", redact.OneLine(path), redact.OneLine(fmt.Sprintf(format, args...)))
	}
	f, err := os.OpenFile(p, os.O_RDONLY|nonblock, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fail("cannot read %s: %v", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail("cannot read %s: %v", p, err)
	}
	if !fi.Mode().IsRegular() {
		return fail("%s is not a regular file (%s); a secret file holds the secret itself (for a program's output use cmd:, for standard input prompt:)", p, fileType(fi.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+3))
	if err != nil {
		return fail("cannot read %s: %v", p, err)
	}
	if tooLarge(data) {
		return fail("%s is larger than %s", p, maxSizeText)
	}
	return trimNewline(string(data)), nil
}

// fileType names the type of a file that is not a regular one.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// tooLarge reports whether data, read up to MaxSize+3 bytes, holds more
// than MaxSize bytes besides a trailing newline (LF or CR LF).
func tooLarge(data []byte) bool {
	return len(data) > MaxSize+2 || len(trimNewline(string(data))) > MaxSize
}

func trimNewline(s string) string {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "\n")
}

// command runs a cmd: reference with /bin/sh in a process group of its own,
// stdin from /dev/null and stderr discarded (it may echo the secret). It
// reads at most MaxSize bytes of output and waits at most the timeout; when
// the shell exits, or on any failure, the whole group is killed, so a
// background child (`sleep 100 & echo pw`) neither outlives the resolve nor
// holds it up by keeping the output pipe open.
func (r *Resolver) command(ctx context.Context, command string) (string, error) {
	timeout := r.CmdTimeout
	if timeout <= 0 {
		timeout = DefaultCmdTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, w, err := os.Pipe()
	if err != nil {
		return "", core.Errorf(core.KindConfig, "cmd: cannot run the command: %v", err)
	}
	defer out.Close()
	c := exec.Command("/bin/sh", "-c", command)
	c.Stdout = w
	setProcessGroup(c)
	err = c.Start()
	w.Close()
	if err != nil {
		return "", core.Errorf(core.KindConfig, "cmd: cannot run the command: %v", err)
	}
	stop := context.AfterFunc(ctx, func() {
		killGroup(c)
		out.SetReadDeadline(time.Now())
	})
	defer stop()
	exited := make(chan error, 1)
	go func() {
		err := c.Wait()
		killGroup(c) // the shell's background children
		out.SetReadDeadline(time.Now().Add(orphanGrace))
		exited <- err
	}()
	data, _ := io.ReadAll(io.LimitReader(out, MaxSize+3))
	if tooLarge(data) {
		killGroup(c)
		<-exited
		return "", core.Errorf(core.KindConfig, "cmd: the command's output is larger than %s", maxSizeText)
	}
	err = <-exited
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return "", core.Errorf(core.KindConfig, "cmd: command timed out after %s (cmd_timeout; raise it, or AUTHX_CMD_TIMEOUT, if the command is just slow)", timeout)
	case ctx.Err() != nil:
		return "", core.Errorf(core.KindInterrupted, "cmd: command interrupted")
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", core.Errorf(core.KindConfig, "cmd: command exited with status %d", ee.ExitCode())
		}
		return "", core.Errorf(core.KindConfig, "cmd: cannot run the command: %v", err)
	}
	return trimNewline(string(data)), nil
}

func (r *Resolver) prompt(ctx context.Context, message string) (string, error) {
	if !r.Interactive || r.Prompt == nil {
		return "", core.Errorf(core.KindLoginRequired, "prompt: needs a terminal but this run is non-interactive; use env:, file: or cmd: instead")
	}
	if message == "" {
		message = "Secret: "
	} else if !strings.HasSuffix(message, " ") {
		message += " "
	}
	v, err := r.Prompt(ctx, message)
	if err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	return v, nil
}

// profileName is the shape of a profile's name (core/config's rule).
var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// chainKey is the context key of the profiles whose references are being
// resolved, outermost first.
type chainKey struct{}

// profile resolves profile:NAME through r.Profile, refusing a reference
// that leads back to a profile being resolved (NAME is r.Self or encloses
// it): the loop would never end, or deadlock on the profiles' locks.
func (r *Resolver) profile(ctx context.Context, name string) (string, error) {
	if r.Profile == nil {
		return "", core.Errorf(core.KindConfig, "profile:%s: another profile's token can only be used in a profile's config", name)
	}
	chain, _ := ctx.Value(chainKey{}).([]string)
	if r.Self != "" && (len(chain) == 0 || chain[len(chain)-1] != r.Self) {
		chain = append(slices.Clip(chain), r.Self)
	}
	if i := slices.Index(chain, name); i >= 0 {
		loop := append(slices.Clone(chain[i:]), name)
		return "", core.Errorf(core.KindConfig, "profile:%s: a cycle of profile references: %s", name, strings.Join(loop, " → "))
	}
	return r.Profile(context.WithValue(ctx, chainKey{}, chain), name)
}
