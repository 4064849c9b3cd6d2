package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
)

// When the server refuses the credential a wrapped curl or wget sent, authx
// renews it (so that the next run works) and, when it is safe, runs the
// tool once more with the new one:
//
//   - the tool reports an error answer: curl's final status (read from a
//     private --dump-header pipe) is 401 or 403, or, when the user's own -D
//     hides it, curl exits 22 (-f); wget exits 6 or 8;
//   - a probe (GET of the same URL with the same credential, same-origin
//     redirects followed when the tool follows redirects) is refused with
//     401 or 403, and the profile's scheme recognises that refusal as one
//     a new credential cures (session.Challenge: refresh or log in,
//     single-flight across processes);
//   - for the rerun only: nothing of the refused answer reached the user's
//     output (curl -f without -i, -D - or --fail-with-body; wget without
//     --content-on-error) and the request is replayable: one URL, GET or
//     HEAD, no body (none from stdin above all), no curl -K.
//
// The probe costs one request, only after a refusal; it gives the scheme
// what neither tool can hand over without changing the user's output: the
// start of the body (WordPress names a stale token in its 403 body only).

// probeTimeout bounds the probe, body included.
const probeTimeout = 30 * time.Second

// toolRequest is what authx knows of a wrapped tool's request.
type toolRequest struct {
	// url is the one URL the tool fetches; "" when there is not one.
	url string
	// follow says the tool follows redirects (curl -L).
	follow bool
	// noRerun says why a refused run must not be run again; "" when it may.
	noRerun string
	// unchecked says why authx cannot see every URL the tool would send
	// the credential to (a curl -K file, a wget -i list); "" when it can.
	unchecked string
}

// outcome is how a wrapped tool's run ended.
type outcome struct {
	err error // the tool's exit status (an *exitError unless 0), or authx's own failure
	// refused says the answer was an error status a credential may cause:
	// 401 or 403 when the tool tells, any error status when it does not.
	refused bool
	// written says the refused answer reached the user's output.
	written bool
}

// runRenewing runs the tool with w's credential; when the outcome is a
// refusal the scheme recognises, it renews the credential and, when req may
// be replayed and the answer was not written, runs the tool once more with
// it. It returns the last run's error (an *exitError for the tool's code).
func (a *app) runRenewing(ctx context.Context, w *wrapped, req toolRequest, run func(*core.Credential) outcome) error {
	o := run(w.cred)
	if !o.refused || req.url == "" {
		return o.err
	}
	renewed, err := a.renewAfterRefusal(ctx, w, req)
	if err != nil {
		a.warn(profileErr(w.s.Profile.Name, err))
		return o.err
	}
	if renewed == nil {
		return o.err
	}
	why := req.noRerun
	if o.written {
		why = "the refused answer is already in the output (give curl -f to let authx run it again)"
	}
	if why != "" {
		a.warn(profileErr(w.s.Profile.Name, core.Errorf(core.KindRejected, "the server refused the credential; renewed it for the next run, but did not run the command again: %s", why)))
		return o.err
	}
	a.log().Info("the server refused the credential; renewed it, running the command once more", "profile", w.s.Profile.Name)
	return run(renewed).err
}

// warn writes err as one line on stderr, unless --quiet.
func (a *app) warn(err error) {
	if !a.quiet {
		fmt.Fprintln(a.stderr, "authx: "+oneLine(err.Error()))
	}
}

// renewAfterRefusal probes req's URL with w's credential and, when the
// answer is a refusal the scheme can cure, returns the renewed credential.
// It returns nil without an error when the probe is not refused: the tool
// failed for another reason than the credential.
func (a *app) renewAfterRefusal(ctx context.Context, w *wrapped, req toolRequest) (*core.Credential, error) {
	resp, err := probe(ctx, w.cred, w.scope, req, profileTransport(probeTimeout, w.tls))
	if err != nil || resp == nil {
		a.log().Debug("probe after the command failed", "refused", resp != nil, "error", err)
		return nil, nil
	}
	renewed, _, err := w.s.Challenge(ctx, w.cred, core.HTTPRequest{Method: http.MethodGet, URL: req.url}, *resp)
	return renewed, err
}

