// Package agentd is the authx agent (`authx agent run`): it listens on a
// Unix socket only its user can reach, keeps a session per profile it is
// asked for (core/session), with the plugin process warm until it has been
// idle for Server.Idle, holds store: memory credentials in memory, renews
// credentials ahead of their expiry, and answers the requests of
// core/agent's wire format.
package agentd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
	"github.com/authx/authx/core/authhttp"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/secret"
	"github.com/authx/authx/core/session"
)

// DefaultIdle is how long a plugin process stays warm without a request.
const DefaultIdle = 5 * time.Minute

// Bounds of one connection: the time a client has to send its request,
// the most connections served at once, and the time a request may take
// (a login or refresh: call_timeout bounds each plugin call within it).
const (
	ReadTimeout    = 10 * time.Second
	MaxConns       = 64
	RequestTimeout = 5 * time.Minute
)

// Server is the agent. Set its fields, then Listen and Serve.
type Server struct {
	// Socket is the path to listen at.
	Socket string
	// Idle is how long a plugin stays warm without a request; zero means
	// DefaultIdle.
	Idle time.Duration
	// Host starts the plugins.
	Host *host.Host
	// Log receives the agent's log; nil logs nothing. It never receives
	// a secret.
	Log hclog.Logger
	// LogMask, when set, is the writer Log writes through: the sessions
	// add the secrets they learn to it (see session.Session.LogMask).
	LogMask *redact.Writer
	// Getenv is the environment the agent reads configs and resolves
	// secret references in; nil means os.Getenv.
	Getenv func(string) string
	// PeerUID returns the uid of a connection's peer; nil means
	// agent.PeerUID. Tests inject another.
	PeerUID func(syscall.Conn) (int, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	ln      *net.UnixListener
	unlock  func()
	started time.Time
	conns   chan struct{}
	stopped chan struct{}
	stop    sync.Once

	mu       sync.Mutex
	profiles map[profileKey]*held
	configs  map[string]*loaded
}

// profileKey names a profile as clients do: its config file, name and
// identity digest.
type profileKey struct{ config, profile, identity string }

// held is one profile the agent serves.
type held struct {
	s        *session.Session
	cfgStat  os.FileInfo // the config file as it was when s was made
	lastUsed time.Time
	busy     int         // requests (or a renewal) using s now; never reaped while busy
	expires  time.Time   // of the last credential served
	timer    *time.Timer // renews ahead of expiry
	renewed  time.Time   // when the last renewal ahead of expiry began
	gone     bool        // no longer served: closed once not busy
}

// loaded is a config file as last read.
type loaded struct {
	f  *config.File
	fi os.FileInfo
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() hclog.Logger {
	if s.Log == nil {
		return hclog.NewNullLogger()
	}
	return s.Log
}

func (s *Server) idle() time.Duration {
	if s.Idle > 0 {
		return s.Idle
	}
	return DefaultIdle
}

// ErrRunning says another agent of this user already listens at the
// socket.
var ErrRunning = errors.New("an authx agent already runs")

// Serve answers connections until Stop (or an OpStop request), then kills
// the plugins, forgets the credentials and removes the socket.
func (s *Server) Serve() error {
	go s.reap()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			select {
			case <-s.stopped:
				s.shutdown()
				return nil
			default:
			}
			if !errors.Is(err, net.ErrClosed) { // out of file descriptors, say: wait, go on
				s.log().Warn("accept", "error", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			s.Stop()
			s.shutdown()
			return err
		}
		select {
		case s.conns <- struct{}{}:
			go func() {
				defer func() { <-s.conns }()
				s.serveConn(c)
			}()
		default:
			c.Close() // too many at once: this one goes without the agent
		}
	}
}

// Stop makes Serve return. It is safe to call more than once.
func (s *Server) Stop() {
	s.stop.Do(func() {
		close(s.stopped)
		s.ln.Close()
	})
}

// shutdown kills every plugin and forgets every credential.
func (s *Server) shutdown() {
	s.mu.Lock()
	profiles := s.profiles
	s.profiles = map[profileKey]*held{}
	s.mu.Unlock()
	for _, h := range profiles {
		s.mu.Lock()
		h.gone = true
		s.mu.Unlock()
		if h.timer != nil {
			h.timer.Stop()
		}
		h.s.Close()
	}
	s.Host.Close()
	os.Remove(s.Socket)
	s.unlock()
	s.log().Info("agent stopped")
}

// serveConn answers one request on c, after checking that its peer is
// this user.
func (s *Server) serveConn(c *net.UnixConn) {
	defer c.Close()
	peer := s.PeerUID
	if peer == nil {
		peer = agent.PeerUID
	}
	if uid, err := peer(c); err != nil || uid != os.Geteuid() {
		s.log().Warn("connection refused: not this user", "uid", uid, "error", err)
		return
	}
	c.SetReadDeadline(s.now().Add(ReadTimeout))
	data, err := agent.ReadFrame(c)
	if err != nil {
		s.log().Debug("bad request", "error", err)
		return
	}
	req, err := agent.DecodeRequest(data)
	if err != nil {
		s.log().Debug("bad request", "error", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), RequestTimeout)
	defer cancel()
	resp := s.answer(ctx, req)
	c.SetWriteDeadline(s.now().Add(ReadTimeout))
	if err := agent.Write(c, resp); err != nil {
		s.log().Debug("writing the answer", "error", err)
	}
	if req.Op == agent.OpStop {
		s.Stop()
	}
}

// answer computes the response to req.
func (s *Server) answer(ctx context.Context, req *agent.Request) *agent.Response {
	switch req.Op {
	case agent.OpPing, agent.OpStop:
		return &agent.Response{}
	case agent.OpStatus:
		return &agent.Response{Status: s.status()}
	case agent.OpForget:
		return s.forget(ctx, req.Config, req.Profile)
	}
	h, miss, err := s.acquire(req)
	if miss != "" || err != nil {
		return failure(miss, err)
	}
	defer s.release(h)
	switch req.Op {
	case agent.OpPut:
		if !h.s.Hold(req.Credential) {
			return &agent.Response{Miss: "the profile's credential is kept in the file cache (store: file)"}
		}
		s.log().Debug("credential handed over by a client", "profile", req.Profile)
		s.noteExpiry(h, req.Credential.ExpiresAt)
		return &agent.Response{}
	case agent.OpCredential:
		res, err := h.s.Get(ctx)
		if err != nil {
			return failure("", err)
		}
		s.noteExpiry(h, res.Credential.ExpiresAt)
		cred := *res.Credential
		cred.State = nil // the plugin's: it stays here
		return &agent.Response{Credential: &cred, Source: res.Source.String()}
	case agent.OpApply:
		res, err := h.s.Get(ctx)
		if err != nil {
			return failure("", err)
		}
		s.noteExpiry(h, res.Credential.ExpiresAt)
		if err := inScope(req.Request.URL, h.s.Scope(), res.Credential); err != nil {
			return &agent.Response{Error: &agent.Error{Kind: core.KindOf(err), Message: err.Error()}}
		}
		if !res.Credential.PerRequest {
			return &agent.Response{Headers: res.Credential.HeaderLines()}
		}
		r := req.Request
		hs, err := h.s.Sign(ctx, res.Credential, core.HTTPRequest{Method: r.Method, URL: r.URL, Header: r.Header, BodySHA256: r.BodySHA256})
		if err != nil {
			return failure("", err)
		}
		return &agent.Response{Headers: hs}
	}
	return failure("", core.Errorf(core.KindInternal, "unknown op %q", req.Op))
}

// inScope refuses to sign for a URL outside the profile's and the
// credential's scope, as authhttp.Transport would not send it there.
func inScope(rawURL string, scope []string, cred *core.Credential) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return core.Errorf(core.KindConfig, "apply: %s is not an absolute URL", redact.RawURL(rawURL))
	}
	return authhttp.CheckScope(u, scope, cred)
}

