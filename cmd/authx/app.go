package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
	"github.com/authx/authx/core/browser"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/config/snapshot"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/secret"
	"github.com/authx/authx/core/session"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

// app holds what every command shares. Everything is built lazily: the
// cached path of `authx token` loads the config and reads one cache file,
// and nothing else.
type app struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader

	// global flags
	configPath string
	logLevel   string
	noInput    bool
	quiet      bool
	// noBrowser is login's --no-browser: a login's URLs are printed, not
	// opened.
	noBrowser bool

	cfg *config.File
	// taking is the front's snapshot of cfg, begun when cfg was loaded.
	taking snapshot.Taking
	logger hclog.Logger
	// logMask is the logger's output when logging is on; sessions add the
	// secrets they learn to it.
	logMask *redact.Writer

	hostOnce sync.Once
	host     atomic.Pointer[host.Host] // read by the signal handler too

	mu       sync.Mutex
	sessions []*session.Session
	child    *os.Process // the wrapped command, while it runs

	exitCode int
}

func newApp(ctx context.Context) *app {
	return &app{ctx: ctx, stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}
}

// loadConfig reads the configuration once.
func (a *app) loadConfig() (*config.File, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	settings := map[string]string{}
	if a.logLevel != "" {
		settings["log_level"] = a.logLevel
	}
	if len(settings) == 0 { // the front's snapshot is of the config as loaded without flags
		a.taking = snapshot.Begin(snapshot.ConfigPath(a.configPath, os.Getenv), time.Now())
	}
	f, err := config.Load(config.LoadOptions{Path: a.configPath, Settings: settings})
	if err != nil {
		return nil, err
	}
	a.cfg = f
	return f, nil
}

// saveSnapshot writes the front's snapshot of the config this run loaded
// (core/config/snapshot), when it has none that still holds: the next
// `authx token` then needs no authx-cli. It never fails the command.
func (a *app) saveSnapshot() {
	if a.cfg == nil {
		return
	}
	if err := a.taking.Save(a.cfg, os.Getenv); err != nil && a.logger != nil {
		a.logger.Debug("not writing the front's snapshot", "error", err)
	}
}