// fixedSource hands out one credential.
type fixedSource struct{ cred *core.Credential }

func (f fixedSource) Credential(context.Context) (*core.Credential, error) { return f.cred, nil }

// probe sends GET req.url with cred (within scope only, as the wrappers
// do) over base (the profile's TLS settings) and returns the answer when it is a 401 or 403: status, headers and
// at most 4 KiB of body; nil otherwise.
func probe(ctx context.Context, cred *core.Credential, scope []string, req toolRequest, base http.RoundTripper) (*core.HTTPResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, req.url, nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Transport: &authhttp.Transport{Source: fixedSource{cred}, Scope: scope, Base: base},
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if !req.follow || len(via) >= authhttp.MaxRedirects || !authhttp.SameOrigin(next.URL, via[0].URL) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, err := client.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return nil, nil
	}
	prefix, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return nil, err
	}
	return &core.HTTPResponse{Status: resp.StatusCode, Header: resp.Header, BodyPrefix: prefix}, nil
}

// curlArgs is what authx needs to know of curl's arguments.
type curlArgs struct {
	location, locationTrusted bool
	req                       toolRequest
}

// toolOptions is how a tool reads its options: the short ones that take a
// value (in the same argument or the next), the long ones that take the
// next argument, and whether a long one may carry its value after "=".
type toolOptions struct {
	valueShort string
	valueLong  []string
	equals     bool
}

// curlOptions: curl's long options never take "=VALUE".
var curlOptions = toolOptions{
	valueShort: "AbcCdDeEFHKmoPQrtTuUwxXyYz",
	valueLong: []string{"--data", "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode", "--json", "--form", "--form-string",
		"--upload-file", "--request", "--config", "--dump-header", "--output", "--header", "--user", "--url", "--proxy",
		"--referer", "--user-agent", "--cookie", "--cookie-jar", "--write-out", "--max-time", "--connect-timeout", "--retry"},
}

// wgetOptions: only the long options whose value matters here are listed.
var wgetOptions = toolOptions{
	valueShort: "oaeiBtOTwQPUlARDIX",
	valueLong:  []string{"--post-data", "--post-file", "--body-data", "--body-file", "--method", "--input-file", "--execute"},
	equals:     true,
}

// walk calls option for each option among args, up to a "--", with its
// value ("" for a flag). Combined short flags ("-sSf") count one by one.
// An unknown long option is taken for a flag, which can only make the
// caller more cautious.
func (o toolOptions) walk(args []string, option func(name, value string)) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == "--":
			return
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := a, "", false
			if o.equals {
				name, value, hasValue = strings.Cut(a, "=")
			}
			if !hasValue && slices.Contains(o.valueLong, name) {
				value = next()
			}
			option(name, value)
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				name := "-" + string(a[j])
				if !strings.ContainsRune(o.valueShort, rune(a[j])) {
					option(name, "")
					continue
				}
				value := a[j+1:]
				if value == "" {
					value = next()
				}
				option(name, value)
				break
			}
		}
	}
}

