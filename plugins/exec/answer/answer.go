// Package answer parses what an exec scheme's command prints: authx's own
// JSON shape or a Kubernetes ExecCredential (docs/exec.md).
//
// The bytes are untrusted and may hold a secret: every error names the
// field at fault and never quotes a value.
package answer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/authx/authx/core"
)

// MaxSize bounds the output Parse accepts; the caller reads at most this
// much (and one byte more, to tell that there was more).
const MaxSize = 1 << 20

// MaxLifetime bounds an answer's expiry: further ahead is taken for a
// mistake (a Unix time given as expires_in); a credential that does not
// expire leaves the expiry out.
const MaxLifetime = 10 * 365 * 24 * time.Hour

// maxHeaders bounds the headers of one answer.
const maxHeaders = 32

// The Kubernetes ExecCredential API versions accepted.
var kubeVersions = []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"}

// Parse turns a command's output into a credential, with now the time the
// command finished (expires_in counts from it). A token alone becomes
// `Authorization: Bearer TOKEN`; with headers, the headers are sent as
// given and the token is only what `authx token` prints. The refresh
// state, if any, is the credential's State. Every failure is a
// core.KindBadAnswer error whose one-line message names the field.
func Parse(data []byte, now time.Time) (*core.Credential, error) {
	if len(data) > MaxSize {
		return nil, bad("", "larger than 1 MiB")
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, bad("", `empty; the command must print a JSON object such as {"token": "..."}`)
	}
	var fields map[string]json.RawMessage
	if data[0] != '{' || json.Unmarshal(data, &fields) != nil || fields == nil {
		return nil, bad("", `not a JSON object; the command must print one such as {"token": "..."}`)
	}
	if _, ok := fields["kind"]; ok {
		return parseKube(fields, now)
	}
	return parseNative(fields, now)
}

// bad is the error for field (none when empty): what is wrong with it.
func bad(field, problem string) error {
	if field == "" {
		return core.Errorf(core.KindBadAnswer, "%s", problem)
	}
	return core.Errorf(core.KindBadAnswer, "%s: %s", field, problem)
}

var nativeFields = []string{"token", "headers", "expires_in", "expires_at", "refresh", "scope"}

func parseNative(fields map[string]json.RawMessage, now time.Time) (*core.Credential, error) {
	for _, name := range sortedKeys(fields) {
		if !slices.Contains(nativeFields, name) {
			return nil, bad("", fmt.Sprintf("unknown field %s (known: %s)", fieldName(name), strings.Join(nativeFields, ", ")))
		}
	}
	c := &core.Credential{}
	var err error
	if c.Token, err = optString(fields, "token"); err != nil {
		return nil, err
	}
	if c.Token != "" {
		if err := checkToken("token", c.Token); err != nil {
			return nil, err
		}
	}
	if raw, ok := fields["headers"]; ok {
		if c.Headers, err = parseHeaders(raw); err != nil {
			return nil, err
		}
	}
	if c.Token == "" && len(c.Headers) == 0 {
		return nil, bad("token", "missing: the answer needs a token or headers")
	}
	if len(c.Headers) == 0 {
		c.Headers = []core.Header{{Name: "Authorization", Value: "Bearer " + c.Token}}
	}
	_, hasIn := fields["expires_in"]
	_, hasAt := fields["expires_at"]
	switch {
	case hasIn && hasAt:
		return nil, bad("expires_at", "give expires_in or expires_at, not both")
	case hasIn:
		var secs float64
		if json.Unmarshal(fields["expires_in"], &secs) != nil {
			return nil, bad("expires_in", "not a number of seconds")
		}
		if !(secs > 0) || secs > MaxLifetime.Seconds() {
			return nil, bad("expires_in", fmt.Sprintf("must be more than 0 and at most %d seconds (10 years); leave it out for a credential that does not expire", int64(MaxLifetime.Seconds())))
		}
		c.ExpiresAt = now.Add(time.Duration(math.Round(secs * float64(time.Second))))
	case hasAt:
		if c.ExpiresAt, err = parseTime(fields, "expires_at", now); err != nil {
			return nil, err
		}
	}
	state, err := optString(fields, "refresh")
	if err != nil {
		return nil, err
	}
	if len(state) > core.MaxValueSize {
		return nil, bad("refresh", "larger than 64 KiB")
	}
	c.State = []byte(state)
	if raw, ok := fields["scope"]; ok {
		if json.Unmarshal(raw, &c.Scope) != nil {
			return nil, bad("scope", "not a list of strings")
		}
	}
	return checked(c)
}

