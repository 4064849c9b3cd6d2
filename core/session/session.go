// Package session turns a profile into a credential.
//
// A Session serves a fresh cached credential without starting anything.
// Otherwise it takes the profile's cache lock (so that of N concurrent authx
// processes exactly one logs in or refreshes), checks the cache again, starts
// the profile's plugin, resolves the secret references of the profile's
// secret fields, and refreshes or logs in, prompting the user through the
// protocol's input-required continuation when the plugin asks.
package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/secret"
	"github.com/authx/authx/core/tlsconfig"
)

// Source says where a credential came from.
type Source int

const (
	FromCache Source = iota + 1
	Refreshed
	LoggedIn
)

func (s Source) String() string {
	switch s {
	case FromCache:
		return "cache"
	case Refreshed:
		return "refresh"
	case LoggedIn:
		return "login"
	}
	return "unknown"
}

// Result is a credential and how it was obtained.
type Result struct {
	Credential *core.Credential
	Source     Source
}

// Session obtains credentials for one profile. It is safe for concurrent
// use once its fields are set: concurrent Gets share one plugin process, and
// the cache's per-profile lock lets one of them (or of several authx
// processes) log in or refresh while the others wait and then read the
// result. Call Close when done.
type Session struct {
	Profile *config.Profile
	// ConfigFile names the file the profile came from, for error messages;
	// "" for an ad-hoc profile built from --set flags.
	ConfigFile string
	Host       *host.Host
	// Store is the credential cache; nil disables caching.
	Store   *cache.Store
	Secrets *secret.Resolver
	// Interactive allows prompting; Prompt asks the user one question.
	Interactive bool
	Prompt      func(ctx context.Context, p core.Prompt) (string, error)
	// UI shows a login's notices and opens its URLs (a browser or device
	// login, protocol minor 3). It reaches the plugin only when Interactive
	// is set; nil, or a non-interactive run, gives the plugin none, and a
	// login that needs the user fails with KindLoginRequired, whose
	// message then ends in "run: authx login PROFILE".
	UI core.UI
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Skew renews credentials this long before they expire.
	Skew time.Duration
	// CallTimeout bounds each plugin call; zero means no bound.
	CallTimeout time.Duration
	Log         hclog.Logger
	// LogMask, when set, is the writer Log writes through: the session adds
	// the profile's secrets to it as it learns them (the resolved secret
	// fields before any plugin call uses them, then each credential it
	// serves or obtains), so that no log line, a plugin's own included,
	// shows them. nil when logging is off.
	LogMask *redact.Writer
	// Warn tells the user something went wrong that the session worked
	// around (a read-only cache, an unreachable token server while the
	// cached credential is still valid): one line, no secret. Nil logs it
	// at warn level.
	Warn func(msg string)
	// URL is the URL the user asked for (authx request's): a login is for
	// it when the profile has no url (LoginRequest.URL, and the probe of
	// LoginRequest.Challenge). Empty: none.
	URL string
	// PluginSpec overrides the plugin the profile runs (e.g. from the
	// config's top-level plugins: entry); zero means the profile's own.
	PluginSpec host.Spec
	// Agent, when set, is asked first for the credential and for
	// signatures (see docs/agent.md); a store: memory profile's credential
	// is handed to it. Without an agent running the session works as
	// without Agent.
	Agent *agent.Client
	// StopAfterObtain says that the caller makes no plugin call after its
	// Get (authx token and header): once a login or refresh has obtained
	// the credential, Get stops the plugin while it writes the credential
	// to the cache, and returns when both are done. A later call starts
	// the plugin again.
	StopAfterObtain bool

	mu       sync.Mutex // guards starting the plugin, desc and resolved; held while prompting
	plugin   atomic.Pointer[host.Plugin]
	desc     core.Description
	resolved core.Config    // resolved once per Session: prompts and cmd: run once
	early    map[string]any // secret fields resolved before resolved was (TLS's client_key)

	tls     *tlsconfig.Loaded // the profile's TLS settings (TLS), once tlsDone
	tlsErr  error
	tlsDone bool

	readOnlyWarned atomic.Bool
	agentWarned    atomic.Bool
	memNoticed     atomic.Bool

	shared *lazyShared // a shared store's connection, once opened (useShared)

	memMu sync.Mutex // held while a store: memory profile's credential is obtained
	mem   memoryStore

	signMu     sync.Mutex       // serialises the Applies that may return state (Sign)
	signedFor  *core.Credential // the credential the latest state of this process is for; guarded by signMu
	signedWith []byte           // that state
}

