// Package agent is the authx agent's wire format and its client: what the
// front and the CLI need to ask a running agent for a credential or a
// signature. It links no plugin machinery (the agent itself is
// core/agent/agentd), so the front may import it.
//
// A message is a 4-byte big-endian length followed by that many bytes of
// JSON: one Request from the client, one Response from the agent, then the
// connection is closed. Messages are at most MaxMessage bytes; an oversized
// or malformed one ends that connection only.
package agent

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode"

	core "github.com/authx/authx/core/base"
)

// EnvSock names the environment variable that holds the agent's socket.
const EnvSock = "AUTHX_AGENT_SOCK"

// MaxMessage bounds a request or a response.
const MaxMessage = 1 << 20

// The operations a Request may ask for.
const (
	// OpPing asks whether the agent runs; the answer is an empty Response.
	OpPing = "ping"
	// OpCredential asks for the profile's credential, without its state:
	// what `authx token` and `authx header` print.
	OpCredential = "credential"
	// OpApply asks for the headers that sign Request.Request with the
	// profile's credential (a per-request scheme).
	OpApply = "apply"
	// OpPut hands the agent a credential obtained without it (an
	// interactive login), for a store: memory profile.
	OpPut = "put"
	// OpForget asks the agent to forget the profile (every identity of it
	// in that config file): a store: memory credential is revoked when the
	// scheme can, and dropped; the plugin is stopped. Response.Count is
	// how many credentials it dropped.
	OpForget = "forget"
	// OpStatus asks for Status.
	OpStatus = "status"
	// OpStop makes the agent kill its plugins, forget its credentials and
	// exit.
	OpStop = "stop"
)

var ops = map[string]bool{OpPing: true, OpCredential: true, OpApply: true, OpPut: true, OpForget: true, OpStatus: true, OpStop: true}

// Request is one question to the agent. A profile is named by the absolute
// path of its config file, its name and its identity digest: the agent
// answers only when its own reading of that file gives the same identity,
// so it never serves what an edited profile no longer means.
type Request struct {
	Op       string `json:"op"`
	Config   string `json:"config,omitempty"`
	Profile  string `json:"profile,omitempty"`
	Identity string `json:"identity,omitempty"`
	// Request is the request to sign (OpApply): method, URL, headers
	// without credentials, the body's SHA-256.
	Request *SignRequest `json:"request,omitempty"`
	// Credential is the credential to hold (OpPut).
	Credential *core.Credential `json:"credential,omitempty"`
}

// Response is the agent's answer: Error, or Miss, or what Op asked for.
type Response struct {
	Error *Error `json:"error,omitempty"`
	// Miss says why the agent cannot serve the request (the profile
	// changed, a login needs the user): the client does what it does
	// without an agent. It is not an error.
	Miss string `json:"miss,omitempty"`
	// Credential (OpCredential) has no State: that stays in the agent.
	Credential *core.Credential `json:"credential,omitempty"`
	// Source is where the agent got Credential: "cache", "refresh" or
	// "login".
	Source  string        `json:"source,omitempty"`
	Headers []core.Header `json:"headers,omitempty"`
	Status  *Status       `json:"status,omitempty"`
	// Count is how many credentials OpForget dropped.
	Count int `json:"count,omitempty"`
}

// Error is a failure the agent reports: the client returns it as a
// *core.Error of the same kind, so the exit code is what it would be
// without the agent.
type Error struct {
	Kind    core.Kind `json:"kind"`
	Message string    `json:"message"`
}

// Err returns e as a *core.Error.
func (e *Error) Err() error { return core.Errorf(e.Kind, "%s", e.Message) }

// Status describes a running agent. It never holds a secret.
type Status struct {
	PID      int             `json:"pid"`
	Socket   string          `json:"socket"`
	Started  time.Time       `json:"started"`
	Idle     string          `json:"idle"`
	Profiles []ProfileStatus `json:"profiles"`
}

// ProfileStatus is one profile the agent serves.
type ProfileStatus struct {
	Profile   string    `json:"profile"`
	Config    string    `json:"config"`
	Scheme    string    `json:"scheme"`
	Store     string    `json:"store"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	LastUsed  time.Time `json:"last_used"`
	// PluginPID is the warm plugin's process id, 0 when none runs.
	PluginPID int `json:"plugin_pid,omitempty"`
}

// Write sends v as one message.
func Write(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(data) > MaxMessage {
		return fmt.Errorf("message of %d bytes exceeds %d", len(data), MaxMessage)
	}
	msg := make([]byte, 4+len(data))
	binary.BigEndian.PutUint32(msg, uint32(len(data)))
	copy(msg[4:], data)
	_, err = w.Write(msg)
	return err
}

// ReadFrame reads one message's bytes, refusing a length above MaxMessage
// before reading any of them.
func ReadFrame(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > MaxMessage {
		return nil, fmt.Errorf("message of %d bytes exceeds %d", n, MaxMessage)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	return data, nil
}

// DecodeRequest parses and checks a request's JSON: a known op, and the
// fields that op needs.
func DecodeRequest(data []byte) (*Request, error) {
	var req Request
	if err := unmarshalObject(data, &req); err != nil {
		return nil, err
	}
	if !ops[req.Op] {
		return nil, fmt.Errorf("unknown op %q", req.Op)
	}
	switch req.Op {
	case OpCredential, OpApply, OpPut:
		if req.Config == "" || req.Profile == "" || req.Identity == "" {
			return nil, errors.New("config, profile and identity are required")
		}
	}
	if req.Op == OpForget && (req.Config == "" || req.Profile == "") {
		return nil, errors.New("config and profile are required")
	}
	if req.Op == OpApply && (req.Request == nil || req.Request.Method == "" || req.Request.URL == "") {
		return nil, errors.New("apply needs a request with a method and a URL")
	}
	if req.Op == OpPut && req.Credential == nil {
		return nil, errors.New("put needs a credential")
	}
	return &req, nil
}

// DecodeResponse parses a response's JSON.
func DecodeResponse(data []byte) (*Response, error) {
	var resp Response
	if err := unmarshalObject(data, &resp); err != nil {
		return nil, err
	}
	if e := resp.Error; e != nil && (e.Kind < core.KindInternal || e.Kind > core.KindInterrupted) {
		e.Kind = core.KindInternal // a kind this build does not know
	}
	return &resp, nil
}

// unmarshalObject decodes one JSON object into v; fields it does not know
// are ignored (a newer peer's).
func unmarshalObject(data []byte, v any) error {
	if len(data) > MaxMessage {
		return fmt.Errorf("message of %d bytes exceeds %d", len(data), MaxMessage)
	}
	if i := bytes.IndexFunc(data, func(r rune) bool { return !unicode.IsSpace(r) }); i < 0 || data[i] != '{' {
		return errors.New("not a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("malformed message: %s", oneLine(err.Error()))
	}
	return nil
}

func oneLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return s[:i]
		}
	}
	return s
}

// SignRequest is a request to sign, as core.HTTPRequest holds it, in a
// form that links no net/http (the front imports this package).
type SignRequest struct {
	Method string
	URL    string
	// Header is the request's headers, without credentials.
	Header map[string][]string
	// BodySHA256 is the SHA-256 digest of the body.
	BodySHA256 []byte
}
