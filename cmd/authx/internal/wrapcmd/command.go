package wrapcmd

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/authx/authx/cmd/authx/internal/render"
	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
)

// The descriptors a wrapped tool finds its credential on (never argv):
// curl reads its config from CurlConfigFD and dumps the answers' headers
// to CurlHeaderFD, for authx to read the final status; wget reads its
// wgetrc from WgetrcFD. The TLS material follows on the next ones.
const (
	CurlConfigFD = 3
	CurlHeaderFD = 4
	CurlTLSFD    = 5
	WgetrcFD     = 3
	WgetTLSFD    = 4
)

// TLSPaths are the /dev/fd paths of a profile's TLS material for the tool:
// its CA bundle, client certificate and key; "" for each one not set.
type TLSPaths struct{ CA, Cert, Key string }

// TLSFields are the profile config keys that give TLS settings
// (tlsconfig.CAFileField, ClientCertField, ClientKeyField). The front
// serves no profile that sets one: reading them (a cmd: reference, files)
// is the full CLI's.
var TLSFields = []string{"ca_file", "client_cert", "client_key"}

// CurlArgv returns curl's argv: -q first, so that curl reads no ~/.curlrc
// (whose "location" or "url" lines would get around the checks), then the
// config on CurlConfigFD, then the user's args.
func CurlArgv(args []string) []string {
	return slices.Concat([]string{"curl", "-q", "--config", "/dev/fd/" + strconv.Itoa(CurlConfigFD)}, args)
}

// CurlConfig returns the curl config holding cred's headers, the header
// dump to CurlHeaderFD and the TLS paths. It refuses a credential that
// render.Check refuses.
func CurlConfig(cred *core.Credential, tls TLSPaths) (string, error) {
	var conf strings.Builder
	if err := render.Headers(&conf, "curl", "", "", cred, false); err != nil {
		return "", err
	}
	conf.WriteString("dump-header = \"/dev/fd/" + strconv.Itoa(CurlHeaderFD) + "\"\n")
	for _, l := range []struct{ option, path string }{{"cacert", tls.CA}, {"cert", tls.Cert}, {"key", tls.Key}} {
		if l.path != "" {
			conf.WriteString(l.option + " = \"" + l.path + "\"\n")
		}
	}
	return conf.String(), nil
}

// WgetArgv returns wget's argv: the wgetrc on WgetrcFD (which replaces
// ~/.wgetrc), the user's args, and --max-redirect=0 as the last option (see
// NoRedirects).
func WgetArgv(args []string) []string {
	return slices.Concat([]string{"wget", "--config=/dev/fd/" + strconv.Itoa(WgetrcFD)}, NoRedirects(args))
}

// Wgetrc returns the wgetrc holding cred's headers and the TLS paths.
func Wgetrc(cred *core.Credential, tls TLSPaths) (string, error) {
	var rc strings.Builder
	if err := render.Headers(&rc, "wget", "", "", cred, false); err != nil {
		return "", err
	}
	for _, l := range []struct{ option, path string }{{"ca_certificate", tls.CA}, {"certificate", tls.Cert}, {"private_key", tls.Key}} {
		if l.path != "" {
			rc.WriteString(l.option + " = " + l.path + "\n")
		}
	}
	return rc.String(), nil
}

// ExecEnv returns the environment of `authx exec`'s command: environ, then
// the credential's variables (render.Env), then those the profile's env:
// map names (ProfileEnv).
func ExecEnv(environ []string, profile string, names map[string]string, cred *core.Credential) ([]string, error) {
	if err := render.Check(cred); err != nil {
		return nil, err
	}
	named, err := ProfileEnv(profile, names, cred)
	if err != nil {
		return nil, err
	}
	return slices.Concat(environ, render.Env(cred), named), nil
}

// ProfileEnv returns the variables a profile's env: map names: each holds
// the token, the Authorization header, the Cookie header or the named
// header. A variable whose value the credential lacks is an error, not an
// empty variable.
func ProfileEnv(profile string, names map[string]string, c *core.Credential) ([]string, error) {
	var env []string
	for _, name := range slices.Sorted(maps.Keys(names)) {
		what := names[name]
		var value string
		switch header, isHeader := strings.CutPrefix(what, "header:"); {
		case what == "token":
			value = c.Token
		case what == "authorization":
			value = headerValue(c, "Authorization")
		case what == "cookie":
			value = c.CookieHeader()
		case isHeader:
			value = headerValue(c, header)
		}
		if value == "" {
			return nil, core.Errorf(core.KindConfig, "profile %q: env.%s: the credential has no %s", profile, name, what)
		}
		env = append(env, name+"="+value)
	}
	return env, nil
}

