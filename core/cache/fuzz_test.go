package cache

import (
	"encoding/json"
	"testing"
)

// FuzzCacheEntry feeds arbitrary bytes to the entry decoder: it never
// panics, and what it accepts is an entry of this version and profile with a
// valid credential (no line break can reach a header) that survives a round
// trip.
func FuzzCacheEntry(f *testing.F) {
	f.Add([]byte(`{"version":1,"profile":"work","scheme":"basic","credential":{"token":"t","headers":[{"name":"Authorization","value":"Bearer t"}]}}`))
	f.Add([]byte(`{"version":1,"profile":"work","credential":{"token":"a\r\nX-Evil: 1"}}`))
	f.Add([]byte(`{"version":1,"profile":"work","credential":{"expires_at":"not a time"}}`))
	f.Add([]byte(`{"version":2,"profile":"work"}`))
	f.Add([]byte(`{"version":1,"profile":"other"}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte("\x00\xff{"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := decodeEntry(data, "work")
		if e == nil {
			return
		}
		if e.Version != Version || e.Profile != "work" {
			t.Fatalf("accepted %+v", e)
		}
		if err := e.Credential.Validate(); err != nil {
			t.Fatalf("accepted an invalid credential: %v", err)
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("an accepted entry does not encode: %v", err)
		}
		if e2 := decodeEntry(again, "work"); e2 == nil {
			t.Fatalf("round trip refused %s", again)
		}
	})
}
