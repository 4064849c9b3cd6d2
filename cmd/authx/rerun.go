package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"

	"github.com/authx/authx/cmd/authx/internal/wrapcmd"
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
type toolRequest = wrapcmd.Request

// outcome is how a wrapped tool's run ended.
type outcome struct {
	err error // the tool's exit status (an *exitError unless 0), or authx's own failure
	// refused says the answer was an error status a credential may cause:
	// 401 or 403 when the tool tells, any error status when it does not.
	refused bool
	// written says the refused answer reached the user's output.
	written bool
	// renewedSince says the front made this run (see afterFront) with a
	// credential that another authx has renewed since.
	renewedSince bool
}

// runRenewing runs the tool with w's credential; when the outcome is a
// refusal the scheme recognises, it renews the credential and, when req may
// be replayed and the answer was not written, runs the tool once more with
// it. It returns the last run's error (an *exitError for the tool's code).
func (a *app) runRenewing(ctx context.Context, w *wrapped, req toolRequest, run func(*core.Credential) outcome) error {
	run = a.afterFront(w, run) // the front may have made the first run
	o := run(w.cred)
	if !o.refused || req.URL == "" {
		return o.err
	}
	renewed := w.cred // the front ran the tool with a credential another authx has renewed since
	if !o.renewedSince {
		var err error
		if renewed, err = a.renewAfterRefusal(ctx, w, req); err != nil {
			a.warn(profileErr(w.s.Profile.Name, err))
			return o.err
		}
	}
	if renewed == nil {
		return o.err
	}
	why := req.NoRerun
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
	renewed, _, err := w.s.Challenge(ctx, w.cred, core.HTTPRequest{Method: http.MethodGet, URL: req.URL}, *resp)
	return renewed, err
}

// fixedSource hands out one credential.
type fixedSource struct{ cred *core.Credential }

func (f fixedSource) Credential(context.Context) (*core.Credential, error) { return f.cred, nil }

// probe sends GET req.URL with cred (within scope only, as the wrappers
// do) over base (the profile's TLS settings) and returns the answer when it is a 401 or 403: status, headers and
// at most 4 KiB of body; nil otherwise.
func probe(ctx context.Context, cred *core.Credential, scope []string, req toolRequest, base http.RoundTripper) (*core.HTTPResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Transport: &authhttp.Transport{Source: fixedSource{cred}, Scope: scope, Base: base},
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if !req.Follow || len(via) >= authhttp.MaxRedirects || !authhttp.SameOrigin(next.URL, via[0].URL) {
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