// New returns a Session for profile p of file f (nil f: an ad-hoc profile,
// not cached) that starts plugins through h. It does no I/O. The session
// cannot prompt until Interactive and Prompt are set.
func New(f *config.File, p *config.Profile, h *host.Host) *Session {
	s := &Session{Profile: p, Host: h, Skew: core.DefaultRefreshSkew, Secrets: &secret.Resolver{}}
	if f == nil {
		return s
	}
	s.ConfigFile = f.Path
	if p.Store != config.StoreMemory {
		s.Store = cache.New(f.Settings.CacheDir)
		s.Store.LockTimeout = f.Settings.LockTimeout
		s.useKeyring(p)
		s.useShared(f, p)
	}
	s.Skew, s.CallTimeout = f.Settings.RefreshSkew, f.Settings.CallTimeout
	if p.Plugin == (config.PluginEntry{}) {
		s.PluginSpec = PluginSpec(f, p.Scheme)
	}
	return s
}

// Open loads the user's authx configuration the way the CLI does
// ($AUTHX_CONFIG, else $XDG_CONFIG_HOME/authx/config.yaml, then AUTHX_*
// variables) and returns the named profile's session, sharing the CLI's
// cache. It never prompts: a login that needs the user fails with
// core.KindLoginRequired. Close the session when done.
func Open(profile string) (*Session, error) {
	f, err := config.Load(config.LoadOptions{})
	if err != nil {
		return nil, err
	}
	p, err := f.Profile(profile)
	if err != nil {
		return nil, err
	}
	h := host.New(host.Options{SearchPath: host.DefaultSearchPath(os.Getenv), StartTimeout: f.Settings.PluginStartTimeout})
	s := New(f, p, h)
	if sock := os.Getenv(agent.EnvSock); sock != "" {
		s.Agent = &agent.Client{Socket: sock}
	}
	return s, nil
}

// Scope returns the URL prefixes the profile's credentials may be sent to:
// its match prefixes, else its url.
func (s *Session) Scope() []string { return s.Profile.Scope() }

// PluginSpec returns the plugin of scheme as the file's top-level plugins:
// entry sets it (explicit path, sha256 pin), or a plain search by name.
func PluginSpec(f *config.File, scheme string) host.Spec {
	spec := host.Spec{Scheme: scheme}
	if e, ok := f.Plugins[scheme]; ok {
		spec.Path, spec.SHA256, spec.PinDir = e.Path, e.SHA256, e.Pin == "dir"
		if e.SHA256 != "" {
			spec.PinSource = fmt.Sprintf("plugins.%s.sha256 in %s", scheme, f.Path)
		}
	}
	return spec
}

func (s *Session) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// warn reports a worked-around failure through Warn.
func (s *Session) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if s.Warn != nil {
		s.Warn(msg)
		return
	}
	s.log().Warn(msg)
}

func (s *Session) log() hclog.Logger {
	if s.Log == nil {
		return hclog.NewNullLogger()
	}
	return s.Log
}

// Key returns the profile's cache key.
func (s *Session) Key() cache.Key { return cache.KeyFor(s.Profile.Name, s.Profile.Identity()) }

// Spec returns the plugin the profile runs.
func (s *Session) Spec() host.Spec {
	if s.PluginSpec.Scheme != "" {
		return s.PluginSpec
	}
	spec := host.Spec{Scheme: s.Profile.Scheme, Path: s.Profile.Plugin.Path, SHA256: s.Profile.Plugin.SHA256, PinDir: s.Profile.Plugin.Pin == "dir"}
	if spec.SHA256 != "" {
		spec.PinSource = s.where("plugin.sha256")
	}
	return spec
}