// failure is the response for a miss or an error. Errors the client may
// not meet in its own environment (a login that needs the user, whom only
// the client can reach; a plugin or a secret reference the agent's
// environment lacks) are misses: the client goes on without the agent.
func failure(miss string, err error) *agent.Response {
	if miss != "" {
		return &agent.Response{Miss: miss}
	}
	switch k := core.KindOf(err); k {
	case core.KindLoginRequired, core.KindConfig, core.KindPluginNotFound:
		return &agent.Response{Miss: err.Error()}
	default:
		return &agent.Response{Error: &agent.Error{Kind: k, Message: err.Error()}}
	}
}

// forget drops every identity of profile in config: a held credential is
// revoked (when the scheme can) and forgotten, the plugin stopped.
func (s *Server) forget(ctx context.Context, config, profile string) *agent.Response {
	s.mu.Lock()
	var hs []*held
	for k, h := range s.profiles {
		if k.config == config && k.profile == profile {
			h.busy++ // closed by release, after the revocation
			s.drop(k, h)
			hs = append(hs, h)
		}
	}
	s.mu.Unlock()
	resp := &agent.Response{}
	for _, h := range hs {
		if h.s.Held() != nil {
			resp.Count++
			if _, err := h.s.Logout(ctx); err != nil && resp.Error == nil {
				resp.Error = &agent.Error{Kind: core.KindOf(err), Message: err.Error()}
			}
		}
		s.release(h)
	}
	s.log().Info("profile forgotten", "profile", profile, "config", config, "credentials", resp.Count)
	return resp
}