// log returns the logger: hclog on stderr at the configured level (off by
// default). It never receives a secret.
func (a *app) log() hclog.Logger {
	if a.logger != nil {
		return a.logger
	}
	level := a.logLevel
	if level == "" && a.cfg != nil {
		level = a.cfg.Settings.LogLevel
	}
	if level == "" {
		level = firstNonEmpty(os.Getenv("AUTHX_LOG"), os.Getenv("AUTHX_LOG_LEVEL"))
	}
	l := hclog.LevelFromString(level)
	if l == hclog.NoLevel {
		l = hclog.Off
	}
	var out io.Writer = a.stderr
	if l != hclog.Off { // a plugin's log lines are relayed as it wrote them: mask what the sessions know
		a.logMask = redact.NewWriter(a.stderr)
		out = a.logMask
	}
	a.logger = hclog.New(&hclog.LoggerOptions{Name: "authx", Output: out, Level: l})
	return a.logger
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// store returns the credential cache.
func (a *app) store() (*cache.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	return cache.New(cfg.Settings.CacheDir), nil
}

// plugins returns the plugin host, created on first use.
func (a *app) plugins() *host.Host {
	a.hostOnce.Do(func() {
		var settings config.Settings
		if a.cfg != nil {
			settings = a.cfg.Settings
		}
		describeCache := ""
		if settings.CacheDir != "" {
			// Not *.json: those are the credential entries.
			describeCache = filepath.Join(settings.CacheDir, "plugins.descriptions")
		}
		a.host.Store(host.New(host.Options{
			SearchPath:    host.DefaultSearchPath(os.Getenv),
			StartTimeout:  settings.PluginStartTimeout,
			Logger:        a.log().Named("plugin"),
			DescribeCache: describeCache,
		}))
	})
	return a.host.Load()
}

// close kills every plugin this run started.
func (a *app) close() {
	a.mu.Lock()
	sessions := a.sessions
	a.sessions = nil
	a.mu.Unlock()
	for _, s := range sessions {
		s.Close()
	}
	a.killPlugins()
}

// killPlugins kills every plugin the host started and refuses new ones; it
// waits for nothing else, so the signal handler can call it mid-prompt.
func (a *app) killPlugins() {
	if h := a.host.Load(); h != nil {
		h.Close()
	}
}

// interactive reports whether this run may reach the user: a terminal, no
// --no-input (or AUTHX_NO_INPUT), and not a CI job (CI=true, as GitHub
// Actions, GitLab CI and most others set it), where nobody would answer
// and a browser must never open.
func (a *app) interactive() bool { return !a.noInput && !inCI(os.Getenv("CI")) && secret.Interactive() }

// inCI reports whether the CI variable says this is a CI job.
func inCI(v string) bool { return strings.EqualFold(v, "true") || v == "1" }

// ui is the UI a login of an interactive run shows notices and opens URLs
// through.
func (a *app) ui() core.UI {
	return &terminalUI{stderr: a.stderr, noBrowser: a.noBrowser, debug: a.log().Debug,
		open: func(url string) error { return browser.Open(url, nil) }}
}

// target is how a command names a profile: by name, by URL, or ad hoc with
// --scheme and --set.
type target struct {
	profile string
	url     string
	scheme  string
	sets    []string
}

func (t *target) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.url, "url", "", "pick the profile whose match prefix is the longest prefix of `URL`")
	cmd.Flags().StringVar(&t.scheme, "scheme", "", "use `SCHEME` ad hoc, without a profile (with --set)")
	cmd.Flags().StringArrayVar(&t.sets, "set", nil, "ad-hoc config `KEY=VALUE` for --scheme (repeatable; a key given again, or a list field's a,b, makes a list; VALUE may be env:NAME, file:PATH, cmd:CMD, prompt:)")
}

// profile resolves t to a profile and the file it came from.
func (a *app) profile(t *target) (*config.Profile, string, error) {
	if t.scheme != "" {
		if t.profile != "" {
			return nil, "", core.Errorf(core.KindConfig, "give a profile or --scheme, not both")
		}
		p, err := config.AdHoc(t.scheme, t.sets)
		if err != nil {
			return nil, "", err
		}
		if t.url != "" {
			p.URL = t.url
		}
		return p, "", nil
	}
	if len(t.sets) > 0 {
		return nil, "", core.Errorf(core.KindConfig, "--set needs --scheme (to change a profile, edit the config file)")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, "", err
	}
	if p, ok, err := cfg.Select(t.profile, t.url, os.Getenv("AUTHX_PROFILE")); ok {
		return p, cfg.Path, err
	}
	names := config.ProfileNames(cfg)
	if len(names) == 0 {
		return nil, "", core.Errorf(core.KindConfig, "no profile given and no config file defines one; use --scheme with --set, or see docs/configuration.md")
	}
	return nil, "", core.Errorf(core.KindConfig, "name a profile or give --url (profiles: %s)", strings.Join(names, ", "))
}

// session returns a session for t. Ad-hoc profiles are not cached.
func (a *app) session(t *target) (*session.Session, error) {
	p, _, err := a.profile(t)
	if err != nil {
		return nil, err
	}
	return a.sessionFor(t, p)
}

