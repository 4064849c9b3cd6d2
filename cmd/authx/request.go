package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/authx/authx/core/urlscope"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/redact"
)

// requestFlags are the options of `authx request`.
type requestFlags struct {
	target
	data     string
	json     bool
	headers  []string
	output   string
	include  bool
	fail     bool
	timeout  time.Duration
	maxTime  time.Duration
	hasData  bool
	tempFile string
}

var methodToken = regexp.MustCompile(`^[A-Z][A-Z0-9!#$%&'*+.^_|~-]*$`)

func (a *app) requestCommand() *cobra.Command {
	var f requestFlags
	cmd := &cobra.Command{
		Use:   "request [PROFILE] METHOD URL",
		Short: "Send an authenticated HTTP request (curl with auth built in)",
		Long: `Send one HTTP request with the profile's credentials and stream the
response body to stdout (or -o FILE).

The profile is the PROFILE argument, else the one whose match prefix is the
longest prefix of URL. A relative URL (/job/x/build) resolves against the
profile's url. Credentials go only to URLs under the profile's match
prefixes: a redirect to another scheme, host or port (followed up to 10 times)
carries no credentials and none of your Authorization or Cookie headers.

After a 401 or 403 the scheme's plugin decides: a diagnosis (one line on
stderr), or a refresh or new login and exactly one retry. A POST or PATCH is
retried only when the plugin says the server refused before acting.

Without --fail the exit code is 0 whatever the HTTP status, as with curl,
except a 401 or 403 the scheme could not cure (4 rejected; 7 for a 403, or
14 when the scheme says a permission is missing);
with --fail it is also 7 for 4xx and 12 for 5xx. The body is written in
every case. See 'authx help exit-codes'.

  authx request api GET /v1/items
  authx request POST https://api.example.com/v1/items --json -d '{"name":"x"}'
  authx request ci POST /job/deploy/build -i`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 3 {
				f.profile, args = args[0], args[1:]
			} else if err := a.missingMethod(args[0]); err != nil {
				return err
			}
			f.hasData = cmd.Flags().Changed("data")
			return a.request(cmd.Context(), &f, strings.ToUpper(args[0]), args[1])
		},
	}
	f.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&f.data, "data", "d", "", "request body: `DATA`, @FILE, or @- for stdin (Content-Type form-urlencoded unless -H or --json says otherwise)")
	fl.BoolVar(&f.json, "json", false, "send and accept JSON (Content-Type and Accept: application/json)")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "extra request header `'Name: value'` (repeatable)")
	fl.StringVarP(&f.output, "output", "o", "", "write the body to `FILE` instead of stdout")
	fl.BoolVarP(&f.include, "include", "i", false, "write the status line and response headers before the body, as curl -i does")
	fl.BoolVarP(&f.fail, "fail", "f", false, "exit 7 on HTTP 4xx and 12 on 5xx (after any retry)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "connect and wait for the response headers at most this `DURATION`")
	fl.DurationVar(&f.maxTime, "max-time", 0, "bound the whole request, body included, by this `DURATION` (0 = none)")
	return cmd
}

// missingMethod reports `authx request PROFILE URL`, where the method was
// forgotten and the profile would be taken for it.
func (a *app) missingMethod(first string) error {
	if slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}, strings.ToUpper(first)) {
		return nil
	}
	if cfg, err := a.loadConfig(); err == nil && cfg.Profiles[first] != nil {
		return core.Errorf(core.KindConfig, "%q is a profile and no method was given: authx request %s METHOD URL (e.g. GET)", first, first)
	}
	return nil
}

