package core

import "github.com/authx/authx/core/base"

// Credentials and classified errors are defined in core/base, which links
// no network code (see its doc); they are core's under the same names.

type (
	// Credential: see base.Credential.
	Credential = base.Credential
	// Header: see base.Header.
	Header = base.Header
	// Cookie: see base.Cookie.
	Cookie = base.Cookie
	// Kind: see base.Kind.
	Kind = base.Kind
	// Error: see base.Error.
	Error = base.Error
)

// Bounds and defaults of credentials: see base.
const (
	DefaultRefreshSkew = base.DefaultRefreshSkew
	MaxCredentialSize  = base.MaxCredentialSize
	MaxValueSize       = base.MaxValueSize
	MaxNameSize        = base.MaxNameSize
)

// The kinds of failure: see base.Kind and docs/exit-codes.md.
const (
	KindInternal        = base.KindInternal
	KindConfig          = base.KindConfig
	KindLoginRequired   = base.KindLoginRequired
	KindRejected        = base.KindRejected
	KindNetwork         = base.KindNetwork
	KindPlugin          = base.KindPlugin
	KindHTTP            = base.KindHTTP
	KindPluginNotFound  = base.KindPluginNotFound
	KindPluginIntegrity = base.KindPluginIntegrity
	KindUnsupported     = base.KindUnsupported
	KindCache           = base.KindCache
	KindHTTPServer      = base.KindHTTPServer
	KindTokenInvalid    = base.KindTokenInvalid
	KindForbidden       = base.KindForbidden
	KindTimeout         = base.KindTimeout
	KindBadAnswer       = base.KindBadAnswer
	KindKeyring         = base.KindKeyring
	KindInterrupted     = base.KindInterrupted
)

// Errorf: see base.Errorf.
func Errorf(k Kind, format string, args ...any) *Error { return base.Errorf(k, format, args...) }

// Wrap: see base.Wrap.
func Wrap(k Kind, err error, msg string) *Error { return base.Wrap(k, err, msg) }

// KindOf: see base.KindOf.
func KindOf(err error) Kind { return base.KindOf(err) }

// Prefix: see base.Prefix.
func Prefix(where string, err error, kind Kind) error { return base.Prefix(where, err, kind) }

// IsTimeout: see base.IsTimeout.
func IsTimeout(err error) bool { return base.IsTimeout(err) }

// ValidHeaderName: see base.ValidHeaderName.
func ValidHeaderName(s string) bool { return base.ValidHeaderName(s) }

// ValidHeaderValue: see base.ValidHeaderValue.
func ValidHeaderValue(s string) bool { return base.ValidHeaderValue(s) }

// ValidCookie: see base.ValidCookie.
func ValidCookie(name, value string) bool { return base.ValidCookie(name, value) }

// Suggest: see base.Suggest.
func Suggest(s string, candidates []string) string { return base.Suggest(s, candidates) }