// where names a key of the profile for messages.
func (s *Session) where(key string) string {
	if s.ConfigFile == "" {
		return "--set " + key
	}
	return fmt.Sprintf("profiles.%s.%s in %s", s.Profile.Name, key, s.ConfigFile)
}

// Cached returns the cached entry, fresh or not, without locking; nil when
// there is none. A store: memory profile's is the one the session holds.
func (s *Session) Cached() *cache.Entry {
	if s.Store == nil {
		return s.Held()
	}
	e, _ := s.Store.Get(s.Key())
	return e
}

// Fresh reports whether e can be served as is (see cache.Entry.Fresh).
func (s *Session) Fresh(e *cache.Entry) bool {
	return e.Fresh(s.now(), s.Skew)
}

// Get returns a usable credential and where it came from: the cached one
// when fresh, else a refreshed or new one, which it caches.
func (s *Session) Get(ctx context.Context) (*Result, error) {
	return s.get(ctx, modeUse, nil)
}

// Credential is Get without the source; it makes a Session an
// authhttp.Source.
func (s *Session) Credential(ctx context.Context) (*core.Credential, error) {
	res, err := s.Get(ctx)
	if err != nil {
		return nil, err
	}
	return res.Credential, nil
}

// Login logs in even when a fresh credential is cached, and caches the result.
func (s *Session) Login(ctx context.Context) (*Result, error) {
	return s.get(ctx, modeLogin, nil)
}

// mode says what get must do.
type mode int

const (
	modeUse   mode = iota // serve a fresh cached credential, else refresh or log in
	modeLogin             // log in, whatever the cache holds
	modeRenew             // the server refused the cached credential: refresh or log in
)

// get serves, refreshes or obtains the credential according to m. For
// modeRenew and modeLogin, rejected is the credential the server refused
// (nil for an explicit login): when the cache, read again under the lock,
// holds another fresh one (a concurrent authx renewed it), that one is
// served, so that one refusal seen by N processes makes one login.
func (s *Session) get(ctx context.Context, m mode, rejected *core.Credential) (*Result, error) {
	res, err := s.serve(ctx, m, rejected)
	if res != nil && s.LogMask != nil {
		s.LogMask.Add(secretsOf(core.Description{}, nil, res.Credential))
	}
	return res, err
}

// serve is get without telling LogMask the credential.
func (s *Session) serve(ctx context.Context, m mode, rejected *core.Credential) (*Result, error) {
	if s.Store == nil {
		if res, ok, err := s.fromAgent(ctx, m); ok || err != nil {
			return res, err
		}
		return s.serveMemory(ctx, m, rejected)
	}
	key := s.Key()
	if m == modeUse {
		if e, err := s.Store.Get(key); err != nil {
			return nil, err
		} else if s.Fresh(e) {
			s.log().Debug("credential served from cache", "profile", s.Profile.Name, "path", s.Store.Path(key))
			return &Result{Credential: &e.Credential, Source: FromCache}, nil
		}
		if res, ok, err := s.fromAgent(ctx, m); ok || err != nil { // the agent renews it
			return res, err
		}
	}
	// Another process (or machine) may have done the work while we waited.
	done := func(e *cache.Entry) bool {
		return s.Fresh(e) && (m == modeUse || rejected != nil && !sameCredential(&e.Credential, rejected))
	}
	old, unlock, err := s.Store.Claim(ctx, key, done)
	if cache.IsReadOnly(err) {
		s.warnReadOnly(err)
		old, _ := s.Store.Get(key) // a stale entry may still be refreshed
		return s.obtainOrKeep(ctx, m, old)
	}
	if err != nil {
		return nil, err
	}
	if unlock == nil {
		if s.Store.Shared != nil {
			s.log().Debug("credential obtained by a concurrent authx or read from the shared store", "profile", s.Profile.Name, "store", s.Profile.Store)
		} else {
			s.log().Debug("credential obtained by a concurrent authx", "profile", s.Profile.Name)
		}
		return &Result{Credential: &old.Credential, Source: FromCache}, nil
	}
	defer unlock()
	res, err := s.obtainOrKeep(ctx, m, old)
	if err != nil || res.Source == FromCache {
		return res, err
	}
	stopped := s.stopAfterObtain()
	err = s.put(key, res)
	stopped()
	if err != nil {
		return nil, err
	}
	return res, nil
}

