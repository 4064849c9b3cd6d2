package redisvault

import (
	"testing"
	"time"

	"github.com/authx/authx/core/sealed"
)

// The key rotation of docs/stores.md, step by step on three machines: at
// every step, every machine opens the store's key for entry names and
// reads the entry the others wrote, so that no machine fails or logs in
// on its own while the fleet rotates.
func TestRotationProcedureLeavesNoMachineBehind(t *testing.T) {
	s := startRedis(t)
	k1, k2 := testKey(1), testKey(2)
	box := func(current []byte, old ...[]byte) *sealed.Box {
		b, err := sealed.New(current, old...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type keys struct{ current, old []byte }
	// The documented procedure: each row is the fleet's keys after a
	// step, one machine at a time.
	steps := [][3]keys{
		{{k1, nil}, {k1, nil}, {k1, nil}},
		// 1. the new key in keys_old, machine by machine
		{{k1, k2}, {k1, nil}, {k1, nil}},
		{{k1, k2}, {k1, k2}, {k1, nil}},
		{{k1, k2}, {k1, k2}, {k1, k2}},
		// 2. then the new key in key:, the old one in keys_old
		{{k2, k1}, {k1, k2}, {k1, k2}},
		{{k2, k1}, {k2, k1}, {k1, k2}},
		{{k2, k1}, {k2, k1}, {k2, k1}},
		// 3. then the old one dropped
		{{k2, nil}, {k2, k1}, {k2, k1}},
		{{k2, nil}, {k2, nil}, {k2, k1}},
		{{k2, nil}, {k2, nil}, {k2, nil}},
	}
	for i, step := range steps {
		var vs [3]*Vault
		for m, k := range step {
			var old [][]byte
			if k.old != nil {
				old = append(old, k.old)
			}
			vs[m] = newVault(t, s, Options{Box: box(k.current, old...)})
		}
		for m, v := range vs {
			if _, err := v.NameKey(); err != nil {
				t.Fatalf("step %d, machine %d: %v", i, m, err)
			}
			// machine m writes (a renewal), the others read it
			if err := v.SetUntil("work.1", []byte("entry of step"), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			for o, other := range vs {
				if _, err := other.Get("work.1"); err != nil {
					t.Errorf("step %d: machine %d does not read what machine %d wrote: %v", i, o, m, err)
				}
			}
		}
	}
}
