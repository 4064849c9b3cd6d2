package sealed

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustBox(t testing.TB, current []byte, old ...[]byte) *Box {
	t.Helper()
	b, err := New(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	b := mustBox(t, key(1))
	plain := []byte(`{"token":"s3cr3t-token"}`)
	blob := b.Seal("work.3f2a", plain)
	if bytes.Contains(blob, []byte("s3cr3t-token")) {
		t.Fatal("the sealed blob holds the token in clear")
	}
	if again := b.Seal("work.3f2a", plain); bytes.Equal(again, blob) {
		t.Fatal("two seals of the same entry are equal: the nonce is not random")
	}
	got, err := b.Open("work.3f2a", blob)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenRefusesAnotherCacheKey(t *testing.T) {
	b := mustBox(t, key(1))
	blob := b.Seal("work.3f2a", []byte("x"))
	if _, err := b.Open("other.9c1d", blob); err == nil {
		t.Fatal("a blob moved to another cache key was opened")
	}
}

func TestOpenRefusesTamperingAndTruncation(t *testing.T) {
	b := mustBox(t, key(1))
	blob := b.Seal("k", []byte("payload"))
	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 0x01
		if _, err := b.Open("k", bad); err == nil {
			t.Fatalf("a blob with byte %d flipped was opened", i)
		}
	}
	for n := range len(blob) {
		if _, err := b.Open("k", blob[:n]); err == nil {
			t.Fatalf("a blob cut to %d bytes was opened", n)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	oldBox := mustBox(t, key(1))
	blob := oldBox.Seal("k", []byte("v"))

	rotated := mustBox(t, key(2), key(1))
	if got, err := rotated.Open("k", blob); err != nil || string(got) != "v" {
		t.Fatalf("the rotated box does not open an entry of the old key: %q, %v", got, err)
	}
	fresh := rotated.Seal("k", []byte("w"))
	if rotated.Current(blob) || !rotated.Current(fresh) || rotated.Current(fresh[:3]) {
		t.Error("Current does not tell a blob of the current key from one of an old key")
	}
	if _, err := oldBox.Open("k", fresh); err == nil {
		t.Fatal("a new entry was sealed with the old key, not the current one")
	}
	if _, err := mustBox(t, key(2)).Open("k", blob); err == nil {
		t.Fatal("an entry of a dropped key was opened")
	} else if !strings.Contains(err.Error(), "key id") {
		t.Fatalf("error %q does not say the key is unknown", err)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	if _, err := New(key(1)[:31]); err == nil {
		t.Fatal("a 31-byte key was accepted")
	}
	if _, err := New(key(1), key(1)[:16]); err == nil {
		t.Fatal("a 16-byte old key was accepted")
	}
}

func TestParseKey(t *testing.T) {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = byte(i * 7)
	}
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(k),
		base64.RawStdEncoding.EncodeToString(k),
		base64.URLEncoding.EncodeToString(k),
		base64.RawURLEncoding.EncodeToString(k),
		hex.EncodeToString(k),
		strings.ToUpper(hex.EncodeToString(k)),
		" " + hex.EncodeToString(k) + "\n",
	} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	secretish := "correct horse battery staple, not a key"
	for _, s := range []string{
		"", "short", secretish,
		base64.StdEncoding.EncodeToString(k[:31]),
		base64.StdEncoding.EncodeToString(append(bytes.Clone(k), 0)),
		hex.EncodeToString(k[:16]),
	} {
		_, err := ParseKey(s)
		if err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || (len(s) > 4 && strings.Contains(msg, s)) {
			t.Errorf("ParseKey error %q is not one line or holds the value", msg)
		}
		// A well-formed key of the wrong size (openssl rand -base64 16) is
		// base64: the error must not say it is neither base64 nor hex.
		if msg := err.Error(); !strings.Contains(msg, "not 32 bytes in either") {
			t.Errorf("ParseKey(%q) error %q does not say the decoded size is wrong", s, msg)
		}
	}
}
