package authhttp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/urlscope"
)

// MaxRedirects is how many redirects a Client follows.
const MaxRedirects = 10

// Client sends requests with a Source's credentials and handles challenges:
// after a 401 or 403 it asks the source (when it is a Challenger) what to do,
// and retries the request at most once. A non-idempotent request is retried
// only when its body can be replayed (Request.GetBody) and the source says
// the server refused before acting.
type Client struct {
	// HTTP sends the requests. Its Transport should be a *Transport over the
	// same Source; NewClient sets that up.
	HTTP   *http.Client
	Source Source
}

// NewClient returns a Client whose credentials go only to URLs under scope,
// over base (nil means http.DefaultTransport). Redirects are followed (at
// most MaxRedirects); a redirect that changes scheme, host or port carries
// no credentials and none of the caller's Authorization, Cookie or
// Proxy-Authorization headers.
func NewClient(src Source, scope []string, base http.RoundTripper) *Client {
	return &Client{
		HTTP: &http.Client{
			Transport:     &Transport{Source: src, Scope: scope, Base: base},
			CheckRedirect: checkRedirect,
		},
		Source: src,
	}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return core.Errorf(core.KindBadAnswer, "stopped after %d redirects", MaxRedirects)
	}
	if !SameOrigin(req.URL, via[0].URL) {
		for _, name := range sensitiveHeaders {
			req.Header.Del(name)
		}
	}
	return nil
}

// ChallengeError reports a request the server refused and the source could
// not, or would not, fix. Response is the server's answer, with its body
// still open for the caller to read and close.
type ChallengeError struct {
	Response *http.Response
	Err      error // carries the diagnosis and its core.Kind
}

func (e *ChallengeError) Error() string { return e.Err.Error() }
func (e *ChallengeError) Unwrap() error { return e.Err }

// transportError classifies a failed round trip. A *core.Error in its chain
// (the source's own failure, a refused redirect) is returned as is. Anything
// else is the network's: KindTimeout when time ran out (core.IsTimeout),
// else KindNetwork, wrapping the *url.Error with its URL stripped of query
// and user info.
func transportError(err error) error {
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce
	}
	kind := core.KindNetwork
	if core.IsTimeout(err) {
		kind = core.KindTimeout
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = &url.Error{Op: ue.Op, URL: redact.RawURL(ue.URL), Err: ue.Err}
	}
	return core.Wrap(kind, err, "")
}

// Scrubber is a Source that knows the secrets its credentials were made
// from (a *session.Session is one). A Client masks them, through
// ScrubError, in the failed round trips it reports, whose text may quote
// the server ("malformed HTTP response ...").
type Scrubber interface {
	ScrubError(err error) error
}

// transportError is the package's transportError, masked by the source
// when it is a Scrubber.
func (c *Client) transportError(err error) error {
	err = transportError(err)
	if s, ok := c.Source.(Scrubber); ok {
		return s.ScrubError(err)
	}
	return err
}

// peekSize is how much of a refused response's body the source sees.
const peekSize = 4096

