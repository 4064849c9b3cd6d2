// Package core holds the contract between the authx host and its
// authentication-scheme plugins: the Scheme interface a plugin implements,
// the optional interfaces that add capabilities, and the plain Go types that
// travel between them (Credential, Config, Diagnostic, ...).
//
// A scheme is written once against this package and is then either served as
// a plugin process by core/sdk.Serve or called in process by tests. The wire
// form of every type here is defined in core/proto/authx/plugin/v1.
package core

import (
	"context"
	"fmt"
	"net/http"
)

// Scheme is the one interface every authentication scheme implements.
//
// Implementations must be safe for concurrent use and keep no state between
// calls that the host does not send back: every call carries the profile's
// configuration, and anything that must survive (a refresh token, a session)
// belongs in Credential.State.
type Scheme interface {
	// Describe returns the scheme's static metadata and config schema. It
	// must be cheap and must not perform I/O: the host caches its answer.
	// Capabilities need not be filled in: the SDK derives them from the
	// optional interfaces the value implements.
	Describe() Description

	// Configure checks cfg and reports every problem it finds, with the
	// field path, without side effects. A nil or empty result means valid.
	// The SDK has already checked cfg against Describe().Config (unknown
	// keys, required fields, types) before calling it.
	Configure(ctx context.Context, cfg Config) []Diagnostic

	// Login obtains a credential. When it needs input from the user it
	// returns a nil credential and an *InputRequired error; the host asks the
	// user and calls Login again with req.Answers and req.Continuation set.
	// A credential the server refused is an *Error of KindRejected.
	Login(ctx context.Context, req LoginRequest) (*Credential, error)
}

// Refresher is implemented by schemes that can renew a credential without
// the user, e.g. with an OAuth2 refresh token kept in Credential.State.
// Refresh returns an *Error of KindLoginRequired when only a new login can
// help (refresh token expired or revoked).
type Refresher interface {
	Refresh(ctx context.Context, req RefreshRequest) (*Credential, error)
}

// Applier is implemented by schemes that must see every request (request
// signing). The host calls Apply only for credentials with PerRequest set and
// sets the returned headers on the request, replacing same-named ones.
// Apply may also return new credential state (a nonce count, a DPoP nonce):
// see ApplyResult.State.
type Applier interface {
	Apply(ctx context.Context, req ApplyRequest) (*ApplyResult, error)
}

// ApplyResult is the output of Applier.Apply.
type ApplyResult struct {
	// Headers are set on the request, replacing same-named ones.
	Headers []Header
	// State, when nil, leaves Credential.State unchanged. When non-nil it
	// replaces Credential.State (an empty, non-nil slice clears it): the
	// host stores it under the cache entry's lock before any process's
	// next Apply with that credential, which then sees it in
	// ApplyRequest.Credential.State. Since protocol minor 4; an older host
	// ignores it.
	State []byte
}

// ChallengeHandler is implemented by schemes that understand their server's
// 401 and 403 answers. The host calls it once per failed request and follows
// the decision at most once: it never loops. A refusal that the scheme can
// classify better than the status code does (a missing permission, say) may
// be returned as an *Error instead of a DecisionFail: its Kind sets the exit
// code and its message is the diagnosis.
type ChallengeHandler interface {
	HandleChallenge(ctx context.Context, req ChallengeRequest) (ChallengeResponse, error)
}

// LogoutHandler is implemented by schemes that can revoke a credential on the
// server. The host deletes its cached copy whether or not Logout succeeds.
type LogoutHandler interface {
	Logout(ctx context.Context, req LogoutRequest) error
}

// ActionRunner is implemented by schemes that offer subcommands, listed in
// Description.Actions and exposed as `authx <scheme> <action>`.
type ActionRunner interface {
	RunAction(ctx context.Context, req ActionRequest) (ActionResult, error)
}

// CapabilitiesOf derives the capabilities of s from the optional interfaces
// it implements, and keeps the LoginChallenge its Describe declares.
func CapabilitiesOf(s Scheme) Capabilities {
	_, refresh := s.(Refresher)
	_, apply := s.(Applier)
	_, challenge := s.(ChallengeHandler)
	_, logout := s.(LogoutHandler)
	_, actions := s.(ActionRunner)
	return Capabilities{Login: true, Refresh: refresh, Apply: apply, HandleChallenge: challenge, Logout: logout, Actions: actions,
		LoginChallenge: s.Describe().Capabilities.LoginChallenge}
}

// Description is a scheme's static metadata.
type Description struct {
	Name          string       `json:"name"`
	Version       string       `json:"version"`
	Summary       string       `json:"summary,omitempty"`
	ProtocolMinor uint32       `json:"protocol_minor"`
	Capabilities  Capabilities `json:"capabilities"`
	Config        []Field      `json:"config,omitempty"`
	Actions       []Action     `json:"actions,omitempty"`
}

