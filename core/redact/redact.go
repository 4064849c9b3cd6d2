// Package redact makes text safe to show a user or write to a log: URLs
// without the parts that may carry secrets, and text a server or a plugin
// wrote without the secrets it was sent, in any of the forms it may echo
// them (see Set). Plugins use it for every message that names a URL or
// quotes a server; the host uses it for every message a plugin sends.
package redact

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Mask is what Secrets writes in place of a secret.
const Mask = "***"

// MinLen is the length below which Secrets leaves a value alone: masking
// every "pw" in a message would garble it and hide nothing.
const MinLen = 4

// URL returns u as text without its user info, query and fragment, which
// may hold a password, an API key or a signature. u is not modified.
func URL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// RawURL is URL for a URL in text form. Text that does not parse as a URL
// comes back as "(invalid URL)", never as itself.
func RawURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return URL(u)
}

// ParseError returns why url.Parse refused a URL without the URL itself,
// which may hold a password: `invalid port ":80x" after host`.
func ParseError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// Secrets replaces every occurrence of each secret (of at least MinLen
// bytes) in text with Mask, in every form Set covers. It guards text a
// server wrote (an error message, a page title, a challenge), which may
// echo what it was sent. For Basic credentials (base64 of "user:secret")
// use a Set and AddBasic.
func Secrets(text string, secrets ...string) string {
	return New(secrets...).Scrub(text)
}

// OneLine writes the control characters of s (a config key, a parser's
// quote, a reference's argument) as Go escapes (\n, \x00), so that a
// message quoting it stays one line.
func OneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
