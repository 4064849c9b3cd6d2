package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/proxy"
	"github.com/authx/authx/core/session"
	"github.com/authx/authx/core/tlsconfig"
)

// `authx proxy P` serves core/proxy on loopback or a private Unix socket;
// the wrappers (wrapproxy.go) start the same proxy for the length of one
// command when the profile's scheme signs each request.

// proxyReadHeaderTimeout bounds how long a client may take to send its
// request headers; bodies, which may be large, have no overall bound.
const proxyReadHeaderTimeout = 10 * time.Second

func (a *app) proxyCommand() *cobra.Command {
	var listen string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "proxy PROFILE [--listen 127.0.0.1:PORT | unix:PATH]",
		Short: "Serve a local reverse proxy that authenticates every request as the profile",
		Long: `Serve a reverse proxy to the profile's url that authenticates every request
with the profile, whatever its scheme (per-request signing included), so
that any program (curl, a browser, an SDK in any language) can use it
without knowing about authx. authx prints the base URL to use on stdout,
one line, then serves until SIGINT or SIGTERM.

The proxy stands for the origin of the profile's url: /v1/items on the
proxy is /v1/items there. Only requests inside the profile's match
prefixes (else its url) get the credential; others go without it. The
client's own Authorization header is never forwarded: the profile's
replaces it. After a 401 or 403 the scheme renews the credential and the
request is retried once, when it can be replayed (an idempotent method,
or the scheme says the server refused before acting; a body of at most
1 MiB). Redirects are passed on, with a Location on the upstream origin
pointing at the proxy.

--listen takes 127.0.0.1:PORT (the default, with a free port), [::1]:PORT,
localhost:PORT or PORT, never another address: anyone who can connect
uses your credentials (on Linux, the proxy closes other users'
connections). On a machine shared with other users prefer unix:PATH, a socket only you can use (mode 0600, in a directory that only
you can write; a missing one is created with mode 0700). authx then prints
the socket's path:

  authx proxy orders &                                 # prints http://127.0.0.1:PORT/
  curl http://127.0.0.1:PORT/v1/orders
  authx proxy orders --listen unix:$XDG_RUNTIME_DIR/authx/orders.sock &
  curl --unix-socket $XDG_RUNTIME_DIR/authx/orders.sock http://authx/v1/orders

See docs/proxy.md.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			la, err := parseListen(listen)
			if err != nil {
				return err
			}
			s, err := a.session(&target{profile: args[0]})
			if err != nil {
				return err
			}
			base := s.Profile.BaseURL()
			if base == "" {
				return core.Errorf(core.KindConfig, "profile %q has no url (nor match) for the proxy to forward to", s.Profile.Name)
			}
			upstream, err := url.Parse(base)
			if err != nil {
				return core.Errorf(core.KindConfig, "profile %q: url %q is not a URL", s.Profile.Name, base)
			}
			ps, err := a.startProxy(cmd.Context(), s, s.Scope(), upstream, la, timeout)
			if err != nil {
				return err
			}
			if la.network == "unix" {
				a.notice("proxy for profile %q on %s: curl --unix-socket %s http://authx/...", s.Profile.Name, la.addr, la.addr)
			} else {
				a.notice("proxy for profile %q at %s (SIGINT or SIGTERM stops it)", s.Profile.Name, ps.base)
			}
			fmt.Fprintln(a.stdout, ps.base) // last: a script that read it finds the proxy ready
			select {
			case <-cmd.Context().Done():
			case err := <-ps.done:
				return core.Wrap(core.KindNetwork, err, "the proxy stopped")
			}
			ps.stop(2 * time.Second)
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "`ADDRESS` to listen on: 127.0.0.1:PORT, [::1]:PORT, PORT or unix:PATH (default 127.0.0.1 with a free port)")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "wait at most this `DURATION` for the upstream's response headers (bodies are not bounded)")
	return cmd
}

// listenAddr is where a proxy listens.
type listenAddr struct {
	network string // "tcp" or "unix"
	addr    string // a loopback host:port, or the socket's absolute path
	// host is the only Host a Unix socket's clients may send; "" allows
	// any. (On TCP the Host must always name the listener.)
	host string
}

// parseListen reads --listen: "" (127.0.0.1, a free port), PORT,
// HOST:PORT with a loopback IP or localhost, or unix:PATH. Anything that
// would let another machine connect is refused.
func parseListen(s string) (listenAddr, error) {
	if s == "" {
		return listenAddr{network: "tcp", addr: "127.0.0.1:0"}, nil
	}
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		switch {
		case path == "":
			return listenAddr{}, core.Errorf(core.KindConfig, "--listen unix:PATH needs a PATH")
		case strings.HasPrefix(path, "@") || strings.ContainsRune(path, 0):
			return listenAddr{}, core.Errorf(core.KindConfig, "--listen %s: an abstract socket has no permissions to protect it; give a file path", s)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return listenAddr{}, core.Errorf(core.KindConfig, "--listen %s: %v", s, err)
		}
		return listenAddr{network: "unix", addr: abs}, nil
	}
	host, port := "127.0.0.1", s
	if strings.ContainsAny(s, ":[]") {
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return listenAddr{}, core.Errorf(core.KindConfig, "--listen %q: expected 127.0.0.1:PORT, [::1]:PORT, PORT or unix:PATH", s)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || port != strconv.Itoa(n) {
		return listenAddr{}, core.Errorf(core.KindConfig, "--listen %q: the port must be a number from 0 to 65535", s)
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		what := fmt.Sprintf("%q is not a loopback address", host)
		if host == "" || ip != nil && ip.IsUnspecified() {
			what = "that is every interface"
		}
		return listenAddr{}, core.Errorf(core.KindConfig, "--listen %q: %s; authx proxy listens only on loopback (127.0.0.1, ::1) or a unix: socket, since whoever connects uses your credentials", s, what)
	}
	return listenAddr{network: "tcp", addr: net.JoinHostPort(ip.String(), port)}, nil
}

// runningProxy is a proxy serving on its listener.
type runningProxy struct {
	srv  *http.Server
	base string     // what a client uses: http://127.0.0.1:PORT/, or the socket's path
	done chan error // Serve's failure
	once sync.Once
}

// startProxy builds the proxy for s's credentials to upstream's origin,
// within scope, logs in first when the cache holds no credential (so that
// a failure ends the command before anything listens), and serves it on
// la. Upstream requests use the profile's TLS settings and the
// environment's proxy, and wait at most timeout for response headers.
func (a *app) startProxy(ctx context.Context, s *session.Session, scope []string, upstream *url.URL, la listenAddr, timeout time.Duration) (*runningProxy, error) {
	if _, err := s.Get(ctx); err != nil {
		return nil, profileErr(s.Profile.Name, err)
	}
	tls, err := s.TLS(ctx)
	if err != nil {
		return nil, profileErr(s.Profile.Name, err)
	}
	l, err := listenProxy(la)
	if err != nil {
		return nil, err
	}
	var hosts []string
	base := la.addr
	if la.host != "" {
		hosts = []string{la.host}
	}
	if la.network == "tcp" {
		l = ownerOnly(l, func(format string, args ...any) { fmt.Fprintf(a.stderr, "authx proxy: "+format+"\n", args...) })
		addr := l.Addr().(*net.TCPAddr)
		base = "http://" + addr.String() + "/"
		hosts = []string{addr.String(), net.JoinHostPort("localhost", strconv.Itoa(addr.Port))}
	}
	var src proxy.Source = s
	if s.Store == nil { // an ad-hoc profile is not cached: keep its credential for the proxy's life
		src = &memoSource{Session: s}
	}
	px, err := proxy.New(proxy.Options{Upstream: upstream, Scope: scope, Source: src, Base: proxyTransport(timeout, tls), Hosts: hosts, Log: a.stderr})
	if err != nil {
		l.Close()
		return nil, err
	}
	rp := &runningProxy{
		srv: &http.Server{Handler: px, ReadHeaderTimeout: proxyReadHeaderTimeout, IdleTimeout: 2 * time.Minute,
			ErrorLog: log.New(a.stderr, "authx proxy: ", 0)},
		base: base,
		done: make(chan error, 1),
	}
	go func() {
		if err := rp.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			rp.done <- err
		}
	}()
	return rp, nil
}

// stop lets requests in progress finish for at most grace, then closes
// every connection; the listener (and a Unix socket's file) is removed.
func (p *runningProxy) stop(grace time.Duration) {
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if p.srv.Shutdown(ctx) != nil {
			p.srv.Close()
		}
	})
}

// proxyTransport is the profile's transport for a proxy: bodies passed
// through as they are (no compression asked for), connections kept for
// the clients' concurrent requests.
func proxyTransport(timeout time.Duration, tls *tlsconfig.Loaded) http.RoundTripper {
	rt := profileTransport(timeout, tls)
	if t, ok := rt.(*http.Transport); ok {
		t.DisableCompression = true
		t.MaxIdleConnsPerHost = 32
		t.ReadBufferSize, t.WriteBufferSize = 256<<10, 256<<10 // fewer system calls per GiB streamed
	}
	return rt
}

// memoSource keeps the credential of a session that has no cache, so that
// the proxy does not log in for every request; a challenge replaces it.
type memoSource struct {
	*session.Session
	mu   sync.Mutex
	cred *core.Credential
}

func (m *memoSource) Credential(ctx context.Context) (*core.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cred == nil || !m.cred.FreshAt(time.Now(), m.Skew) {
		c, err := m.Session.Credential(ctx)
		if err != nil {
			return nil, err
		}
		m.cred = c
	}
	return m.cred, nil
}

func (m *memoSource) Challenge(ctx context.Context, cred *core.Credential, req core.HTTPRequest, resp core.HTTPResponse) (*core.Credential, bool, error) {
	c, replaySafe, err := m.Session.Challenge(ctx, cred, req, resp)
	if err == nil && c != nil {
		m.mu.Lock()
		m.cred = c
		m.mu.Unlock()
	}
	return c, replaySafe, err
}