// Do sends req and handles at most one challenge. When the server refuses
// and the request is not retried, Do returns the response together with a
// *ChallengeError; the caller must close the response body in both cases.
//
// The source is asked for a credential once, before the request: every
// redirect hop in scope carries that one, the challenge is about it, and the
// retry carries the one the challenge returned.
//
// Every error is classified (core.KindOf): the source's own, a refused
// redirect, and a failed round trip, which is a *core.Error of KindTimeout
// when time ran out and KindNetwork otherwise, wrapping the *url.Error (its
// URL without query or user info).
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	t, _ := c.HTTP.Transport.(*Transport)
	if t != nil && urlscope.InScope(req.URL, t.Scope) {
		cred, err := c.Source.Credential(req.Context())
		if err != nil {
			closeBody(req)
			return nil, err
		}
		req = req.WithContext(t.withCredential(req.Context(), cred))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return resp, nil
	}
	// The challenge is about the credential the server refused: the one
	// Transport sent, not whatever the source would hand out now (a source
	// without a cache logs in anew on every call).
	var cred *core.Credential
	if t != nil {
		cred = t.credentialOf(resp.Request)
		// A request meant to carry the credential was refused where scope
		// kept it out (the credential's own scope, or a redirect beyond the
		// match prefixes): a renewed one would stay out too.
		if cred != nil && urlscope.InScope(req.URL, t.Scope) {
			if err := CheckScope(resp.Request.URL, t.Scope, cred); err != nil {
				return resp, &ChallengeError{Response: resp, Err: notSent(resp, err)}
			}
		}
	}
	ch, ok := c.Source.(Challenger)
	if !ok || !InScopeOf(c.HTTP, resp.Request) {
		return resp, nil
	}
	if cred == nil {
		var err error
		if cred, err = c.Source.Credential(req.Context()); err != nil {
			return resp, &ChallengeError{Response: resp, Err: err}
		}
	}
	prefix, err := peek(resp)
	if err != nil {
		return resp, nil
	}
	renewed, replaySafe, err := ch.Challenge(req.Context(), cred, describeRequest(resp.Request),
		core.HTTPResponse{Status: resp.StatusCode, Header: resp.Header.Clone(), BodyPrefix: prefix})
	if err != nil {
		return resp, &ChallengeError{Response: resp, Err: err}
	}
	retry, err := replay(req, replaySafe)
	if err != nil {
		return resp, &ChallengeError{Response: resp, Err: err}
	}
	if t != nil {
		// Retry with what the challenge returned; nil: ask the source again.
		retry = retry.WithContext(t.withCredential(retry.Context(), renewed))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	resp2, err := c.HTTP.Do(retry)
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp2.StatusCode != http.StatusUnauthorized && resp2.StatusCode != http.StatusForbidden {
		return resp2, nil
	}
	return resp2, &ChallengeError{Response: resp2, Err: c.refusedAgain(req, resp2, t, renewed)}
}

// refusedAgain is the error of a retry the server refused too: the
// source's diagnosis when it is a Diagnoser that has one, else the status
// code's. renewed is the credential the retry was meant to carry (nil: the
// source's).
func (c *Client) refusedAgain(req *http.Request, resp *http.Response, t *Transport, renewed *core.Credential) error {
	kind := core.KindRejected
	if resp.StatusCode == http.StatusForbidden {
		kind = core.KindHTTP
	}
	plain := core.Errorf(kind, "the server refused %s %s again (HTTP %d) after the credential was renewed", req.Method, redact.URL(req.URL), resp.StatusCode)
	d, ok := c.Source.(Diagnoser)
	if !ok {
		return plain
	}
	cred := renewed
	if t != nil {
		if sent := t.credentialOf(resp.Request); sent != nil {
			cred = sent
		}
	}
	if cred == nil {
		return plain
	}
	prefix, err := peek(resp)
	if err != nil {
		return plain
	}
	if err := d.Diagnose(req.Context(), cred, describeRequest(resp.Request),
		core.HTTPResponse{Status: resp.StatusCode, Header: resp.Header.Clone(), BodyPrefix: prefix}); err != nil {
		return err
	}
	return plain
}

// InScopeOf reports whether the client's Transport would send credentials
// with r (only those requests can be fixed by a new credential).
func InScopeOf(c *http.Client, r *http.Request) bool {
	t, ok := c.Transport.(*Transport)
	return !ok || urlscope.InScope(r.URL, t.Scope)
}

// peek reads the start of resp's body for the challenge and puts it back.
func peek(resp *http.Response) ([]byte, error) {
	buf := make([]byte, peekSize)
	n, err := io.ReadFull(resp.Body, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), resp.Body), resp.Body}
	return buf, nil
}

// idempotent methods may be sent twice (RFC 9110 §9.2.2).
func idempotent(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// replay returns a copy of req to send again, or an error saying why it
// must not be.
func replay(req *http.Request, replaySafe bool) (*http.Request, error) {
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody && req.GetBody == nil {
		return nil, core.Errorf(core.KindHTTP, "the credential was renewed but %s %s was not retried: its body cannot be sent twice", req.Method, redact.URL(req.URL))
	}
	if !idempotent(req.Method) && !replaySafe {
		return nil, core.Errorf(core.KindHTTP, "the credential was renewed but %s %s was not retried: the server may have acted on it", req.Method, redact.URL(req.URL))
	}
	r2 := req.Clone(req.Context())
	if hasBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, core.Wrap(core.KindHTTP, err, "replaying the request body")
		}
		r2.Body = body
	}
	return r2, nil
}
