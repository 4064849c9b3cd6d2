package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/session"
	"github.com/authx/authx/core/urlscope"
)

// A scheme that signs each request (Credential.PerRequest) has no headers
// to hand a tool ahead of time. `authx curl|wget|exec P` then start an
// ephemeral in-process proxy (core/proxy) for the length of the command:
// the tool talks plain HTTP to it and the proxy signs each request it
// forwards.
//
//   - curl and wget: the URL arguments (all inside the profile's scope, as
//     for any wrapper) are rewritten to the proxy's base. curl reaches it
//     through a Unix socket in a private directory (--unix-socket;
//     https://api.example.com/v1/x becomes http://authx/v1/x), wget, which
//     has no such option, on 127.0.0.1 with a free port
//     (http://127.0.0.1:PORT/v1/x).
//     The tool holds no credential, so a redirect it follows to another
//     origin carries none; one to the upstream origin comes back through
//     the proxy (its Location is rewritten).
//   - exec: the command gets AUTHX_PROXY_URL, the proxy's base URL, and no
//     AUTHX_TOKEN or header variables (they would carry no signature).
//
// The proxy renews a refused credential and retries once itself, so the
// tool is never run twice. It answers to its own address only (a web page
// cannot reach it through DNS rebinding or cross-site requests) and stops
// when the tool exits; authx exits with the tool's code.

// wrapperProxyTimeout bounds the wait for the upstream's response headers
// in a wrapper's proxy; the tool's own options bound the rest.
const wrapperProxyTimeout = 5 * time.Minute

// unixProxyHost is the host name of the URLs curl sends through a
// wrapper's Unix socket; the proxy answers to no other (421), so that a
// redirect curl follows to another host fails instead of reaching the
// upstream under the wrong name.
const unixProxyHost = "authx"

// proxyEnv is the variable that tells a program run by `authx exec` where
// the proxy is.
const proxyEnv = "AUTHX_PROXY_URL"

// wrapperCredentialOf is a.credential for the wrappers: a credential that
// signs each request is served too, for the proxy to use.
func (a *app) wrapperCredentialOf(cmd *cobra.Command, t *target) (*session.Session, *session.Result, error) {
	s, err := a.session(t)
	if err != nil {
		return nil, nil, err
	}
	res, err := s.Get(cmd.Context())
	if err != nil {
		return nil, nil, profileErr(s.Profile.Name, err)
	}
	return s, res, nil
}

// toolViaProxy runs tool (curl or wget) with w's URL arguments aimed at an
// ephemeral proxy for w's profile.
func (a *app) toolViaProxy(ctx context.Context, w *wrapped, tool string, args []string) error {
	upstream, err := proxyUpstream(w)
	if err != nil {
		return err
	}
	la := listenAddr{network: "tcp", addr: "127.0.0.1:0"}
	if tool == "curl" {
		// curl reaches the proxy through a socket only this user can
		// use, where other users could connect to a port too.
		if slices.ContainsFunc(args, func(a string) bool { return strings.HasSuffix(a, "unix-socket") }) {
			return core.Errorf(core.KindConfig, "authx curl with a scheme that signs each request talks to its proxy through a Unix socket: leave out --unix-socket")
		}
		dir, err := os.MkdirTemp("", "authx-proxy-") // mode 0700
		if err != nil {
			return core.Wrap(core.KindInternal, err, "creating the proxy's socket directory")
		}
		defer os.RemoveAll(dir)
		la = listenAddr{network: "unix", addr: filepath.Join(dir, "p.sock"), host: unixProxyHost}
	}
	ps, err := a.startProxy(ctx, w.s, w.scope, upstream, la, wrapperProxyTimeout)
	if err != nil {
		return err
	}
	defer ps.stop(time.Second)
	base := ps.base
	if la.network == "unix" {
		base = "http://" + unixProxyHost + "/"
	}
	args, err = throughProxy(args, w.urls, w.scope, upstream, base)
	if err != nil {
		return err
	}
	if tool == "curl" {
		// -q: no ~/.curlrc, as for the other curl runs.
		args = append([]string{"-q", "--unix-socket", la.addr}, args...)
	}
	c := exec.Command(tool, args...)
	c.Env = withNoProxy(os.Environ())
	a.log().Debug("running the tool through the proxy", "tool", tool, "proxy", ps.base)
	return a.runChild(c)
}

// execViaProxy runs command with AUTHX_PROXY_URL set to an ephemeral proxy
// for s's profile.
func (a *app) execViaProxy(ctx context.Context, s *session.Session, command []string) error {
	base := s.Profile.BaseURL()
	if base == "" {
		return core.Errorf(core.KindConfig, "profile %q signs each request and has no url for the proxy authx exec starts", s.Profile.Name)
	}
	upstream, err := url.Parse(base)
	if err != nil {
		return core.Errorf(core.KindConfig, "profile %q: url %q is not a URL", s.Profile.Name, base)
	}
	ps, err := a.startProxy(ctx, s, s.Scope(), upstream, listenAddr{network: "tcp", addr: "127.0.0.1:0"}, wrapperProxyTimeout)
	if err != nil {
		return err
	}
	defer ps.stop(time.Second)
	c := exec.Command(command[0], command[1:]...)
	c.Env = append(withNoProxy(os.Environ()), proxyEnv+"="+ps.base)
	return a.runChild(c)
}

// proxyUpstream is the origin a wrapper's proxy forwards to: that of the
// first URL argument, else of the profile's url.
func proxyUpstream(w *wrapped) (*url.URL, error) {
	raw := w.s.Profile.BaseURL()
	if len(w.urls) > 0 {
		raw = w.urls[0]
	} else if raw == "" && len(w.scope) > 0 {
		raw = w.scope[0]
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, core.Errorf(core.KindConfig, "profile %q signs each request: give the URL to fetch", w.s.Profile.Name)
	}
	return &url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host}, nil
}

// throughProxy returns args with each of targets (the URL arguments, all
// in scope) replaced by the same path and query on the proxy at base. A
// target on another origin than upstream is refused: one proxy forwards
// to one origin.
func throughProxy(args, targets, scope []string, upstream *url.URL, base string) ([]string, error) {
	out := slices.Clone(args)
	for i, arg := range out {
		if !slices.Contains(targets, arg) {
			continue
		}
		u, err := url.Parse(arg)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "a URL argument does not parse (%s)", redact.ParseError(err))
		}
		if !urlscope.InScope(u, scope) {
			continue // checked already; never aimed at the proxy
		}
		if !authhttp.SameOrigin(u, upstream) {
			return nil, core.Errorf(core.KindConfig, "%s and %s: a scheme that signs each request goes through a proxy to one origin per command; run one command per origin",
				redact.URL(upstream), redact.URL(u))
		}
		out[i] = strings.TrimSuffix(base, "/") + u.RequestURI()
	}
	return out, nil
}

// withNoProxy adds the loopback names to NO_PROXY and no_proxy, so that a
// tool configured with an HTTP proxy reaches authx's own directly.
func withNoProxy(env []string) []string {
	const loopback = "127.0.0.1,localhost,::1"
	out := make([]string, 0, len(env)+2)
	seen := map[string]bool{}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if name == "NO_PROXY" || name == "no_proxy" {
			seen[name] = true
			if value != "" {
				kv = name + "=" + value + "," + loopback
			} else {
				kv = name + "=" + loopback
			}
		}
		out = append(out, kv)
	}
	for _, name := range []string{"NO_PROXY", "no_proxy"} {
		if !seen[name] {
			out = append(out, name+"="+loopback)
		}
	}
	return out
}