func (a *app) request(ctx context.Context, f *requestFlags, method, rawURL string) error {
	if !methodToken.MatchString(method) {
		return core.Errorf(core.KindConfig, "%q is not an HTTP method", method)
	}
	p, target, err := a.requestProfile(&f.target, rawURL)
	if err != nil {
		return err
	}
	s, err := a.sessionFor(&f.target, p)
	if err != nil {
		return err
	}
	s.URL = target.String() // what a login is for when the profile has no url
	scope := s.Scope()
	if len(scope) == 0 { // an ad-hoc profile: the origin the user named
		scope = []string{target.Scheme + "://" + target.Host + "/"}
	}
	if !urlscope.InScope(target, scope) {
		return core.Errorf(core.KindConfig, "%s is outside profile %q's match prefixes (%s); credentials are not sent there", redact.URL(target), p.Name, strings.Join(scope, ", "))
	}
	if f.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.maxTime)
		defer cancel()
	}
	req, err := f.newRequest(ctx, a.stdin, method, target)
	if f.tempFile != "" {
		defer os.Remove(f.tempFile)
	}
	if err != nil {
		return err
	}
	tls, err := s.TLS(ctx)
	if err != nil {
		return err
	}
	client := authhttp.NewClient(s, scope, profileTransport(f.timeout, tls))
	resp, err := client.Do(req)
	var challenge *authhttp.ChallengeError
	if errors.As(err, &challenge) {
		defer challenge.Response.Body.Close()
		if werr := f.writeResponse(a.stdout, challenge.Response); werr != nil {
			return werr
		}
		return profileErr(s.Profile.Name, challenge.Err)
	}
	if err != nil {
		return profileErr(s.Profile.Name, s.ScrubError(networkError(err, f, method, target)))
	}
	defer resp.Body.Close()
	if err := f.writeResponse(a.stdout, resp); err != nil {
		if ctx.Err() != nil {
			return core.Errorf(core.KindTimeout, "%s %s: the whole request took longer than --max-time %s", method, redact.URL(target), f.maxTime)
		}
		return err
	}
	switch {
	case !f.fail || resp.StatusCode < 400:
		return nil
	case resp.StatusCode < 500:
		return core.Errorf(core.KindHTTP, "%s %s: HTTP %s", method, redact.URL(target), s.Scrub(resp.Status))
	default:
		return core.Errorf(core.KindHTTPServer, "%s %s: HTTP %s", method, redact.URL(target), s.Scrub(resp.Status))
	}
}

// requestProfile picks the profile, resolves a relative URL against it and
// normalizes the URL (urlscope.Normalize), as the profile was matched.
func (a *app) requestProfile(t *target, rawURL string) (*config.Profile, *url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, core.Errorf(core.KindConfig, "the URL does not parse: %s", redact.ParseError(err))
	}
	if u.IsAbs() && t.profile == "" && t.scheme == "" {
		t.url = u.String()
	}
	p, _, err := a.profile(t)
	if err != nil {
		return nil, nil, err
	}
	if !u.IsAbs() {
		base := p.BaseURL()
		if base == "" {
			return nil, nil, core.Errorf(core.KindConfig, "relative URL %q needs a profile with a url (or match) to resolve against", rawURL)
		}
		b, err := url.Parse(base)
		if err != nil {
			return nil, nil, core.Errorf(core.KindConfig, "profile %q: url %q is not a URL", p.Name, base)
		}
		u = resolveRelative(b, u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, core.Errorf(core.KindConfig, "%s: only http and https URLs are supported", redact.URL(u))
	}
	// Send exactly what was matched: /api/../echo is /echo.
	if u, err = urlscope.Normalize(u); err != nil {
		return nil, nil, err
	}
	return p, u, nil
}

// resolveRelative resolves ref against base, treating base as a directory
// (https://ci.example.com/jenkins + /job/x → https://ci.example.com/jenkins/job/x),
// which is what a "base URL" means to people.
func resolveRelative(base, ref *url.URL) *url.URL {
	b := *base
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
		b.RawPath = ""
	}
	r := *ref // its escaped path, or %2F would become a segment boundary
	r.Path, r.RawPath = strings.TrimPrefix(r.Path, "/"), strings.TrimPrefix(r.EscapedPath(), "/")
	return b.ResolveReference(&r)
}

