// Package render prints a credential the way scripts consume it: the bare
// token, header lines, a curl config, wgetrc lines, shell exports or JSON.
// The full authx CLI and its fast front (cmd/authx/front) share it, so that
// a credential prints byte for byte the same whichever serves it.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
)

// Formats are the output formats of `authx header`.
var Formats = []string{"header", "json", "env", "curl", "wget"}

// Headers writes c's headers (and a Cookie header for its cookies) to w in
// one of Formats. profile and scheme, and whether c came from the cache, go
// into the json format only.
//
// A credential that Check refuses is not printed at all: Headers returns
// the error before writing a byte.
func Headers(w io.Writer, format, profile, scheme string, c *core.Credential, cached bool) error {
	if !slices.Contains(Formats, format) {
		return core.Errorf(core.KindConfig, "--format %q: expected one of %s", format, strings.Join(Formats, ", "))
	}
	if err := Check(c); err != nil {
		return err
	}
	lines := c.HeaderLines()
	switch format {
	case "header":
		for _, h := range lines {
			fmt.Fprintf(w, "%s: %s\n", h.Name, h.Value)
		}
	case "curl":
		for _, h := range lines {
			fmt.Fprintf(w, "header = %s\n", CurlQuote(h.Name+": "+h.Value))
		}
	case "wget":
		for _, h := range lines {
			fmt.Fprintf(w, "header = %s: %s\n", h.Name, h.Value)
		}
	case "env":
		for _, kv := range Env(c) {
			name, value, _ := strings.Cut(kv, "=")
			fmt.Fprintf(w, "export %s=%s\n", name, ShellQuote(value))
		}
	case "json":
		out := struct {
			Profile   string            `json:"profile,omitempty"`
			Scheme    string            `json:"scheme"`
			Headers   map[string]string `json:"headers"`
			Cookies   []core.Cookie     `json:"cookies"`
			ExpiresAt *time.Time        `json:"expires_at"`
			Cached    bool              `json:"cached"`
		}{Profile: profile, Scheme: scheme, Headers: map[string]string{}, Cookies: c.Cookies, Cached: cached}
		for _, h := range c.Headers {
			out.Headers[h.Name] = h.Value
		}
		if out.Cookies == nil {
			out.Cookies = []core.Cookie{}
		}
		if !c.ExpiresAt.IsZero() {
			out.ExpiresAt = &c.ExpiresAt
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return nil
}

// Check refuses a credential that would break the formats' syntax: a
// header name that is not an HTTP token, a header value or a token holding
// a line break, NUL or another control character, a cookie that is not
// RFC 6265. The host validates every credential where it enters
// (core.Credential.Validate); this is the second line of defence, so that a
// header, curl config, wgetrc or environment line never holds an injected
// line whatever path a credential took. The error names the header by
// position and quotes no value.
func Check(c *core.Credential) error {
	if strings.ContainsFunc(c.Token, isControl) {
		return core.Errorf(core.KindPlugin, "refusing to print the token: it holds a line break or another control character")
	}
	for i, h := range c.Headers {
		if !core.ValidHeaderName(h.Name) || strings.ContainsFunc(h.Value, func(r rune) bool { return r != '\t' && isControl(r) }) {
			return core.Errorf(core.KindPlugin, "refusing to print header %d: its name is not an HTTP token or its value holds a line break or another control character", i+1)
		}
	}
	for i, k := range c.Cookies { // before CookieHeader, which would drop the bad bytes
		if !core.ValidCookie(k.Name, k.Value) {
			return core.Errorf(core.KindPlugin, "refusing to print cookie %d: its name is not an HTTP token or its value is not RFC 6265 cookie-octets", i+1)
		}
	}
	return nil
}

// isControl reports an ASCII control character (CR, LF and NUL among them).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Env returns the credential as NAME=value environment entries: AUTHX_TOKEN,
// then one per header (see EnvName).
func Env(c *core.Credential) []string {
	var env []string
	if c.Token != "" {
		env = append(env, "AUTHX_TOKEN="+c.Token)
	}
	for _, h := range c.HeaderLines() {
		env = append(env, EnvName(h.Name)+"="+h.Value)
	}
	return env
}

// EnvName maps a header name to its variable: Authorization is
// AUTHX_AUTHORIZATION, Cookie is AUTHX_COOKIE, any other header
// AUTHX_HEADER_<NAME> with every character but letters and digits as '_'.
func EnvName(header string) string {
	n := strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, header))
	switch n {
	case "AUTHORIZATION", "COOKIE":
		return "AUTHX_" + n
	}
	return "AUTHX_HEADER_" + n
}

// ShellQuote quotes s for POSIX shells.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CurlQuote quotes s for a curl config file: in a quoted value curl reads
// \\, \", \t, \n, \r and \v as escapes, so backslash and quote are
// escaped and the control characters written as escapes. Headers never gets
// here with a line break (Check refuses it): curl would turn \r\n back into
// a line break inside the header.
func CurlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\v", `\v`)
	return `"` + r.Replace(s) + `"`
}
