package sealed

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds arbitrary blobs and associated data to Open: it never
// panics, opens nothing that was not sealed for that associated data
// (a blob sealed for one cache key never opens under another), and opens
// every untouched blob it sealed.
func FuzzOpen(f *testing.F) {
	b, err := New(key(3), key(4))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{}, "k", "k")
	f.Add(b.Seal("work.3f2a", []byte("payload")), "work.3f2a", "work.3f2a")
	f.Add(b.Seal("work.3f2a", []byte("payload")), "work.3f2a", "work.3f2b")
	f.Add([]byte{version, 0, 0, 0, 0}, "", "")
	f.Fuzz(func(t *testing.T, blob []byte, sealAD, openAD string) {
		if _, err := b.Open(openAD, blob); err == nil {
			// Only a seal of ours opens (a seed is one): then under
			// its own associated data only.
			if _, err := b.Open(openAD+"x", blob); err == nil {
				t.Fatalf("a blob opened under %q and %q", openAD, openAD+"x")
			}
		}
		sealed := b.Seal(sealAD, blob)
		got, err := b.Open(openAD, sealed)
		if sealAD == openAD {
			if err != nil || !bytes.Equal(got, blob) {
				t.Fatalf("round trip: %q, %v", got, err)
			}
		} else if err == nil {
			t.Fatalf("sealed for %q, opened for %q", sealAD, openAD)
		}
	})
}
