package jwt

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/authx/authx/core"
)

// This file holds the helpers that shape user-facing text. Every message of
// the package is one line, starts in lower case, has no trailing period and
// never holds a secret: URLs go through redact.RawURL, untrusted values
// through printable or oneLine, and a server's words through redact.Secrets.

// truncate cuts s to at most n runes, marking a cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// oneLine collapses the whitespace of s, newlines included, and cuts it to
// n runes.
func oneLine(s string, n int) string {
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

// printable renders an untrusted header or claim value for a message:
// quoted (so control characters are escaped) and cut to 64 runes.
func printable(s string) string {
	return fmt.Sprintf("%q", truncate(s, 64))
}

// detail formats the non-empty parts as " (a: b)", or "" when there are
// none.
func detail(parts ...string) string {
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	if len(nonEmpty) == 0 {
		return ""
	}
	return " (" + strings.Join(nonEmpty, ": ") + ")"
}

// message is an error's user-facing line: the Msg of a *core.Error without
// its cause, else the whole text.
func message(err error) string {
	if e, ok := errors.AsType[*core.Error](err); ok && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}