// obtainOrKeep refreshes old or logs in for get. When that fails for a reason
// other than a refusal (the token server down, a 5xx, a timeout) and old,
// which the server has not refused, has not expired yet (it is only inside
// the refresh skew), old is served with a warning: a script keeps working
// until the credential really expires.
func (s *Session) obtainOrKeep(ctx context.Context, m mode, old *cache.Entry) (*Result, error) {
	res, err := s.obtain(ctx, old, m == modeLogin)
	if err == nil || m != modeUse || old == nil || !transient(err) || !old.Credential.FreshAt(s.now(), 0) {
		return res, err
	}
	left := "no known expiry"
	if !old.Credential.ExpiresAt.IsZero() {
		left = "expires in " + old.Credential.ExpiresAt.Sub(s.now()).Round(time.Second).String()
	}
	s.warn("profile %q: renewing the credential failed (%s); using the cached one, which %s", s.Profile.Name, oneLine(err.Error()), left)
	return &Result{Credential: &old.Credential, Source: FromCache}, nil
}

// transient reports a failure that says nothing about the credential: the
// server could not be reached, answered 5xx or garbage, or too late.
func transient(err error) bool {
	switch core.KindOf(err) {
	case core.KindNetwork, core.KindTimeout, core.KindHTTPServer, core.KindBadAnswer:
		return true
	}
	return false
}

// oneLine keeps the first line of msg.
func oneLine(msg string) string {
	first, _, _ := strings.Cut(msg, "\n")
	return strings.TrimSpace(first)
}

// put caches res. A read-only cache is not an error: the credential is
// used without being cached, with a warning.
func (s *Session) put(key cache.Key, res *Result) error {
	err := s.Store.Put(key, &cache.Entry{Scheme: s.Profile.Scheme, Created: s.now().UTC(), Credential: *res.Credential})
	if cache.IsReadOnly(err) {
		s.warnReadOnly(err)
		return nil
	}
	if err != nil {
		return err
	}
	s.log().Debug("credential cached", "profile", s.Profile.Name, "source", res.Source.String(), "path", s.Store.Path(key))
	return nil
}

