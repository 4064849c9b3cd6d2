// Package sealed seals a cache entry before it leaves the process (for a
// shared store such as Redis): AES-256-GCM with a random nonce, the entry's
// cache key as associated data, so that a sealed blob opens only under the
// key it was sealed for, and a key id so that keys can rotate: a Box seals
// with its current key and opens with any of its keys.
//
// A sealed blob is
//
//	version (1 byte, 1) | key id (4 bytes) | nonce (12 bytes) | ciphertext and tag
//
// The key id is the first 4 bytes of HMAC-SHA256(key, "authx sealed key id"):
// it names a key without revealing it.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

const (
	version  = 1
	idSize   = 4
	header   = 1 + idSize
	nonceLen = 12
	tagLen   = 16
)

// Overhead is how many bytes a sealed blob has beyond its plaintext.
const Overhead = header + nonceLen + tagLen

// ErrOpen is what Open wraps when a blob does not open: damaged, sealed
// for another cache key, or under a key the Box does not hold.
var ErrOpen = errors.New("sealed entry does not open")

// Box seals under its current key and opens under any of its keys. It is
// safe for concurrent use.
type Box struct {
	current [idSize]byte
	keys    map[[idSize]byte]cipher.AEAD
}

// New returns a Box that seals with current and opens with current and
// old (keys being rotated out). Every key is KeySize bytes.
func New(current []byte, old ...[]byte) (*Box, error) {
	b := &Box{keys: map[[idSize]byte]cipher.AEAD{}}
	for i, k := range append([][]byte{current}, old...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("sealing key %d is %d bytes, not %d", i, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := keyID(k)
		if i == 0 {
			b.current = id
		}
		if _, dup := b.keys[id]; !dup {
			b.keys[id] = aead
		}
	}
	return b, nil
}

func keyID(k []byte) (id [idSize]byte) {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("authx sealed key id"))
	copy(id[:], m.Sum(nil))
	return id
}

// KeyID returns the current key's id in hex, to be shown (it reveals
// nothing of the key).
func (b *Box) KeyID() string { return hex.EncodeToString(b.current[:]) }

// Seal returns plain sealed under the current key for the cache key ad.
func (b *Box) Seal(ad string, plain []byte) []byte {
	out := make([]byte, header+nonceLen, header+nonceLen+len(plain)+tagLen)
	out[0] = version
	copy(out[1:header], b.current[:])
	nonce := out[header : header+nonceLen]
	if _, err := rand.Read(nonce); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on a supported OS (Go 1.24+)
	}
	return b.keys[b.current].Seal(out, nonce, plain, []byte(ad))
}

// Current reports whether blob was sealed under the Box's current key (by
// its key id; whether it opens is Open's to say).
func (b *Box) Current(blob []byte) bool {
	return len(blob) >= header && blob[0] == version && [idSize]byte(blob[1:header]) == b.current
}

// Open returns the plaintext of blob sealed for the cache key ad, or an
// error wrapping ErrOpen. The error never holds the blob's content.
func (b *Box) Open(ad string, blob []byte) ([]byte, error) {
	if len(blob) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes, shorter than a sealed entry", ErrOpen, len(blob))
	}
	if blob[0] != version {
		return nil, fmt.Errorf("%w: format version %d, expected %d", ErrOpen, blob[0], version)
	}
	id := [idSize]byte(blob[1:header])
	aead, ok := b.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w: sealed under key id %x, which is not configured", ErrOpen, id)
	}
	plain, err := aead.Open(nil, blob[header:header+nonceLen], blob[header+nonceLen:], []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("%w: damaged, or sealed for another entry", ErrOpen)
	}
	return plain, nil
}

// ParseKey decodes a key given as text (the value of a secret reference):
// KeySize bytes in base64 (standard or URL alphabet, padded or not) or in
// hex, surrounding spaces ignored. Its error never holds the text.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("a sealing key must be %d random bytes in base64 or hex (openssl rand -base64 %d); this one (%d characters) is not %d bytes in either", KeySize, KeySize, len(s), KeySize)
}