// Field returns the config field called name, if any.
func (d *Description) Field(name string) (Field, bool) {
	for _, f := range d.Config {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Action returns the action called name, if any.
func (d *Description) Action(name string) (Action, bool) {
	for _, a := range d.Actions {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

// Capabilities lists the optional calls a plugin implements.
type Capabilities struct {
	Login           bool `json:"login"`
	Refresh         bool `json:"refresh"`
	Apply           bool `json:"apply"`
	HandleChallenge bool `json:"handle_challenge"`
	Logout          bool `json:"logout"`
	Actions         bool `json:"actions"`
	// LoginChallenge asks the host to probe the login URL and send the
	// server's first 401 as LoginRequest.Challenge. Unlike the others it
	// is not derived from an interface: a scheme declares it in Describe.
	// Since minor 4.
	LoginChallenge bool `json:"login_challenge"`
}

// Action describes a plugin-defined subcommand.
type Action struct {
	Name    string `json:"name"`
	Summary string `json:"summary,omitempty"`
	// Usage is the argument synopsis, e.g. "TOKEN|-".
	Usage string  `json:"usage,omitempty"`
	Flags []Field `json:"flags,omitempty"`
	// NeedsProfile means the action runs with a profile's config.
	NeedsProfile bool `json:"needs_profile,omitempty"`
	// AcceptsProfile means the action runs with a profile's config when the
	// user names one, and with none otherwise.
	AcceptsProfile bool `json:"accepts_profile,omitempty"`
}

// Prompt is one question for the user.
type Prompt struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Secret  bool   `json:"secret,omitempty"`
}

// InputRequired is returned by Login when it needs answers from the user.
// The host prompts and calls Login again with the answers keyed by Prompt.ID
// and the same Continuation.
type InputRequired struct {
	Prompts      []Prompt
	Continuation []byte
}

func (e *InputRequired) Error() string { return "input required from the user" }

// LoginRequest is the input of Scheme.Login.
type LoginRequest struct {
	Config Config
	// URL is the profile's base URL or the URL the user asked for; it may be
	// empty.
	URL string
	// Interactive is true when the host can prompt the user.
	Interactive  bool
	Answers      map[string]string
	Continuation []byte
	// UI reaches the user while the login waits for them (a browser login,
	// a device code). It is nil when the host offers none: a
	// non-interactive run, or a host older than protocol 1.3. A login that
	// needs the user must then fail with KindLoginRequired, at once.
	UI UI
	// Challenge is the server's first 401 answer to an unauthenticated GET
	// of URL, probed by the host with the profile's own HTTP settings
	// (proxy, TLS, timeout), for schemes whose Description sets
	// Capabilities.LoginChallenge. It is nil when the scheme does not ask
	// for it, when URL is empty, when the server answered anything but
	// 401, when it could not be reached, and from a host older than
	// protocol 1.4. Since minor 4.
	Challenge *HTTPResponse
}

// UI is what a Login may show the user through the host while it waits for
// them: a browser login opens a URL and waits for its redirect, a device
// login shows a code and polls. The host owns the terminal and the
// browser; a plugin never touches either. Both methods return as soon as
// the host has done what they ask: they never wait for the user.
type UI interface {
	// Notify shows message to the user (on the host's stderr). It may
	// span lines and must not hold a secret.
	Notify(ctx context.Context, message string) error
	// OpenURL opens url in the user's browser, or only prints it when the
	// host opens none (--no-browser, no display): either way the user has
	// it once OpenURL returns nil.
	OpenURL(ctx context.Context, url string) error
}

// RefreshRequest is the input of Refresher.Refresh.
type RefreshRequest struct {
	Config     Config
	URL        string
	Credential *Credential
}

// LogoutRequest is the input of LogoutHandler.Logout.
type LogoutRequest struct {
	Config     Config
	URL        string
	Credential *Credential
}

// HTTPRequest is what a scheme sees of a request.
type HTTPRequest struct {
	Method string
	URL    string
	Header http.Header
	// BodySHA256 is the SHA-256 digest of the body.
	BodySHA256 []byte
}

// HTTPResponse is what a scheme sees of a response: the status, headers and
// at most the first 4 KiB of the body.
type HTTPResponse struct {
	Status     int
	Header     http.Header
	BodyPrefix []byte
}

// ApplyRequest is the input of Applier.Apply.
type ApplyRequest struct {
	Config Config
	// URL is the profile's base URL; it may be empty.
	URL        string
	Credential *Credential
	Request    HTTPRequest
}

// ChallengeRequest is the input of ChallengeHandler.HandleChallenge.
type ChallengeRequest struct {
	Config Config
	// URL is the profile's base URL; it may be empty.
	URL        string
	Credential *Credential
	Request    HTTPRequest
	Response   HTTPResponse
	// Retried says the request was already retried once after a challenge
	// and was refused again: the host will not retry, whatever the
	// decision; it uses the answer's Diagnosis (or the error's Kind and
	// message) as the error it reports. Since minor 4.
	Retried bool
}

// Decision is what the host does after a challenge.
type Decision int

const (
	// DecisionFail reports the diagnosis and stops.
	DecisionFail Decision = iota + 1
	// DecisionRetry retries once with ChallengeResponse.Credential.
	DecisionRetry
	// DecisionRefresh refreshes the credential, then retries once.
	DecisionRefresh
	// DecisionLogin logs in again, then retries once.
	DecisionLogin
)

// String returns the decision's name as the protocol spells it in lower
// case ("retry"), for logs.
func (d Decision) String() string {
	switch d {
	case DecisionFail:
		return "fail"
	case DecisionRetry:
		return "retry"
	case DecisionRefresh:
		return "refresh"
	case DecisionLogin:
		return "login"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// ChallengeResponse is the answer of ChallengeHandler.HandleChallenge.
type ChallengeResponse struct {
	Decision Decision
	// Diagnosis is one line for the user; it must not hold a secret.
	Diagnosis string
	// Credential is the new credential for DecisionRetry.
	Credential *Credential
	// ReplaySafe says the server refused before acting, so even a
	// non-idempotent request may be sent again.
	ReplaySafe bool
}

// ActionRequest is the input of ActionRunner.RunAction.
type ActionRequest struct {
	Action string
	Args   []string
	Flags  map[string]string
	// Config, URL and Credential are set for actions that need a profile.
	Config     Config
	URL        string
	Credential *Credential
	// Stdin holds the host's standard input when an argument is "-".
	Stdin []byte
}

// ActionResult is the output of an action.
type ActionResult struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}
