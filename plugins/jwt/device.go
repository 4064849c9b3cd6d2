package jwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// The device flow's polling (RFC 8628 §3.2, §3.5): every interval, 5 s
// unless the server says otherwise, 5 s more after each slow_down; the
// code lives expires_in, defaultDeviceLifetime when the server omits it.
const (
	defaultDeviceInterval = 5 * time.Second
	slowDownStep          = 5 * time.Second
	maxDeviceInterval     = time.Minute
	defaultDeviceLifetime = 10 * time.Minute
	maxDeviceLifetime     = time.Hour
)

// deviceGrant is the device_code grant type (RFC 8628 §3.4).
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// deviceAuthorization is a device authorization response (RFC 8628 §3.2).
type deviceAuthorization struct {
	deviceCode, userCode                 string
	verificationURI, verificationURIFull string
	interval, lifetime                   time.Duration
}

// deviceCode runs a device login (RFC 8628): it asks for a user code,
// shows it with the verification URI through the host (and opens the
// complete URI, so a browser on this machine can approve at once), then
// polls the token endpoint until the user approves, refuses, or the code
// expires.
func (s *Scheme) deviceCode(ctx context.Context, st *settings, ui core.UI) (*core.Credential, error) {
	if ui == nil {
		return nil, needsUser("a device login (grant device_code)")
	}
	da, err := s.deviceAuthorize(ctx, st)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("To sign in, open %s and enter the code %s", da.verificationURI, da.userCode)
	if da.verificationURIFull != "" {
		msg += fmt.Sprintf("\n(or open %s)", da.verificationURIFull)
	}
	if err := ui.Notify(ctx, msg); err != nil {
		return nil, core.Prefix("device login", err, core.KindLoginRequired)
	}
	if da.verificationURIFull != "" {
		_ = ui.OpenURL(ctx, da.verificationURIFull) // the code is shown: a browser is a convenience
	}
	return s.pollDevice(ctx, st, da)
}

// deviceAuthorize posts the device authorization request (RFC 8628 §3.1)
// with the client's authentication and reads the answer.
func (s *Scheme) deviceAuthorize(ctx context.Context, st *settings) (deviceAuthorization, error) {
	form := st.authorizationParams()
	st.addAudience(form)
	st.addScope(form)
	x := exchange{what: "device authorization", method: http.MethodPost, url: st.oidc.deviceURL, ctype: "application/x-www-form-urlencoded"}
	if err := requireAbsolute("device_authorization_url", x.url); err != nil {
		return deviceAuthorization{}, err
	}
	if err := s.authenticateClient(st, form, &x); err != nil {
		return deviceAuthorization{}, err
	}
	x.body = []byte(form.Encode())
	doc, err := s.do(ctx, st, x)
	if err != nil {
		return deviceAuthorization{}, err
	}
	return parseDeviceAuthorization(doc, "device authorization "+redact.RawURL(x.url))
}

// parseDeviceAuthorization reads the answer doc: device_code, user_code
// and verification_uri are required (Google says verification_url), and
// the URIs must be http(s) URLs; the codes must be printable text, as
// they are shown.
func parseDeviceAuthorization(doc any, from string) (deviceAuthorization, error) {
	da := deviceAuthorization{interval: defaultDeviceInterval, lifetime: defaultDeviceLifetime}
	da.deviceCode, _ = firstString(doc, "device_code")
	da.userCode, _ = firstString(doc, "user_code")
	da.verificationURI, _ = firstString(doc, "verification_uri", "verification_url")
	da.verificationURIFull, _ = firstString(doc, "verification_uri_complete", "verification_url_complete")
	if da.deviceCode == "" || da.userCode == "" || da.verificationURI == "" {
		return da, core.Errorf(core.KindBadAnswer, "%s: the answer lacks device_code, user_code or verification_uri (RFC 8628 §3.2); it has the keys %s",
			from, strings.Join(leafPaths(doc), ", "))
	}
	if safeText(da.userCode, 64) != da.userCode {
		return da, core.Errorf(core.KindBadAnswer, "%s: the user_code holds characters that cannot be shown", from)
	}
	for _, u := range []*string{&da.verificationURI, &da.verificationURIFull} {
		if *u == "" {
			continue
		}
		p, err := url.Parse(*u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return da, core.Errorf(core.KindBadAnswer, "%s: the verification URI is not an http(s) URL", from)
		}
		*u = p.String()
	}
	if d := lifetime(doc, "interval"); d > 0 {
		// Whole seconds (RFC 8628 §3.2), at least one: a fractional
		// interval from the server must not turn the polling into a loop.
		d = (d + time.Second - 1).Truncate(time.Second)
		da.interval = min(d, maxDeviceInterval)
	}
	if d := lifetime(doc, "expires_in"); d > 0 {
		da.lifetime = min(d, maxDeviceLifetime)
	}
	return da, nil
}

// pollDevice asks the token endpoint for the token of da until the user
// has approved (RFC 8628 §3.4, §3.5).
func (s *Scheme) pollDevice(ctx context.Context, st *settings, da deviceAuthorization) (*core.Credential, error) {
	deadline := s.now().Add(da.lifetime)
	st.oidc.callSecrets = append(st.oidc.callSecrets, da.deviceCode)
	interval := da.interval
	for {
		if err := s.sleep(ctx, interval); err != nil {
			return nil, waitEnded("device login", "the code was approved", err)
		}
		if !s.now().Before(deadline) {
			return nil, core.Errorf(core.KindTimeout, "device login: the code was not approved within %s; run the login again", da.lifetime)
		}
		form := url.Values{"grant_type": {deviceGrant}, "device_code": {da.deviceCode}}
		c, err := s.oauth2Token(ctx, st, form, "")
		se, ok := errors.AsType[*statusErr](err)
		if err == nil || !ok {
			return c, err
		}
		switch se.code {
		case "authorization_pending":
		case "slow_down":
			interval = min(interval+slowDownStep, maxDeviceInterval)
		case "access_denied":
			return nil, core.Errorf(core.KindRejected, "device login: the sign-in was refused (access_denied)")
		case "expired_token":
			return nil, core.Errorf(core.KindTimeout, "device login: the code expired before it was approved (expired_token); run the login again")
		default:
			return nil, err
		}
	}
}

// sleep waits d, or less when ctx ends (then it returns ctx's error).
func (s *Scheme) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
