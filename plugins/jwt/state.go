package jwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authx/authx/core"
)

// stateVersion is the version of the state this plugin writes. Version 0
// (no "v") is the state of older releases: a refresh token only.
const stateVersion = 1

// maxState bounds the state decodeState reads.
const maxState = 256 << 10

// state is what a credential keeps for the plugin in Credential.State, as
// JSON: {"v":1,"refresh_token":...,"dpop":{...}}.
type state struct {
	V            int        `json:"v,omitempty"`
	RefreshToken string     `json:"refresh_token,omitempty"`
	DPoP         *dpopState `json:"dpop,omitempty"`
}

// dpopState is a DPoP-bound credential's key and the servers' nonces.
type dpopState struct {
	Alg string `json:"alg"`
	// Key is the private key, PKCS #8 DER (base64 in the JSON). It never
	// leaves the plugin but in the state, which the host keeps in its 0600
	// cache entry and never prints.
	Key []byte `json:"key"`
	// TokenNonce is the token endpoint's latest DPoP-Nonce (RFC 9449 §8).
	TokenNonce string `json:"token_nonce,omitempty"`
	// Nonces are the resource servers' latest nonces (§9), by origin,
	// oldest first, at most maxNonces.
	Nonces []originNonce `json:"nonces,omitempty"`

	key *dpopKey // Key, parsed
}

// originNonce is a resource server's nonce.
type originNonce struct {
	Origin string `json:"origin"`
	Nonce  string `json:"nonce"`
}

// nonceFor returns the nonce kept for target's origin, or "".
func (d *dpopState) nonceFor(target string) string {
	o := dpopOrigin(target)
	for _, n := range d.Nonces {
		if n.Origin == o {
			return n.Nonce
		}
	}
	return ""
}

// setNonce keeps nonce for target's origin, dropping the oldest origin
// beyond maxNonces.
func (d *dpopState) setNonce(target, nonce string) {
	o := dpopOrigin(target)
	kept := make([]originNonce, 0, len(d.Nonces)+1)
	for _, n := range d.Nonces {
		if n.Origin != o {
			kept = append(kept, n)
		}
	}
	kept = append(kept, originNonce{Origin: o, Nonce: nonce})
	if len(kept) > maxNonces {
		kept = kept[len(kept)-maxNonces:]
	}
	d.Nonces = kept
}

// encode is the state's JSON, at the current version.
func (s state) encode() []byte {
	s.V = stateVersion
	if s.DPoP != nil && s.DPoP.key != nil {
		s.DPoP.Key = s.DPoP.key.der
	}
	b, _ := json.Marshal(s) // strings and bytes only: never fails
	return b
}

// decodeState reads a credential's state, which is untrusted (a cache file
// another program may have written): the JSON of one version this plugin
// knows, no unknown member, a refresh token of printable text, and a DPoP
// key that parses and fits its algorithm, with well-formed nonces. Empty
// state is the zero state. Errors never quote the state.
func decodeState(b []byte) (state, error) {
	var s state
	if len(b) == 0 {
		return s, nil
	}
	if len(b) > maxState {
		return state{}, fmt.Errorf("the state is larger than %d bytes", maxState)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return state{}, fmt.Errorf("the state is not this plugin's JSON")
	}
	if dec.More() {
		return state{}, fmt.Errorf("the state has data after its JSON")
	}
	switch {
	case s.V < 0 || s.V > stateVersion:
		return state{}, fmt.Errorf("the state's version %d is not one this plugin reads (a newer authx wrote it?)", s.V)
	case s.V == 0 && s.DPoP != nil:
		return state{}, fmt.Errorf("a state of version 0 holds no DPoP key")
	case !printableText(s.RefreshToken):
		return state{}, fmt.Errorf("the state's refresh token holds control characters")
	}
	if d := s.DPoP; d != nil {
		k, err := parseDPoPKey(d.Alg, d.Key)
		if err != nil {
			return state{}, err
		}
		d.key = k
		if d.TokenNonce != "" && !validNonce(d.TokenNonce) {
			return state{}, fmt.Errorf("the state's token endpoint nonce is malformed")
		}
		if len(d.Nonces) > maxNonces {
			return state{}, fmt.Errorf("the state holds more than %d nonces", maxNonces)
		}
		seen := map[string]bool{}
		for _, n := range d.Nonces {
			if n.Origin == "" || dpopOrigin(n.Origin) != n.Origin || seen[n.Origin] || !validNonce(n.Nonce) {
				return state{}, fmt.Errorf("the state holds a malformed nonce")
			}
			seen[n.Origin] = true
		}
	}
	return s, nil
}

// printableText reports whether s is UTF-8 without control characters.
func printableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// stateOf reads c's state for what only renews it: a missing or unreadable
// state is the zero state, with no refresh token, so renewal falls back on
// a new login.
func stateOf(c *core.Credential) state {
	if c == nil {
		return state{}
	}
	st, err := decodeState(c.State)
	if err != nil {
		return state{}
	}
	return st
}

// dpopStateOf reads the DPoP part of c's state, which a DPoP profile's
// credential must have: without it (a state written for another profile,
// or damaged) only a new login helps.
func dpopStateOf(c *core.Credential) (*dpopState, error) {
	if c == nil {
		return nil, core.Errorf(core.KindLoginRequired, "no credential to apply; request a new token")
	}
	st, err := decodeState(c.State)
	if err != nil {
		return nil, core.Errorf(core.KindLoginRequired, "the cached credential is unusable (%v); request a new token", err)
	}
	if st.DPoP == nil {
		return nil, core.Errorf(core.KindLoginRequired, "the cached credential holds no DPoP key; request a new token")
	}
	return st.DPoP, nil
}
