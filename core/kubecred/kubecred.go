// Package kubecred speaks the client-go exec credential plugin protocol
// (client.authentication.k8s.io): it reads the ExecCredential request that
// kubectl passes in $KUBERNETES_EXEC_INFO and writes the ExecCredential
// answer a plugin prints on stdout. It does no I/O of its own beyond the
// writer it is given.
package kubecred

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The API versions of ExecCredential this package speaks. kubectl 1.22+
// accepts both; older ones v1beta1 (and v1alpha1, which is not spoken).
const (
	V1      = "client.authentication.k8s.io/v1"
	V1beta1 = "client.authentication.k8s.io/v1beta1"
)

// EnvExecInfo is the environment variable client-go passes the request in.
const EnvExecInfo = "KUBERNETES_EXEC_INFO"

// MaxExecInfo bounds the request: client-go puts the cluster's CA bundle in
// it at most (provideClusterInfo), and Linux caps one environment string at
// 128 KiB anyway.
const MaxExecInfo = 256 << 10

// Request is what kubectl says about the run.
type Request struct {
	// APIVersion is V1 or V1beta1: the answer must carry the same.
	APIVersion string
	// FromClient is false when there was no request at all: the plugin
	// was run by hand.
	FromClient bool
	// NonInteractive says that the plugin must not use the terminal
	// (spec.interactive is false: kubectl's stdin is not a terminal, or
	// interactiveMode is Never). When the request does not say (v1beta1 of
	// kubectl before 1.22), the plugin's own rules apply.
	NonInteractive bool
}

// ParseExecInfo parses the value of $KUBERNETES_EXEC_INFO. An empty value
// (run by hand, or by a client-go too old to send one) gives V1beta1 with
// FromClient false. Anything else must be an ExecCredential of a supported
// version, at most MaxExecInfo bytes; its spec.cluster is not read.
func ParseExecInfo(s string) (Request, error) {
	if strings.TrimSpace(s) == "" {
		return Request{APIVersion: V1beta1}, nil
	}
	if len(s) > MaxExecInfo {
		return Request{}, fmt.Errorf("$%s: larger than %d KiB", EnvExecInfo, MaxExecInfo>>10)
	}
	var in struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Spec       struct {
			Interactive *bool `json:"interactive"`
		} `json:"spec"`
	}
	d := json.NewDecoder(strings.NewReader(s))
	if err := d.Decode(&in); err != nil {
		return Request{}, fmt.Errorf("$%s: not an ExecCredential (%s)", EnvExecInfo, jsonProblem(err))
	}
	if _, err := d.Token(); err != io.EOF {
		return Request{}, fmt.Errorf("$%s: not an ExecCredential (data after the object)", EnvExecInfo)
	}
	if in.Kind != "ExecCredential" {
		return Request{}, fmt.Errorf("$%s: kind %s, expected ExecCredential", EnvExecInfo, quote(in.Kind))
	}
	if in.APIVersion != V1 && in.APIVersion != V1beta1 {
		return Request{}, fmt.Errorf("$%s: apiVersion %s is not supported (use %s or %s in the kubeconfig's exec block)", EnvExecInfo, quote(in.APIVersion), V1, V1beta1)
	}
	if in.Spec.Interactive == nil && in.APIVersion == V1 {
		// v1 always says, as client-go sets it from interactiveMode.
		return Request{}, fmt.Errorf("$%s: spec.interactive missing", EnvExecInfo)
	}
	return Request{APIVersion: in.APIVersion, FromClient: true, NonInteractive: in.Spec.Interactive != nil && !*in.Spec.Interactive}, nil
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s is not a %s", te.Field, te.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return "invalid JSON"
}

// quote shows a value read from the request in a message: quoted, cut at
// 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// Credential is the answer's status.
type Credential struct {
	// Token is sent as "Authorization: Bearer Token".
	Token string
	// Expires is when kubectl must ask again; zero means never (until the
	// server refuses it).
	Expires time.Time
}

// ExecCredential is the JSON shape of the answer.
type ExecCredential struct {
	Kind       string   `json:"kind"`
	APIVersion string   `json:"apiVersion"`
	Spec       struct{} `json:"spec"`
	Status     Status   `json:"status"`
}

// Status is an ExecCredential's status as this package writes it.
type Status struct {
	Token               string `json:"token"`
	ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
}

// Write writes the ExecCredential answering a request of apiVersion, and a
// newline. It refuses an empty token and one holding a byte kubectl could
// not put in a header (a control character, a space, non-ASCII).
func Write(w io.Writer, apiVersion string, c Credential) error {
	if apiVersion != V1 && apiVersion != V1beta1 {
		return fmt.Errorf("apiVersion %s is not supported", quote(apiVersion))
	}
	if c.Token == "" {
		return errors.New("the token is empty")
	}
	for i := 0; i < len(c.Token); i++ {
		if b := c.Token[i]; b <= ' ' || b >= 0x7f {
			return fmt.Errorf("the token holds a byte a header cannot carry (0x%02x at %d)", b, i)
		}
	}
	out := ExecCredential{Kind: "ExecCredential", APIVersion: apiVersion, Status: Status{Token: c.Token}}
	if !c.Expires.IsZero() && c.Expires.Year() <= 9999 { // later is never, for RFC 3339 too
		out.Status.ExpirationTimestamp = c.Expires.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// JWTExpiry returns the exp claim of a JWT, unverified: when an ID token
// stops being accepted, so that kubectl asks for another by then. ok is
// false when tok is not a JWT with a numeric exp.
func JWTExpiry(tok string) (exp time.Time, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