// putLocked is put under key's lock, for a writer that does not hold it
// (Challenge's retry credential): another process's Sign reads the entry
// and writes it back with its new state under the lock, and a write
// between the two would be lost.
func (s *Session) putLocked(ctx context.Context, key cache.Key, res *Result) error {
	unlock, err := s.Store.Lock(ctx, key)
	if cache.IsReadOnly(err) {
		s.warnReadOnly(err)
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	return s.put(key, res)
}

// warnReadOnly says that the cache cannot be written, once per session.
func (s *Session) warnReadOnly(err error) {
	if s.readOnlyWarned.Swap(true) {
		return
	}
	s.warn("the credential cache %s cannot be written (%s); continuing without caching", s.Store.Dir(), oneLine(err.Error()))
}

func sameCredential(a, b *core.Credential) bool {
	return a.Token == b.Token && slices.Equal(a.Headers, b.Headers) && slices.Equal(a.Cookies, b.Cookies)
}

// obtain refreshes old when the plugin can, else logs in.
func (s *Session) obtain(ctx context.Context, old *cache.Entry, force bool) (*Result, error) {
	p, desc, err := s.Plugin(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := s.ResolvedConfig(ctx)
	if err != nil {
		return nil, err
	}
	if old != nil && !force && desc.Capabilities.Refresh {
		cctx, cancel := s.callCtx(ctx)
		cred, err := p.Refresh(cctx, core.RefreshRequest{Config: cfg, URL: s.Profile.BaseURL(), Credential: &old.Credential})
		cancel()
		switch k := core.KindOf(err); {
		case err == nil:
			if len(cred.State) == 0 { // a refresh without new state keeps the old one (e.g. the refresh token)
				cred.State = old.Credential.State
			}
			s.boundTTL(cred)
			return &Result{Credential: cred, Source: Refreshed}, nil
		case k == core.KindLoginRequired || k == core.KindRejected:
			s.log().Debug("refresh refused; logging in again", "profile", s.Profile.Name)
		default:
			return nil, s.scrub(err, cfg, &old.Credential)
		}
	}
	cred, err := s.login(ctx, p, desc, cfg)
	if err != nil {
		return nil, err
	}
	s.boundTTL(cred)
	return &Result{Credential: cred, Source: LoggedIn}, nil
}

// maxRounds bounds the input-required conversation with a plugin.
const maxRounds = 8

// UILoginTimeout is the least time a login with a UI is given, whatever
// call_timeout says: the user has to find the browser window or the other
// device, sign in, perhaps approve on their phone. The plugin's own flow
// (the IdP's device code expiry, its redirect wait) usually ends it first.
const UILoginTimeout = 10 * time.Minute

func (s *Session) login(ctx context.Context, p *host.Plugin, desc core.Description, cfg core.Config) (*core.Credential, error) {
	req := core.LoginRequest{Config: cfg, URL: s.loginURL(), Interactive: s.Interactive}
	if s.Interactive {
		req.UI = s.UI
	}
	if desc.Capabilities.LoginChallenge {
		req.Challenge = s.probe(ctx, req.URL)
	}
	waits := req.UI != nil && desc.ProtocolMinor >= pluginrpc.StreamMinor // only such a plugin can wait for the user
	for round := 0; round < maxRounds; round++ {
		cctx, cancel := s.loginCtx(ctx, waits)
		cred, err := p.Login(cctx, req)
		cancel()
		var ir *core.InputRequired
		if !errors.As(err, &ir) {
			return cred, s.loginHint(s.scrub(err, cfg))
		}
		if !s.Interactive || s.Prompt == nil {
			return nil, s.loginHint(core.Errorf(core.KindLoginRequired, "login needs input (%s) but this run is non-interactive; configure it as a secret reference (env:, file:, cmd:)", promptNames(ir.Prompts)))
		}
		answers := make(map[string]string, len(ir.Prompts))
		for _, pr := range ir.Prompts {
			a, err := s.Prompt(ctx, pr)
			if err != nil {
				return nil, err
			}
			answers[pr.ID] = a
		}
		req.Answers, req.Continuation = answers, ir.Continuation
	}
	return nil, core.Errorf(core.KindPlugin, "plugin kept asking for input after %d rounds", maxRounds)
}

// loginCtx bounds one Login call: by call_timeout, or at least
// UILoginTimeout when the login has a UI to wait for the user through (a
// plugin of protocol minor 3 or later, in an interactive run).
func (s *Session) loginCtx(ctx context.Context, ui bool) (context.Context, context.CancelFunc) {
	if ui && s.CallTimeout > 0 && s.CallTimeout < UILoginTimeout {
		return context.WithTimeout(ctx, UILoginTimeout)
	}
	return s.callCtx(ctx)
}

// loginHintPrefix is how a message tells the user the command to run.
const loginHintPrefix = "run: authx login"

// loginHint makes a KindLoginRequired error of a login end in "run: authx
// login PROFILE": it completes a plugin's "run: authx login" with the
// profile's name, or adds the whole hint. Other errors pass unchanged.
func (s *Session) loginHint(err error) error {
	if core.KindOf(err) != core.KindLoginRequired {
		return err
	}
	if s.ConfigFile == "" { // an ad-hoc profile has no name to log in to
		return err
	}
	msg, hint := err.Error(), loginHintPrefix+" "+s.Profile.Name
	switch {
	case strings.HasSuffix(msg, hint):
		return err
	case strings.HasSuffix(msg, loginHintPrefix):
		return core.Errorf(core.KindLoginRequired, "%s", strings.TrimSuffix(msg, loginHintPrefix)+hint)
	}
	return core.Errorf(core.KindLoginRequired, "%s; %s", strings.TrimRight(msg, " .;"), hint)
}

func promptNames(ps []core.Prompt) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += p.ID
	}
	return s
}