func headerValue(c *core.Credential, name string) string {
	for _, h := range c.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// CurlRun is curl set up to run: its command with the config on a pipe at
// CurlConfigFD and the header dump on a pipe at CurlHeaderFD, from which a
// goroutine reads the final status.
type CurlRun struct {
	Cmd *exec.Cmd
	// ChildEnds are the parent's copies of descriptors only the child
	// writes to: close them once it started, so that the reader sees EOF.
	ChildEnds []*os.File
	own       []*os.File
	status    chan int
}

// NewCurlRun sets up curl with args, the config conf, and extra (TLS
// files, from CurlTLSFD). Close releases the parent's descriptors.
func NewCurlRun(conf string, args []string, extra []*os.File) (*CurlRun, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "creating a pipe for curl")
	}
	hr, hw, err := os.Pipe()
	if err != nil {
		r.Close()
		w.Close()
		return nil, core.Wrap(core.KindInternal, err, "creating a pipe for curl")
	}
	go func() { // a config larger than the pipe buffer must not block authx
		w.WriteString(conf)
		w.Close()
	}()
	c := &CurlRun{ChildEnds: []*os.File{hw}, own: []*os.File{r, hr}, status: make(chan int, 1)}
	go func() { c.status <- FinalStatus(hr) }()
	argv := CurlArgv(args)
	c.Cmd = exec.Command(argv[0], argv[1:]...)
	c.Cmd.ExtraFiles = append([]*os.File{r, hw}, extra...) // fds 3, 4, 5... in the child
	return c, nil
}

// Status waits for the end of the header dump and returns the final
// status (0 when none was seen). Call it after the child ended and
// ChildEnds were closed.
func (c *CurlRun) Status() int { return <-c.status }

// Close closes the parent's ends of the pipes.
func (c *CurlRun) Close() {
	for _, f := range c.own {
		f.Close()
	}
}

// FinalStatus reads the response headers curl dumps (every answer's, with
// redirects and 1xx) and returns the last status code, 0 when there is
// none. It reads at most 1 MiB, then drains the rest.
func FinalStatus(r io.Reader) int {
	defer io.Copy(io.Discard, r)
	status := 0
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "HTTP/") {
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 {
			if n, err := strconv.Atoi(f[1]); err == nil && n >= 100 && n < 600 && n/100 != 1 {
				status = n
			}
		}
	}
	return status
}

// ExitCode returns the exit code a wrapper reports for its child's wait
// error err: the child's own, 128 + the signal that killed it; ok is false
// when err is not a child's exit status.
func ExitCode(err error) (code int, ok bool) {
	if err == nil {
		return 0, true
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, false
	}
	if ws, isWS := ee.Sys().(syscall.WaitStatus); isWS && ws.Signaled() {
		return 128 + int(ws.Signal()), true
	}
	return ee.ExitCode(), true
}

// Outcome is how a wrapped tool's run ended.
type Outcome struct {
	Code int // the tool's exit code
	// Refused says the answer was an error status a credential may cause:
	// 401 or 403 when the tool tells, any error status when it does not.
	Refused bool
	// Written says the refused answer reached the user's output.
	Written bool
	// Created is when the cache entry whose credential the run used was
	// written (Unix nanoseconds): authx-cli tells from it whether another
	// authx renewed the credential since.
	Created int64
}

// CurlOutcome is the outcome of a curl run that exited with code after
// dumping the final status (0: none seen, because the user's -D took the
// dump or curl failed before an answer).
func CurlOutcome(code, status int) Outcome {
	switch {
	case status == 401 || status == 403:
		return Outcome{Code: code, Refused: true, Written: code != 22}
	case status == 0:
		return Outcome{Code: code, Refused: code == 22}
	}
	return Outcome{Code: code}
}

// WgetOutcome is the outcome of a wget run that exited with code: 6
// (authentication failed) and 8 (an error answer) may be refusals; wget
// writes nothing of the answer unless --content-on-error, which forbids a
// rerun anyway.
func WgetOutcome(code int) Outcome { return Outcome{Code: code, Refused: code == 6 || code == 8} }

// OutcomeEnv is the variable through which the front hands authx-cli the
// outcome of the run it made of a wrapped tool that the server refused:
// authx-cli then renews the credential and reruns the tool when that is
// safe, as after a run of its own, without running the tool a first time.
const OutcomeEnv = "AUTHX_FRONT_OUTCOME"

// String encodes o for OutcomeEnv: "CODE,REFUSED,WRITTEN,CREATED" with
// 0 or 1 for the flags.
func (o Outcome) String() string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return strconv.Itoa(o.Code) + "," + b(o.Refused) + "," + b(o.Written) + "," + strconv.FormatInt(o.Created, 10)
}

// ParseOutcome decodes String's text; ok is false for anything else.
func ParseOutcome(s string) (o Outcome, ok bool) {
	f := strings.Split(s, ",")
	if len(f) != 4 || len(f[0]) > 3 {
		return Outcome{}, false
	}
	code, err := strconv.Atoi(f[0])
	if err != nil || code < 0 || code > 255 || strconv.Itoa(code) != f[0] {
		return Outcome{}, false
	}
	created, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || strconv.FormatInt(created, 10) != f[3] {
		return Outcome{}, false
	}
	flag := func(s string) (bool, bool) { return s == "1", s == "0" || s == "1" }
	refused, ok1 := flag(f[1])
	written, ok2 := flag(f[2])
	if !ok1 || !ok2 {
		return Outcome{}, false
	}
	return Outcome{Code: code, Refused: refused, Written: written, Created: created}, true
}

// Scope returns where a wrapped tool may send the credential: the
// profile's scope, or when it has none (an ad-hoc profile without a url),
// the origin of the first target.
func Scope(profileScope []string, targets []*url.URL) []string {
	if len(profileScope) == 0 && len(targets) > 0 {
		return []string{targets[0].Scheme + "://" + targets[0].Host + "/"}
	}
	return profileScope
}