// sessionFor returns a session for the profile t resolved to.
func (a *app) sessionFor(t *target, p *config.Profile) (*session.Session, error) {
	var f *config.File
	var err error
	if t.scheme == "" {
		if f, err = a.loadConfig(); err != nil {
			return nil, err
		}
	}
	s := session.New(f, p, a.plugins())
	if f == nil && a.loadConfigQuietly() {
		// Ad hoc: not cached, but timeouts still come from the file.
		s.Skew, s.CallTimeout = a.cfg.Settings.RefreshSkew, a.cfg.Settings.CallTimeout
	}
	s.Interactive = a.interactive()
	s.Prompt = a.prompt
	if s.Interactive {
		s.UI = a.ui()
	}
	s.Log, s.LogMask = a.log(), a.logMask
	if sock := os.Getenv(agent.EnvSock); sock != "" && f != nil {
		s.Agent = &agent.Client{Socket: sock}
	} else if p.Store == config.StoreMemory {
		a.log().Debug("store: memory without an agent ($"+agent.EnvSock+" unset): the credential is not cached, this process logs in", "profile", p.Name)
	}
	s.Warn = func(msg string) { a.notice("warning: %s", msg) }
	s.Secrets = &secret.Resolver{Interactive: s.Interactive, Prompt: secret.TTYPrompt}
	if a.cfg != nil {
		s.Secrets.CmdTimeout = a.cfg.Settings.CmdTimeout
	}
	if t.scheme != "" { // ad hoc: every value came from --set
		s.Secrets.FromArgv, s.Secrets.Warn = "--set", func(m string) { a.notice("warning: %s", m) }
	}
	s.Secrets.Self, s.Secrets.Profile = p.Name, a.profileToken
	a.mu.Lock()
	a.sessions = append(a.sessions, s)
	a.mu.Unlock()
	return s, nil
}

// profileToken returns the current token of the profile name, for a
// profile:NAME reference in another profile's config (a token exchange's
// subject_token): served from the cache, refreshed or logged in as
// `authx token NAME` would. ctx carries the chain of profiles being
// resolved, which the new session's resolver extends (see secret.Resolver).
func (a *app) profileToken(ctx context.Context, name string) (string, error) {
	t := &target{profile: name}
	p, _, err := a.profile(t)
	if err != nil {
		return "", core.Prefix("profile:"+name, err, core.KindConfig)
	}
	s, err := a.sessionFor(t, p)
	if err != nil {
		return "", core.Prefix("profile:"+name, err, core.KindConfig)
	}
	c, err := s.Credential(ctx)
	if err != nil {
		return "", core.Prefix(fmt.Sprintf("profile %q", name), err, core.KindInternal)
	}
	if c.Token == "" {
		return "", core.Errorf(core.KindConfig, "profile:%s: profile %q has no token (its scheme sends headers only)", name, name)
	}
	return c.Token, nil
}

// loadConfigQuietly loads the config for its settings, ignoring errors (an
// ad-hoc run must not fail because of an unrelated profile's typo).
func (a *app) loadConfigQuietly() bool {
	_, err := a.loadConfig()
	return err == nil
}

// prompt asks the user on the terminal: secrets without echo.
func (a *app) prompt(ctx context.Context, p core.Prompt) (string, error) {
	if p.Secret {
		return secret.TTYPrompt(ctx, p.Message)
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", core.Errorf(core.KindLoginRequired, "cannot prompt for %s: no terminal", p.ID)
	}
	defer tty.Close()
	fmt.Fprint(tty, p.Message)
	line, err := bufio.NewReader(tty).ReadString('\n')
	if err != nil && line == "" {
		return "", core.Errorf(core.KindLoginRequired, "no answer for %s", p.ID)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// profileErr prefixes err with the profile it concerns, unless err names
// it first already.
func profileErr(p string, err error) error {
	if err == nil || p == "" || strings.HasPrefix(err.Error(), fmt.Sprintf("profile %q: ", p)) {
		return err
	}
	return core.Prefix(fmt.Sprintf("profile %q", p), err, core.KindInternal)
}

// completeProfiles completes a PROFILE argument from the config file; it
// starts no plugin.
func (a *app) completeProfiles(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return config.ProfileNames(cfg), cobra.ShellCompDirectiveNoFileComp
}