func (s *Session) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.CallTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.CallTimeout)
}

// Plugin starts the profile's plugin once and returns it with its
// description.
func (s *Session) Plugin(ctx context.Context) (*host.Plugin, core.Description, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startPlugin(ctx)
}

func (s *Session) startPlugin(ctx context.Context) (*host.Plugin, core.Description, error) {
	if p := s.plugin.Load(); p != nil {
		return p, s.desc, nil
	}
	p, err := s.Host.Start(ctx, s.Spec())
	if err != nil {
		return nil, core.Description{}, err
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	d, err := s.Host.DescribeRunning(cctx, p)
	if err != nil {
		p.Kill()
		return nil, core.Description{}, err
	}
	if d.Name != s.Profile.Scheme {
		p.Kill()
		return nil, core.Description{}, core.Errorf(core.KindPlugin, "plugin %s describes itself as scheme %q, not %q", p.Path, d.Name, s.Profile.Scheme)
	}
	s.log().Debug("plugin ready", "scheme", d.Name, "version", d.Version, "path", p.Path, "pid", p.PID())
	s.desc = d
	s.plugin.Store(p)
	return p, d, nil
}

// ResolvedConfig checks the profile's config against the scheme's schema,
// resolves the secret references of its secret fields and lets the plugin
// check the result. Errors name the config file and key.
func (s *Session) ResolvedConfig(ctx context.Context) (core.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resolved != nil {
		return s.resolved, nil
	}
	p, desc, err := s.startPlugin(ctx)
	if err != nil {
		return nil, err
	}
	raw := core.Config(s.Profile.Config)
	if err := s.diagnose(core.CheckConfig(raw, desc.Config)); err != nil {
		return nil, err
	}
	cfg := make(core.Config, len(raw))
	for k, v := range raw {
		if f, ok := desc.Field(k); ok && f.Secret {
			if r, ok := s.early[k]; ok {
				cfg[k] = r
				continue
			}
			r, err := s.Secrets.ResolveTree(ctx, v)
			if err != nil {
				return nil, core.Prefix(s.where("config."+k), err, core.KindConfig)
			}
			v = r
		}
		cfg[k] = v
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	ds, err := p.Configure(cctx, cfg)
	if err != nil {
		return nil, s.scrub(err, cfg)
	}
	if err := s.diagnose(s.scrubDiagnostics(ds, cfg)); err != nil {
		return nil, err
	}
	s.resolved = cfg
	s.LogMask.Add(secretsOf(desc, cfg))
	return cfg, nil
}

// diagnose turns the first error diagnostic into a config error naming the
// file and key, and logs warnings.
func (s *Session) diagnose(ds []core.Diagnostic) error {
	for _, d := range ds {
		if d.Severity == core.SeverityWarning {
			s.log().Warn("config warning", "key", s.where("config."+d.Field), "message", d.Message)
			continue
		}
		if s.ConfigFile == "" {
			return core.Errorf(core.KindConfig, "--set %s: %s", d.Field, d.Message)
		}
		return core.Errorf(core.KindConfig, "config %s: profiles.%s.config.%s: %s", s.ConfigFile, s.Profile.Name, d.Field, d.Message)
	}
	return nil
}

// Logout deletes the profile's cached credentials, first asking the plugin
// to revoke the cached one when the scheme can (with a shared store, its
// entry there too when it is another: the fleet's). It reports how many entries
// it deleted; a failed revocation is returned as an error after the entries
// are deleted.
func (s *Session) Logout(ctx context.Context) (int, error) {
	var revokeErr error
	var creds []*core.Credential
	if e := s.Cached(); e != nil {
		creds = append(creds, &e.Credential)
	}
	if s.Store != nil { // a shared store's entry: the fleet's, newer than this machine's copy or without one
		if e, _ := s.Store.GetShared(s.Key()); e != nil && (len(creds) == 0 || !sameCredential(creds[0], &e.Credential)) {
			creds = append(creds, &e.Credential)
		}
	}
	if len(creds) > 0 {
		desc, _, err := s.Host.Describe(ctx, s.Spec())

		for _, c := range creds {
			if err == nil && desc.Capabilities.Logout {
				if err := s.revoke(ctx, c); revokeErr == nil {
					revokeErr = err
				}
			}
		}
	}
	n, err := s.forgetHeld(ctx), error(nil)
	if s.Store != nil {
		n, err = s.Store.Delete(s.Profile.Name)
	}
	if err != nil {
		return n, err
	}
	return n, revokeErr
}

func (s *Session) revoke(ctx context.Context, cred *core.Credential) error {
	p, _, err := s.Plugin(ctx)
	if err != nil {
		return err
	}
	cfg, err := s.ResolvedConfig(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	return s.scrub(p.Logout(cctx, core.LogoutRequest{Config: cfg, URL: s.Profile.BaseURL(), Credential: cred}), cfg, cred)
}

// Challenge handles a 401 or 403 answer to a request made with cred: it
// asks the plugin what to do and, when the answer is to retry, refreshes or
// logs in (caching the result) and returns the credential to retry with, and
// whether even a non-idempotent request may be replayed. A refusal comes
// back as an error carrying the plugin's one-line diagnosis. It makes a
// Session an authhttp.Challenger.
func (s *Session) Challenge(ctx context.Context, cred *core.Credential, req core.HTTPRequest, resp core.HTTPResponse) (*core.Credential, bool, error) {
	kind := core.KindHTTP
	if resp.Status == 401 {
		kind = core.KindRejected
	}
	p, desc, err := s.Plugin(ctx)
	if err != nil {
		return nil, false, err
	}
	if !desc.Capabilities.HandleChallenge {
		return nil, false, core.Errorf(kind, "the server answered HTTP %d to %s %s", resp.Status, req.Method, redact.RawURL(req.URL))
	}
	cfg, err := s.ResolvedConfig(ctx)
	if err != nil {
		return nil, false, err
	}
	cctx, cancel := s.callCtx(ctx)
	res, err := p.HandleChallenge(cctx, core.ChallengeRequest{Config: cfg, URL: s.Profile.BaseURL(), Credential: cred, Request: req, Response: resp})
	cancel()
	s.logDecision("challenge", resp.Status, res, err, cfg, cred)
	if err != nil {
		return nil, false, s.scrub(err, cfg, cred)
	}
	var renewed *Result
	switch res.Decision {
	case core.DecisionRetry:
		renewed = &Result{Credential: res.Credential, Source: LoggedIn}
		if s.Store != nil {
			if err := s.putLocked(ctx, s.Key(), renewed); err != nil {
				return nil, false, err
			}
		} else if s.inMemory() {
			s.hold(ctx, renewed.Credential)
		}
	case core.DecisionRefresh:
		renewed, err = s.get(ctx, modeRenew, cred)
	case core.DecisionLogin:
		renewed, err = s.get(ctx, modeLogin, cred)
	default:
		msg := res.Diagnosis
		if msg == "" {
			msg = fmt.Sprintf("the server answered HTTP %d", resp.Status)
		}
		return nil, false, s.scrub(core.Errorf(kind, "%s", msg), cfg, cred)
	}
	if err != nil {
		return nil, false, err
	}
	return renewed.Credential, res.ReplaySafe, nil
}

// Diagnose explains a second refusal: the request was retried once after
// Challenge, with cred, and the server refused it again. A plugin of
// protocol minor 4 that handles challenges is asked once more, with
// Retried set; its error (kind and message) is the error, and so is its
// diagnosis when it decides FAIL. Another decision is not followed (there
// is no second retry): it comes from a plugin that answered as to a first
// refusal, so its diagnosis only completes the status code's message. It
// returns nil when it knows no better than the status code (an older
// plugin is not asked: it would take the refusal for a first one).
//
// A credential refused twice with 401 is forgotten: when the cache still
// holds it, the entry is deleted, so that the next run logs in instead of
// serving it (a DecisionRetry credential is cached before the retry, for
// the processes that wait on the lock). One refused with 403
// authenticates but lacks a permission for this request, and stays. It
// makes a Session an authhttp.Diagnoser.
func (s *Session) Diagnose(ctx context.Context, cred *core.Credential, req core.HTTPRequest, resp core.HTTPResponse) error {
	if resp.Status == 401 {
		s.forgetRefused(ctx, cred)
	}
	p, desc, err := s.Plugin(ctx)
	if err != nil || !desc.Capabilities.HandleChallenge || desc.ProtocolMinor < pluginrpc.ApplyStateMinor {
		return nil
	}
	cfg, err := s.ResolvedConfig(ctx)
	if err != nil {
		return nil
	}
	kind := core.KindHTTP
	if resp.Status == 401 {
		kind = core.KindRejected
	}
	cctx, cancel := s.callCtx(ctx)
	res, err := p.HandleChallenge(cctx, core.ChallengeRequest{Config: cfg, URL: s.Profile.BaseURL(), Credential: cred, Request: req, Response: resp, Retried: true})
	cancel()
	s.logDecision("second refusal", resp.Status, res, err, cfg, cred)
	if err != nil {
		return s.scrub(err, cfg, cred)
	}
	switch {
	case res.Diagnosis == "":
		return nil
	case res.Decision == core.DecisionFail:
		return s.scrub(core.Errorf(kind, "%s", res.Diagnosis), cfg, cred)
	}
	return s.scrub(core.Errorf(kind, "the server refused %s %s again (HTTP %d) after the credential was renewed: %s",
		req.Method, redact.RawURL(req.URL), resp.Status, res.Diagnosis), cfg, cred)
}

// logDecision logs, at debug level, what the plugin answered about a
// refusal (what, with the HTTP status): the decision by name and its
// diagnosis, or the error's message, class and exit code; the profile's
// secrets and the credentials masked as in the error the user sees.
func (s *Session) logDecision(what string, status int, res core.ChallengeResponse, err error, cfg core.Config, cred *core.Credential) {
	l := s.log()
	if !l.IsDebug() {
		return
	}
	set := secretsOf(s.desc, cfg, cred, res.Credential)
	args := []any{"profile", s.Profile.Name, "status", status}
	if err != nil {
		kind := core.KindOf(err)
		l.Debug(what, append(args, "error", set.Scrub(err.Error()), "class", kind.String(), "exit", kind.ExitCode())...)
		return
	}
	args = append(args, "decision", res.Decision.String())
	if res.Diagnosis != "" {
		args = append(args, "diagnosis", set.Scrub(res.Diagnosis))
	}
	l.Debug(what, args...)
}

// forgetRefused deletes the cache entry when it holds cred, under its
// lock; a store: memory profile drops cred when it holds it.
func (s *Session) forgetRefused(ctx context.Context, cred *core.Credential) {
	if s.Store == nil {
		if s.inMemory() {
			s.memMu.Lock()
			if s.mem.held != nil && sameCredential(&s.mem.held.Credential, cred) {
				s.mem.held = nil
			}
			s.memMu.Unlock()
		}
		return
	}
	key := s.Key()
	unlock, err := s.Store.Lock(ctx, key)
	if err != nil {
		return
	}
	defer unlock()
	if e, err := s.Store.Get(key); err == nil && e != nil && sameCredential(&e.Credential, cred) {
		if _, err := s.Store.Delete(s.Profile.Name); err == nil {
			s.log().Debug("refused credential removed from the cache", "profile", s.Profile.Name)
		}
	}
}

// stopAfterObtain starts stopping the plugin when StopAfterObtain is set,
// and returns a function that waits until it has exited.
func (s *Session) stopAfterObtain() (wait func()) {
	if !s.StopAfterObtain {
		return func() {}
	}
	s.mu.Lock()
	p := s.plugin.Swap(nil)
	s.mu.Unlock()
	if p == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Kill()
	}()
	return func() { <-done }
}

// Close stops the plugin if one was started. It never waits for a call in
// progress (a prompt, a plugin starting): after an interrupt the host's
// Close kills whatever is left.
func (s *Session) Close() {
	if p := s.plugin.Swap(nil); p != nil {
		p.Kill()
	}
	s.shared.close()
}