// parseKube reads a client.authentication.k8s.io ExecCredential: its
// status.token (a bearer token) and status.expirationTimestamp.
func parseKube(fields map[string]json.RawMessage, now time.Time) (*core.Credential, error) {
	var kind, version string
	if json.Unmarshal(fields["kind"], &kind) != nil || kind != "ExecCredential" {
		return nil, bad("kind", `must be "ExecCredential" (or leave kind out for authx's own shape)`)
	}
	if json.Unmarshal(fields["apiVersion"], &version) != nil || !slices.Contains(kubeVersions, version) {
		return nil, bad("apiVersion", "must be "+strings.Join(kubeVersions, " or "))
	}
	var status map[string]json.RawMessage
	if json.Unmarshal(fields["status"], &status) != nil || status == nil {
		return nil, bad("status", "missing or not an object")
	}
	if _, ok := status["clientCertificateData"]; ok {
		return nil, bad("status.clientCertificateData", "client certificates are not supported; the answer needs status.token")
	}
	token, err := optString(status, "token")
	if err != nil {
		return nil, bad("status.token", "not a string")
	}
	if token == "" {
		return nil, bad("status.token", "missing or empty")
	}
	if err := checkToken("status.token", token); err != nil {
		return nil, err
	}
	c := &core.Credential{Token: token, Headers: []core.Header{{Name: "Authorization", Value: "Bearer " + token}}}
	if _, ok := status["expirationTimestamp"]; ok {
		if c.ExpiresAt, err = parseTime(status, "expirationTimestamp", now); err != nil {
			return nil, bad("status.expirationTimestamp", strings.TrimPrefix(err.Error(), "expirationTimestamp: "))
		}
	}
	return checked(c)
}

// checked runs the host's own checks on c (scope URLs, sizes), so that
// what the host would refuse as a plugin failure is named here as the
// answer's fault.
func checked(c *core.Credential) (*core.Credential, error) {
	if err := c.Validate(); err != nil {
		return nil, bad("", strings.TrimPrefix(err.Error(), "the "))
	}
	return c, nil
}

func optString(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", bad(name, "not a string")
	}
	return s, nil
}

// checkToken: a token is printable ASCII without spaces, as it goes after
// "Bearer ".
func checkToken(field, token string) error {
	if len(token) > core.MaxValueSize {
		return bad(field, "larger than 64 KiB")
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] >= 0x7f {
			return bad(field, "holds a space, a control character or a non-ASCII byte")
		}
	}
	return nil
}

func parseHeaders(raw json.RawMessage) ([]core.Header, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, bad("headers", `not an object of names and values, e.g. {"X-Api-Key": "..."}`)
	}
	if len(m) > maxHeaders {
		return nil, bad("headers", fmt.Sprintf("more than %d", maxHeaders))
	}
	var hs []core.Header
	seen := map[string]bool{}
	for _, name := range sortedKeys(m) {
		if !core.ValidHeaderName(name) {
			return nil, bad("headers", "a name is not an HTTP header name (a token: letters, digits, !#$%&'*+-.^_`|~; not shown, as it may hold a secret)")
		}
		field := "headers." + name
		if lower := strings.ToLower(name); seen[lower] {
			return nil, bad(field, "given twice (names are case-insensitive)")
		} else {
			seen[lower] = true
		}
		switch strings.ToLower(name) {
		case "host", "content-length", "transfer-encoding", "connection":
			return nil, bad(field, "authx does not set this header")
		}
		var value string
		if json.Unmarshal(m[name], &value) != nil {
			return nil, bad(field, "not a string")
		}
		if value == "" {
			return nil, bad(field, "empty")
		}
		if !core.ValidHeaderValue(value) {
			return nil, bad(field, "holds a control character (CR, LF, NUL, DEL) or is larger than 64 KiB")
		}
		hs = append(hs, core.Header{Name: name, Value: value})
	}
	return hs, nil
}

// parseTime reads an RFC 3339 time that is after now and at most
// MaxLifetime ahead.
func parseTime(fields map[string]json.RawMessage, name string, now time.Time) (time.Time, error) {
	var s string
	if json.Unmarshal(fields[name], &s) != nil {
		return time.Time{}, bad(name, "not an RFC 3339 time string such as 2026-01-02T15:04:05Z")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, bad(name, "not an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	if !t.After(now) {
		return time.Time{}, bad(name, "already past")
	}
	if t.Sub(now) > MaxLifetime {
		return time.Time{}, bad(name, "more than 10 years ahead")
	}
	return t, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fieldName quotes an unknown field's name for a message when it looks
// like a misspelt field (letters and '_', at most 24): a name
// of another shape may be a secret printed in the wrong place, and is not
// shown.
func fieldName(name string) string {
	if len(name) == 0 || len(name) > 24 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
		return "(its name not shown: it may hold a secret)"
	}
	return `"` + name + `"`
}
