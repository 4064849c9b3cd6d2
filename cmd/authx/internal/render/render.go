// Package render prints a credential the way scripts consume it: the bare
// token, header lines, a curl config, wgetrc lines, shell exports or JSON.
// The full authx CLI and its fast front (cmd/authx/front) share it, so that
// a credential prints byte for byte the same whichever serves it.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authx/authx/core"
)

// Formats are the output formats of `authx header`.
var Formats = []string{"header", "json", "env", "curl", "wget"}

// Headers writes c's headers (and a Cookie header for its cookies) to w in
// one of Formats. profile and scheme, and whether c came from the cache, go
// into the json format only.
func Headers(w io.Writer, format, profile, scheme string, c *core.Credential, cached bool) error {
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
	default:
		return core.Errorf(core.KindConfig, "--format %q: expected one of %s", format, strings.Join(Formats, ", "))
	}
	return nil
}

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

// CurlQuote quotes s for a curl config file.
func CurlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}
