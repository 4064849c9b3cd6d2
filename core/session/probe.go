package session

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/core/redact"
)

// DefaultProbeTimeout bounds the login's probe when call_timeout is unset.
const DefaultProbeTimeout = 30 * time.Second

// maxProbeHeaderBytes bounds the headers of the probe's answer.
const maxProbeHeaderBytes = 64 << 10

// loginURL is the URL a login is for: the profile's base URL, else the
// URL the user asked for (URL).
func (s *Session) loginURL() string {
	if u := s.Profile.BaseURL(); u != "" {
		return u
	}
	return s.URL
}

// probe returns the server's first challenge for a login, for schemes
// that declare Capabilities.LoginChallenge: the 401 answer to an
// unauthenticated GET of rawURL, sent with the profile's own HTTP
// settings (the proxy from the environment, the profile's TLS, at most
// call_timeout), with the first pluginrpc.MaxBodyPrefix bytes of its body.
// Any other answer, a redirect included (not followed), is no challenge;
// so is a failure to reach the server, which the login then meets itself
// (logged at debug level).
func (s *Session) probe(ctx context.Context, rawURL string) *core.HTTPResponse {
	if rawURL == "" {
		return nil
	}
	tls, err := s.TLS(ctx)
	if err != nil {
		s.log().Debug("login probe skipped: the profile's TLS settings", "error", err.Error())
		return nil
	}
	t := http.DefaultTransport.(*http.Transport).Clone() // Proxy: http.ProxyFromEnvironment
	t.MaxResponseHeaderBytes = maxProbeHeaderBytes
	t.DisableKeepAlives = true
	if tls != nil {
		t.TLSClientConfig = tls.Config(t.TLSClientConfig)
	}
	defer t.CloseIdleConnections()
	timeout := s.CallTimeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		s.log().Debug("login probe skipped: the URL does not parse", "url", redact.RawURL(rawURL))
		return nil
	}
	req.URL.User = nil // net/http would send user:password@ as Basic: the probe carries no credential
	client := &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.log().Debug("login probe failed; logging in without the server's challenge", "url", redact.RawURL(rawURL), "error", err.Error())
		return nil
	}
	defer resp.Body.Close()
	s.log().Debug("login probe", "url", redact.RawURL(rawURL), "status", resp.StatusCode)
	if resp.StatusCode != http.StatusUnauthorized {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, pluginrpc.MaxBodyPrefix))
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		body = nil
	}
	return &core.HTTPResponse{Status: resp.StatusCode, Header: resp.Header, BodyPrefix: body}
}