// newRequest builds the request with its body: DATA, @FILE or @- (stdin,
// spooled to a private temporary file so the body streams and can be
// replayed for a retry).
func (f *requestFlags) newRequest(ctx context.Context, stdin io.Reader, method string, u *url.URL) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, core.Wrap(core.KindConfig, err, "building the request")
	}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, core.Errorf(core.KindConfig, "-H %q: expected 'Name: value'", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if f.json {
		setDefault(req.Header, "Accept", "application/json")
	}
	if !f.hasData {
		return req, nil
	}
	contentType := "application/x-www-form-urlencoded"
	if f.json {
		contentType = "application/json"
	}
	setDefault(req.Header, "Content-Type", contentType)
	switch {
	case f.data == "@-":
		tmp, err := os.CreateTemp("", "authx-body-*")
		if err != nil {
			return nil, core.Wrap(core.KindConfig, err, "spooling standard input")
		}
		f.tempFile = tmp.Name()
		_, err = io.Copy(tmp, stdin)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, core.Wrap(core.KindConfig, err, "spooling standard input")
		}
		return req, setFileBody(req, f.tempFile)
	case strings.HasPrefix(f.data, "@"):
		return req, setFileBody(req, f.data[1:])
	default:
		data := []byte(f.data)
		req.ContentLength = int64(len(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		req.Body, _ = req.GetBody()
		return req, nil
	}
}

func setDefault(h http.Header, name, value string) {
	if h.Get(name) == "" {
		h.Set(name, value)
	}
}

// setFileBody streams the file as the body; GetBody reopens it for a retry.
func setFileBody(req *http.Request, path string) error {
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	fi, err := os.Stat(path)
	if err != nil {
		return core.Errorf(core.KindConfig, "-d @%s: %v", path, errors.Unwrap(err))
	}
	body, err := open()
	if err != nil {
		return core.Errorf(core.KindConfig, "-d @%s: %v", path, errors.Unwrap(err))
	}
	req.Body, req.GetBody, req.ContentLength = body, open, fi.Size()
	return nil
}

// writeResponse streams the status line and headers (-i) and the body to
// stdout or -o FILE, in constant memory.
func (f *requestFlags) writeResponse(stdout io.Writer, resp *http.Response) (err error) {
	w := stdout
	if f.output != "" {
		file, err := os.Create(f.output)
		if err != nil {
			return core.Errorf(core.KindConfig, "-o %s: %v", f.output, errors.Unwrap(err))
		}
		defer func() {
			if cerr := file.Close(); err == nil && cerr != nil {
				err = core.Errorf(core.KindConfig, "-o %s: %v", f.output, cerr)
			}
		}()
		w = file
	}
	if f.include {
		fmt.Fprintf(w, "%s %s\r\n", resp.Proto, resp.Status)
		resp.Header.Write(w)
		io.WriteString(w, "\r\n")
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return core.Errorf(core.KindConfig, "writing the response: %v", pe.Err)
		}
		if core.IsTimeout(err) {
			return core.Errorf(core.KindTimeout, "reading the response: %v", err)
		}
		return core.Errorf(core.KindNetwork, "reading the response: %v", err)
	}
	return nil
}

// baseTransport is http.DefaultTransport with authx's time limits.
func baseTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if timeout > 0 {
		t.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = timeout
		t.ResponseHeaderTimeout = timeout
	}
	return t
}

// networkError turns a failed round trip into one line naming the flag
// that bounded it. authhttp.Client.Do classifies every error; the
// network's own wrap a *url.Error, the source's keep their message.
func networkError(err error, f *requestFlags, method string, u *url.URL) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) && f.maxTime > 0:
		return core.Errorf(core.KindTimeout, "%s %s: no complete answer within --max-time %s", method, redact.URL(u), f.maxTime)
	case core.KindOf(err) == core.KindTimeout:
		return core.Errorf(core.KindTimeout, "%s %s: timed out after %s (--timeout)", method, redact.URL(u), f.timeout)
	}
	return core.Errorf(core.KindNetwork, "%s %s: %v", method, redact.URL(u), ue.Err)
}
