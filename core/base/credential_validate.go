package base

import (
	"fmt"
	"strings"
)

// The bounds on a credential. A credential reaches headers, curl configs,
// wgetrc files and environments, and is kept in the cache; nothing a server
// or a plugin hands over may be larger than these.
const (
	// MaxCredentialSize bounds a whole credential: every name, value,
	// scope entry and the plugin's state together.
	MaxCredentialSize = 1 << 20
	// MaxValueSize bounds the token and each header or cookie value.
	MaxValueSize = 64 << 10
	// MaxNameSize bounds each header or cookie name.
	MaxNameSize = 256
)

// Validate reports whether c is safe to hand on as HTTP headers and in the
// output formats: the host calls it on every credential where it enters,
// a plugin's answer or a cache entry, so that what reaches a header, a curl
// config or a wgetrc holds no line break.
//
//   - the token and the id token hold no whitespace or control character;
//   - header names are RFC 9110 tokens; header values hold no control
//     character other than horizontal tab (no CR, LF, NUL or DEL);
//   - cookie names are tokens and cookie values RFC 6265 cookie-octets (no
//     space, '"', ',', ';', '\\' or control character); cookie domains and
//     paths hold no control character or ';';
//   - scope entries are absolute http(s) URLs without whitespace or control
//     characters;
//   - the token, the id token and each value are at most MaxValueSize bytes, each name
//     MaxNameSize, and the whole credential (State included)
//     MaxCredentialSize.
//
// The error is a *Error of KindPlugin, as a credential comes from a plugin;
// its one-line message names the field ("header 2 value holds a control
// character") and never quotes a value, which may be a secret. A nil
// credential is valid. Validate allocates nothing unless c is invalid: the
// cached path of authx token runs it on every call.
func (c *Credential) Validate() error {
	if c == nil {
		return nil
	}
	total := len(c.Token) + len(c.IDToken) + len(c.State)
	if p := valueProblem(c.Token, isTokenByte, "holds whitespace or a control character"); p != "" {
		return Errorf(KindPlugin, "the token %s", p)
	}
	if p := valueProblem(c.IDToken, isTokenByte, "holds whitespace or a control character"); p != "" {
		return Errorf(KindPlugin, "the id token %s", p)
	}
	for i, h := range c.Headers {
		total += len(h.Name) + len(h.Value)
		if err := checkName("header", i, h.Name); err != nil {
			return err
		}
		if p := valueProblem(h.Value, isFieldValueByte, "holds a control character (a line break, NUL or DEL)"); p != "" { // the name is a token now: safe to show
			return Errorf(KindPlugin, "header %d (%s) value %s", i+1, h.Name, p)
		}
	}
	for i, k := range c.Cookies {
		total += len(k.Name) + len(k.Value) + len(k.Domain) + len(k.Path)
		if err := checkName("cookie", i, k.Name); err != nil {
			return err
		}
		if p := valueProblem(k.Value, isCookieOctet, "is not RFC 6265 cookie-octets (it holds a space, quote, comma, semicolon, backslash or control character)"); p != "" {
			return Errorf(KindPlugin, "cookie %d (%s) value %s", i+1, k.Name, p)
		}
		if !valid(k.Domain, isAttrByte) || !valid(k.Path, isAttrByte) || len(k.Domain)+len(k.Path) > MaxValueSize {
			return Errorf(KindPlugin, "cookie %d (%s) has a domain or path holding a control character or ';'", i+1, k.Name)
		}
	}
	for i, s := range c.Scope {
		total += len(s)
		if err := checkScope(i, s); err != nil {
			return err
		}
	}
	if total > MaxCredentialSize {
		return Errorf(KindPlugin, "the credential is larger than %s", sizeName(MaxCredentialSize))
	}
	return nil
}

// ValidHeaderName reports whether s may be sent as an HTTP header name: a
// non-empty RFC 9110 token of at most MaxNameSize bytes.
func ValidHeaderName(s string) bool {
	return s != "" && len(s) <= MaxNameSize && valid(s, isTchar)
}

// ValidHeaderValue reports whether s may be sent as an HTTP header value:
// no control character but horizontal tab, at most MaxValueSize bytes.
func ValidHeaderValue(s string) bool {
	return len(s) <= MaxValueSize && valid(s, isFieldValueByte)
}

// ValidCookie reports whether a cookie name and value may be sent in a
// Cookie header: the name a token, the value RFC 6265 cookie-octets.
func ValidCookie(name, value string) bool {
	return ValidHeaderName(name) && len(value) <= MaxValueSize && valid(value, isCookieOctet)
}

func checkName(what string, i int, name string) error {
	if !ValidHeaderName(name) {
		return Errorf(KindPlugin, "%s %d name is not an HTTP token (empty, longer than %d bytes, or holding a separator, space or control character)", what, i+1, MaxNameSize)
	}
	return nil
}

// valueProblem says what is wrong with a value, or "" when nothing is:
// too large, or a byte that ok refuses, which bad describes.
func valueProblem(s string, ok func(byte) bool, bad string) string {
	if len(s) > MaxValueSize {
		return "is larger than " + sizeName(MaxValueSize)
	}
	if !valid(s, ok) {
		return bad
	}
	return ""
}

// checkScope checks a scope entry without parsing it (no allocation):
// http:// or https:// (any case), a non-empty host, no whitespace or
// control character. Matching parses it and skips one that does not parse.
func checkScope(i int, s string) error {
	if len(s) > MaxValueSize || !valid(s, isTokenByte) {
		return Errorf(KindPlugin, "scope entry %d holds whitespace or a control character", i+1)
	}
	rest, ok := cutPrefixFold(s, "https://")
	if !ok {
		rest, ok = cutPrefixFold(s, "http://")
	}
	if !ok || rest == "" || rest[0] == '/' || rest[0] == '?' || rest[0] == '#' {
		return Errorf(KindPlugin, "scope entry %d is not an absolute http(s) URL", i+1)
	}
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func valid(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// isCTL reports an ASCII control character (RFC 5234 CTL): 0x00-0x1F, 0x7F.
func isCTL(b byte) bool { return b < 0x20 || b == 0x7f }

// isTokenByte: neither whitespace nor a control character.
func isTokenByte(b byte) bool { return !isCTL(b) && b != ' ' }

// isFieldValueByte is RFC 9110's field-vchar, SP or HTAB (obs-text
// included).
func isFieldValueByte(b byte) bool { return b == '\t' || !isCTL(b) }

// isAttrByte is a cookie attribute's value (RFC 6265 av-octet): any CHAR
// but CTL and ';'.
func isAttrByte(b byte) bool { return !isCTL(b) && b != ';' }

// isTchar is RFC 9110's tchar.
func isTchar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// isCookieOctet is RFC 6265's cookie-octet: %x21 / %x23-2B / %x2D-3A /
// %x3C-5B / %x5D-7E.
func isCookieOctet(b byte) bool {
	return b == 0x21 || b >= 0x23 && b <= 0x2b || b >= 0x2d && b <= 0x3a || b >= 0x3c && b <= 0x5b || b >= 0x5d && b <= 0x7e
}
