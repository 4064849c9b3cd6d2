// Package authhttp gives Go programs authx's credentials as net/http
// building blocks, in the shape of golang.org/x/oauth2:
//
//   - Transport, an http.RoundTripper decorator that only applies
//     credentials. It honours the RoundTripper contract: it does not retry,
//     does not read the response and does not modify the caller's request.
//   - Client, above it, which handles 401/403 challenges through the
//     credential's source and retries a request at most once.
//
// A credential source is usually a *session.Session, which Open builds from
// the user's authx configuration.
package authhttp

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/urlscope"
)

// Source supplies credentials. Credential returns one that is valid now,
// from a cache when it can; it may block to log in or refresh. It must be
// safe for concurrent use when the Transport is.
type Source interface {
	Credential(ctx context.Context) (*core.Credential, error)
}

// SourceFunc adapts a function to a Source, as http.HandlerFunc does for
// handlers.
type SourceFunc func(ctx context.Context) (*core.Credential, error)

// Credential calls f.
func (f SourceFunc) Credential(ctx context.Context) (*core.Credential, error) { return f(ctx) }

// Signer is implemented by sources whose credentials may need headers
// computed for each request (Credential.PerRequest).
type Signer interface {
	Sign(ctx context.Context, cred *core.Credential, req core.HTTPRequest) ([]core.Header, error)
}

// Challenger is implemented by sources that can react to a refused request.
// Challenge returns the credential to retry with and whether a
// non-idempotent request may be replayed (the server refused before acting);
// or an error whose message is the one-line diagnosis. It never retries by
// itself.
type Challenger interface {
	Challenge(ctx context.Context, cred *core.Credential, req core.HTTPRequest, resp core.HTTPResponse) (*core.Credential, bool, error)
}

// Diagnoser is implemented by Challengers that can explain a second
// refusal: the request was retried once after Challenge and the server
// refused it again (401 or 403). Diagnose returns the error to report,
// whose message is one line for the user and whose core.Kind sets the exit
// code, or nil when it knows no more than the status code says. It never
// renews a credential for another retry: there is none. It may forget
// cred, the credential the server refused twice, so that it is not served
// again.
type Diagnoser interface {
	Diagnose(ctx context.Context, cred *core.Credential, req core.HTTPRequest, resp core.HTTPResponse) error
}

// Transport applies a Source's credentials to requests whose URL is in
// Scope. Requests elsewhere (a redirect to another origin, say) go out
// without them.
type Transport struct {
	Source Source
	// Scope lists URL prefixes credentials may be sent to; a prefix matches
	// at path boundaries, and scheme, host and port must be equal.
	// Credential.Scope, when set, narrows it further.
	Scope []string
	// Base is the underlying RoundTripper; nil means http.DefaultTransport.
	Base http.RoundTripper
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// credentialKey is the context key of the credential a request carries
// through one Transport: set by its Client (the credential fetched once for
// the request, then the one a challenge returned) and by the Transport on
// what it sends, so that the Client knows what was refused. The key names
// the Transport, so a context that flows into another client's request
// never carries this one's credential there.
type credentialKey struct{ t *Transport }

// withCredential returns a context under which t sends cred instead of
// asking its Source; a nil cred makes t ask again.
func (t *Transport) withCredential(ctx context.Context, cred *core.Credential) context.Context {
	return context.WithValue(ctx, credentialKey{t}, cred)
}

// credentialOf returns the credential r carries through t, or nil.
func (t *Transport) credentialOf(r *http.Request) *core.Credential {
	c, _ := r.Context().Value(credentialKey{t}).(*core.Credential)
	return c
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !urlscope.InScope(req.URL, t.Scope) {
		return t.base().RoundTrip(req)
	}
	cred := t.credentialOf(req)
	if cred == nil {
		var err error
		if cred, err = t.Source.Credential(req.Context()); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	if !credentialCovers(cred, req.URL) {
		return t.base().RoundTrip(req)
	}
	// The contract: never modify the caller's request. The clone's context
	// records what it carries, for Client.
	r2 := req.Clone(t.withCredential(req.Context(), cred))
	if err := apply(r2, cred, t.Source); err != nil {
		closeBody(req)
		return nil, err
	}
	return t.base().RoundTrip(r2)
}

// apply sets cred's headers and cookies on r, and per-request headers when
// the credential asks for them.
func apply(r *http.Request, cred *core.Credential, src Source) error {
	for _, h := range cred.Headers {
		r.Header.Set(h.Name, h.Value)
	}
	for _, c := range cred.Cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	if !cred.PerRequest {
		return nil
	}
	signer, ok := src.(Signer)
	if !ok {
		return core.Errorf(core.KindPlugin, "the credential needs per-request signing but its source cannot sign")
	}
	described := describeRequest(r)
	digest, err := bodyDigest(r)
	if err != nil {
		return err
	}
	described.BodySHA256 = digest
	hs, err := signer.Sign(r.Context(), cred, described)
	if err != nil {
		return err
	}
	for _, h := range hs {
		r.Header.Set(h.Name, h.Value)
	}
	return nil
}

func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// bodyDigest returns the SHA-256 of r's body, read through a second copy
// from GetBody so that the body itself still streams: a file body is read
// twice, never held in memory. A request without a body has the digest of
// the empty string; a body that cannot be read twice cannot be signed.
func bodyDigest(r *http.Request) ([]byte, error) {
	h := sha256.New()
	if r.Body != nil && r.Body != http.NoBody {
		if r.GetBody == nil {
			return nil, core.Errorf(core.KindConfig, "%s %s: the request must be signed but its body can be read only once (set Request.GetBody)", r.Method, redact.URL(r.URL))
		}
		body, err := r.GetBody()
		if err != nil {
			return nil, core.Wrap(core.KindConfig, err, "reading the request body to sign it")
		}
		defer body.Close()
		if _, err := io.Copy(h, body); err != nil {
			return nil, core.Wrap(core.KindConfig, err, "reading the request body to sign it")
		}
	}
	return h.Sum(nil), nil
}

// describeRequest is what a plugin sees of a request: method, URL and
// headers without credentials (the body digest is added for signing).
func describeRequest(r *http.Request) core.HTTPRequest {
	return core.HTTPRequest{Method: r.Method, URL: r.URL.String(), Header: redacted(r.Header)}
}

// redacted copies h without credential headers, which a plugin must not need
// to see again.
func redacted(h http.Header) http.Header {
	out := h.Clone()
	for _, name := range sensitiveHeaders {
		out.Del(name)
	}
	return out
}

var sensitiveHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

// SameOrigin reports whether a and b have the same scheme, host and port.
// Unlike net/http's redirect rule, the port counts.
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