// scanCurl reads curl's arguments: whether it follows redirects, and
// whether a refused request may be run again (see runRenewing). Unknown
// long options are taken for flags without a value, which can only make
// the answer more cautious.
func scanCurl(args []string) curlArgs {
	var c curlArgs
	block := func(why string) {
		if c.req.noRerun == "" {
			c.req.noRerun = why
		}
	}
	option := func(name, value string) {
		switch name {
		case "-L", "--location":
			c.location = true
		case "--location-trusted":
			c.location, c.locationTrusted = true, true
		case "-d", "--data", "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode", "--json",
			"-F", "--form", "--form-string", "-T", "--upload-file":
			block("the request has a body")
		case "-X", "--request":
			if m := strings.ToUpper(value); m != http.MethodGet && m != http.MethodHead {
				block("the method is " + m)
			}
		case "-K", "--config":
			c.req.unchecked = "-K: a curl config file may name URLs, or -L, that authx cannot check; put its options on the command line"
			block("curl reads a config (-K)")
		case "-i", "--include":
			block("-i wrote the refused answer's headers to the output")
		case "-D", "--dump-header":
			if value == "-" {
				block("-D - wrote the refused answer's headers to the output")
			}
		case "--fail-with-body":
			block("--fail-with-body wrote the refused answer to the output")
		case "-:", "--next":
			block("more than one request")
		}
	}
	curlOptions.walk(args, option)
	c.req.follow = c.location
	return c
}

// curlForwarded are the credential headers curl does not send to another
// host or port when -L follows a redirect there; it forwards every other
// header it was given.
var curlForwarded = []string{"authorization", "cookie"}

// curlRedirectLeak says why curl's arguments would carry cred to whatever
// origin a redirect names; "" when they would not.
func curlRedirectLeak(c curlArgs, cred *core.Credential) string {
	if c.locationTrusted {
		return "--location-trusted sends every credential header to any host a redirect names"
	}
	if !c.location {
		return ""
	}
	for _, h := range cred.HeaderLines() {
		if !slices.Contains(curlForwarded, strings.ToLower(h.Name)) {
			return fmt.Sprintf("with -L curl sends the credential's %s header to any host a redirect names; drop -L, or use 'authx request', which follows redirects without it", h.Name)
		}
	}
	return ""
}

// scanWget says whether a refused wget request may be run again (see
// runRenewing).
func scanWget(args []string) toolRequest {
	var r toolRequest
	block := func(why string) {
		if r.noRerun == "" {
			r.noRerun = why
		}
	}
	option := func(name, value string) {
		switch name {
		case "--post-data", "--post-file", "--body-data", "--body-file":
			block("the request has a body")
		case "--method":
			if m := strings.ToUpper(value); m != http.MethodGet && m != http.MethodHead {
				block("the method is " + m)
			}
		case "-r", "--recursive", "-p", "--page-requisites", "-m", "--mirror", "-H", "--span-hosts":
			r.unchecked = name + ": wget would follow links a server names, to URLs (other ports and paths, with -H other hosts) that authx cannot check"
			block("wget follows links")
		case "-i", "--input-file":
			r.unchecked = "-i: wget would read URLs from a file that authx cannot check; give them on the command line"
			block("wget reads its URLs from a file")
		case "--content-on-error":
			block("--content-on-error wrote the refused answer to the output")
		case "-e", "--execute":
			l := strings.ToLower(value)
			if strings.Contains(l, "input") || strings.Contains(l, "base") || strings.Contains(l, "recursive") ||
				strings.Contains(l, "page_requisites") || strings.Contains(l, "mirror") || strings.Contains(l, "span_hosts") {
				r.unchecked = "-e " + strings.ToLower(strings.TrimSpace(strings.SplitN(l, "=", 2)[0])) + ": wget would take URLs authx cannot check; give them on the command line"
			}
			for _, w := range []string{"post", "body", "method", "input", "content"} {
				if strings.Contains(l, w) {
					block("an -e command changes the request")
				}
			}
		}
	}
	wgetOptions.walk(args, option)
	return r
}

// oneURL sets req.url to the only URL of urls, or says why there is not
// exactly one (and nothing to probe).
func oneURL(req toolRequest, urls []string) toolRequest {
	switch {
	case len(urls) == 1:
		req.url = urls[0]
	case req.noRerun == "" && len(urls) == 0:
		req.noRerun = "no http(s) URL among the arguments"
	case req.noRerun == "":
		req.noRerun = "more than one URL"
	}
	return req
}