// acquire returns the profile req names, marked busy, making its session
// on first use; miss says why the agent cannot serve it.
func (s *Server) acquire(req *agent.Request) (*held, string, error) {
	key := profileKey{req.Config, req.Profile, req.Identity}
	fi, err := os.Stat(req.Config)
	if err != nil {
		return nil, "cannot read " + req.Config, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.profiles[key]; h != nil && sameFile(h.cfgStat, fi) {
		h.busy++
		h.lastUsed = s.now()
		return h, "", nil
	} else if h != nil { // the file changed: read it again
		s.drop(key, h)
	}
	f, err := s.config(req.Config, fi)
	if err != nil {
		return nil, err.Error(), nil
	}
	p, ok := f.Profiles[req.Profile]
	if !ok {
		return nil, fmt.Sprintf("no profile %q in %s", req.Profile, req.Config), nil
	}
	if agent.IdentityDigest(p.Identity()) != req.Identity {
		return nil, fmt.Sprintf("profile %q of %s is not what the client read", req.Profile, req.Config), nil
	}
	h := &held{s: s.session(f, p), cfgStat: fi, lastUsed: s.now(), busy: 1}
	s.profiles[key] = h
	s.log().Info("serving a profile", "profile", p.Name, "config", f.Path, "store", p.Store)
	return h, "", nil
}

// release marks h no longer busy.
func (s *Server) release(h *held) {
	kill := func() {}
	s.mu.Lock()
	h.busy--
	h.lastUsed = s.now()
	if h.gone && h.busy == 0 {
		kill = h.s.StopPlugin()
	}
	s.mu.Unlock()
	kill()
}

// drop forgets a profile: its plugin is killed now (in the background)
// when no request uses it, else by the last release. s.mu is held.
func (s *Server) drop(key profileKey, h *held) {
	delete(s.profiles, key)
	h.gone = true
	if h.timer != nil {
		h.timer.Stop()
	}
	if h.busy == 0 {
		kill := h.s.StopPlugin()
		go kill()
	}
}

// config returns the config file at path, read again when it changed.
// s.mu is held.
func (s *Server) config(path string, fi os.FileInfo) (*config.File, error) {
	if c := s.configs[path]; c != nil && sameFile(c.fi, fi) {
		return c.f, nil
	}
	f, err := config.Load(config.LoadOptions{Path: path, Getenv: s.Getenv})
	if err != nil {
		return nil, err
	}
	s.configs[path] = &loaded{f, fi}
	return f, nil
}

func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// session makes the session of profile p: non-interactive (the agent has
// no terminal; a login that needs the user is the client's), logging to
// the agent's log.
func (s *Server) session(f *config.File, p *config.Profile) *session.Session {
	ss := session.New(f, p, s.Host)
	ss.Now = s.Now
	ss.Log, ss.LogMask = s.log().Named("session"), s.LogMask
	ss.Secrets = &secret.Resolver{CmdTimeout: f.Settings.CmdTimeout}
	if s.Getenv != nil {
		ss.Secrets.Getenv = func(name string) (string, bool) { v := s.Getenv(name); return v, v != "" }
	}
	return ss
}

// noteExpiry records when h's credential expires and arms its renewal
// ahead of that: at the refresh skew before the expiry, the agent renews
// it if the profile was used within the idle timeout. A profile no one
// uses, or a credential that lives less than the skew, is renewed lazily,
// on its next request, as without the agent.
func (s *Server) noteExpiry(h *held, exp time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp.Equal(h.expires) {
		return
	}
	h.expires = exp
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
	at, ok := renewalAt(exp, h.s.Skew, h.renewed)
	if !ok {
		return
	}
	if wait := at.Sub(s.now()); wait > time.Second {
		h.timer = time.AfterFunc(wait, func() { s.renew(h) })
	}
}

// MinRenewInterval spaces one profile's renewals ahead of expiry: a server
// that hands out credentials living barely longer than the refresh skew
// would otherwise be asked for a new one every few seconds while the
// profile is in use.
const MinRenewInterval = 30 * time.Second

// renewalAt is when a credential expiring at exp is renewed ahead of its
// expiry: skew before it, but not sooner than MinRenewInterval after the
// last renewal began (renewed). ok is false when there is no expiry, or
// when that time would not come before the expiry: the next request then
// renews it, as without an agent.
func renewalAt(exp time.Time, skew time.Duration, renewed time.Time) (at time.Time, ok bool) {
	if exp.IsZero() {
		return time.Time{}, false
	}
	at = exp.Add(-skew)
	if earliest := renewed.Add(MinRenewInterval); !renewed.IsZero() && at.Before(earliest) {
		at = earliest
	}
	return at, at.Before(exp)
}

// renew renews h's credential ahead of its expiry, if h is still served
// and was used recently.
func (s *Server) renew(h *held) {
	s.mu.Lock()
	live := !h.gone && s.now().Sub(h.lastUsed) < s.idle()
	if live {
		h.busy++
		h.renewed = s.now()
	}
	s.mu.Unlock()
	if !live {
		return
	}
	defer s.release(h)
	ctx, cancel := context.WithTimeout(context.Background(), RequestTimeout)
	defer cancel()
	res, err := h.s.Renew(ctx, "") // refresh (or log in) now, even where the cache would still serve it
	if err != nil {
		s.log().Warn("renewing ahead of expiry failed; the next request tries again", "profile", h.s.Profile.Name, "error", err)
		return
	}
	s.log().Debug("renewed ahead of expiry", "profile", h.s.Profile.Name, "source", res.Source.String())
	s.noteExpiry(h, res.Credential.ExpiresAt)
}

// reap kills the plugins of profiles idle for longer than Idle. The
// credentials stay: a store: memory one until the agent stops, is told to
// forget it, or renews it.
func (s *Server) reap() {
	tick := min(max(s.idle()/4, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.stopped:
			return
		case <-t.C:
		}
		var kills []func()
		s.mu.Lock()
		for _, h := range s.profiles {
			if h.busy == 0 && s.now().Sub(h.lastUsed) >= s.idle() && h.s.PluginPID() != "" {
				s.log().Debug("plugin idle; stopping it", "profile", h.s.Profile.Name, "pid", h.s.PluginPID())
				kills = append(kills, h.s.StopPlugin())
			}
		}
		s.mu.Unlock()
		for _, kill := range kills {
			kill()
		}
	}
}

// status describes the agent; it holds no secret.
func (s *Server) status() *agent.Status {
	st := &agent.Status{PID: os.Getpid(), Socket: s.Socket, Started: s.started, Idle: s.idle().String(), Profiles: []agent.ProfileStatus{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.profiles {
		p := h.s.Profile
		pid, _ := strconv.Atoi(h.s.PluginPID())
		st.Profiles = append(st.Profiles, agent.ProfileStatus{Profile: p.Name, Config: h.s.ConfigFile, Scheme: p.Scheme, Store: p.Store,
			ExpiresAt: h.expires, LastUsed: h.lastUsed, PluginPID: pid})
	}
	slices.SortFunc(st.Profiles, func(a, b agent.ProfileStatus) int {
		return cmp.Or(cmp.Compare(a.Config, b.Config), cmp.Compare(a.Profile, b.Profile))
	})
	return st
}
