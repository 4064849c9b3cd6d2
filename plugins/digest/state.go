package digest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/authx/authx/core/urlscope"
)

// stateVersion is the version of the state's JSON form; decodeState refuses
// any other.
const stateVersion = 1

// maxState bounds the encoded state: a server's challenge fills it, and
// the host hands it back on every call.
const maxState = 8 << 10

// maxSpace bounds the protection space's URIs (from a challenge's domain).
const maxSpace = 32

// state is what the credential keeps between requests (Credential.State):
// the server's challenge and the nonce count, never the password. It
// crosses processes through the host's cache, so decodeState treats its
// bytes as untrusted input.
type state struct {
	V         int    `json:"v"`
	Realm     string `json:"realm"`
	Nonce     string `json:"nonce"`
	Opaque    string `json:"opaque,omitempty"`
	HasOpaque bool   `json:"has_opaque,omitempty"`
	// Algorithm is the chosen algorithm's name (see algorithms).
	Algorithm string `json:"algorithm"`
	// QOP lists the qop values the server offered that authx speaks
	// ("auth", "auth-int"); empty means RFC 2069's form without qop.
	QOP      []string `json:"qop,omitempty"`
	Userhash bool     `json:"userhash,omitempty"`
	// NC is the last nonce count sent with Nonce; the next request sends
	// NC+1.
	NC uint32 `json:"nc"`
	// Space is the protection space: absolute URL prefixes (RFC 7616
	// §3.3), on the origin of the URL the challenge came from.
	Space []string `json:"space"`
}

// encode returns s as the credential's state bytes: its JSON, base64url
// encoded. The host masks the long strings of a JSON state in every
// message as possible secrets; nothing here is secret, and encoded, the
// realm and the protection space's URLs stay readable in messages.
func (s *state) encode() []byte {
	b, err := json.Marshal(s)
	if err != nil { // only strings, bools and numbers: cannot happen
		panic(err)
	}
	return []byte(base64.RawURLEncoding.EncodeToString(b))
}

// decodeState reads state bytes back and checks them: a version it knows,
// a supported algorithm, values that can go into a header as they are, a
// nonce count with room for one more, and a protection space of absolute
// http(s) URLs. It returns an error phrase for anything else.
func decodeState(b []byte) (*state, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("the credential holds no Digest state")
	}
	if len(b) > maxState {
		return nil, fmt.Errorf("the credential's Digest state is larger than %d bytes", maxState)
	}
	raw := make([]byte, base64.RawURLEncoding.DecodedLen(len(b)))
	n, err := base64.RawURLEncoding.Decode(raw, b)
	if err != nil {
		return nil, fmt.Errorf("the credential's Digest state is not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(raw[:n]))
	dec.DisallowUnknownFields()
	var s state
	if err := dec.Decode(&s); err != nil || dec.More() {
		return nil, fmt.Errorf("the credential's Digest state is not valid JSON")
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// check validates s; see decodeState.
func (s *state) check() error {
	switch {
	case s.V != stateVersion:
		return fmt.Errorf("the credential's Digest state has version %d, not %d", s.V, stateVersion)
	case s.Nonce == "":
		return fmt.Errorf("the credential's Digest state has no nonce")
	case s.NC == math.MaxUint32:
		return fmt.Errorf("the nonce count is exhausted")
	case len(s.Space) == 0 || len(s.Space) > maxSpace:
		return fmt.Errorf("the credential's Digest state has %d protection space URIs", len(s.Space))
	}
	if _, ok := lookupAlgorithm(s.Algorithm); !ok || s.Algorithm == "" {
		return fmt.Errorf("the credential's Digest state names an unsupported algorithm")
	}
	for _, v := range []string{s.Realm, s.Nonce, s.Opaque} {
		if !headerSafe(v) {
			return fmt.Errorf("the credential's Digest state holds a value no header can carry")
		}
	}
	for _, q := range s.QOP {
		if q != "auth" && q != "auth-int" {
			return fmt.Errorf("the credential's Digest state names an unknown qop")
		}
	}
	for _, p := range s.Space {
		u, err := url.Parse(p)
		if err != nil || !u.IsAbs() || urlscope.Problem(u) != "" || u.User != nil {
			return fmt.Errorf("the credential's Digest state holds an invalid protection space")
		}
	}
	return nil
}

// headerSafe reports whether v can be a quoted-string's content as is:
// valid UTF-8 without control characters.
func headerSafe(v string) bool {
	return utf8.ValidString(v) && strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0
}
