package base

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies a failure so that the CLI can turn it into a documented
// exit code and a script can branch on it.
type Kind int

// The kinds of failure. Their exit codes are the contract documented in
// docs/exit-codes.md; never renumber them.
const (
	KindInternal        Kind = iota // a bug: exit 1
	KindConfig                      // usage or configuration error: exit 2
	KindLoginRequired               // a login needs the user but the run is non-interactive: exit 3
	KindRejected                    // the server rejected the credentials: exit 4
	KindNetwork                     // the server could not be reached: connection, DNS or TLS failure: exit 5
	KindPlugin                      // the plugin failed to start, crashed or broke the protocol: exit 6
	KindHTTP                        // the server answered 4xx after any retry (--fail), or refused again: exit 7
	KindPluginNotFound              // no plugin binary for the scheme: exit 8
	KindPluginIntegrity             // the plugin binary does not match its sha256 pin: exit 9
	KindUnsupported                 // the scheme does not offer this call or action: exit 10
	KindCache                       // the credential cache could not be read or written: exit 11
	KindHTTPServer                  // the server answered 5xx (--fail, or a login endpoint): exit 12
	KindTokenInvalid                // a token failed verification, or a server issued a malformed one: exit 13
	KindForbidden                   // authenticated, but the server refuses for lack of a permission: exit 14
	KindTimeout                     // the server, or another authx holding the lock, did not answer in time: exit 15
	KindBadAnswer                   // the server answered, but not in a form authx can use (HTML, no token): exit 16
	KindKeyring                     // the OS keyring could not be used (unreachable, locked, timed out) and the profile allows no fallback: exit 17
	KindInterrupted                 // SIGINT/SIGTERM: exit 130
)

// ExitCode returns the process exit code for k.
func (k Kind) ExitCode() int {
	switch k {
	case KindInterrupted:
		return 130
	case KindInternal:
		return 1
	default:
		return int(k) + 1
	}
}

var kindNames = map[Kind]string{
	KindInternal: "internal error", KindConfig: "configuration error", KindLoginRequired: "login required",
	KindRejected: "credentials rejected", KindNetwork: "network error", KindPlugin: "plugin failure",
	KindHTTP: "HTTP error", KindPluginNotFound: "plugin not found", KindPluginIntegrity: "plugin checksum mismatch",
	KindUnsupported: "not supported", KindCache: "cache error", KindHTTPServer: "HTTP server error",
	KindTokenInvalid: "token invalid", KindForbidden: "forbidden", KindTimeout: "timeout",
	KindBadAnswer: "bad server answer", KindKeyring: "store unavailable", KindInterrupted: "interrupted",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a classified failure. Msg is one line meant for the user and
// never holds a secret.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the cause, if any; not shown to the user unless Msg is empty
}

// Errorf returns an *Error of kind k with a formatted message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of kind k whose message is msg and whose cause is err.
func Wrap(k Kind, err error, msg string) *Error {
	return &Error{Kind: k, Msg: msg, Err: err}
}

func (e *Error) Error() string {
	switch {
	case e.Msg == "" && e.Err != nil:
		return e.Err.Error()
	case e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	default:
		return e.Msg
	}
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of the first *Error in err's chain, or
// KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Prefix returns err with where before its one-line message
// ("where: message"), keeping its Kind. An error of no Kind becomes one of
// kind, as everything a user reads must be classified. Prefix(where, nil)
// is nil.
func Prefix(where string, err error, kind Kind) error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		return Wrap(kind, err, where)
	}
	if e.Msg == "" {
		return &Error{Kind: e.Kind, Msg: where, Err: e.Err}
	}
	return &Error{Kind: e.Kind, Msg: where + ": " + e.Msg, Err: e.Err}
}

// IsTimeout reports whether err ended a round trip because time ran out: a
// context deadline or a net.Error that says so. Callers classify such a
// failure as KindTimeout rather than KindNetwork.
func IsTimeout(err error) bool {
	var ne interface {
		error
		Timeout() bool
	} // net.Error's Timeout, without linking net
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
