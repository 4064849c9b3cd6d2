package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/cache"
)

// entrySeeds are entries as core/cache writes them (json.Marshal).
func entrySeeds(t testing.TB) [][]byte {
	at := time.Date(2026, 11, 30, 12, 0, 0, 123456789, time.FixedZone("", 3600))
	entries := []cache.Entry{
		{Version: 1, Profile: "work", Scheme: "basic", Created: at, Credential: core.Credential{
			Token: "YWxpY2U6cHcx", Headers: []core.Header{{Name: "Authorization", Value: "Basic YWxpY2U6cHcx"}}}},
		{Version: 1, Profile: "j.w_t-2", Scheme: "jwt", Created: at.UTC(), Credential: core.Credential{
			Token: "eyJh.eyJz.c2ln", IDToken: "eyJ0.eyJp.ZA", ExpiresAt: at.Add(time.Hour), Scope: []string{"https://api.example.com/v1/?a=1&b=<2>"},
			Headers: []core.Header{{Name: "Authorization", Value: "Bearer eyJh.eyJz.c2ln"}, {Name: "X-Note", Value: "caf\u00e9 \u2028 \"q\" \\ \t"}},
			State:   []byte(`{"refresh_token":"r3fr3sh"}`)}},
		{Version: 1, Profile: "jenkins", Scheme: "jenkins", Created: at, Credential: core.Credential{
			Cookies: []core.Cookie{{Name: "JSESSIONID", Value: "abc", Domain: "ci.example.com", Path: "/", Expires: at.Add(time.Minute), Secure: true, HTTPOnly: true}, {Name: "b", Value: ""}},
			Headers: []core.Header{{Name: "Jenkins-Crumb", Value: "0123"}}, PerRequest: false}},
		{Version: 1, Profile: "sign", Scheme: "hmac", Created: at, Credential: core.Credential{PerRequest: true, State: []byte{}, Scope: []string{}}},
		{},
	}
	var out [][]byte
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzDecodeEntry: whatever the bytes, decodeEntry either declines or
// returns exactly what json.Unmarshal returns for them. Never a panic.
func FuzzDecodeEntry(f *testing.F) {
	for _, b := range entrySeeds(f) {
		f.Add(b)
		f.Add([]byte(strings.ReplaceAll(string(b), ",", " ,\n\t")))
	}
	f.Add([]byte(`{"version":1,"Profile":"work"}`))                  // another case: encoding/json matches it, decodeEntry declines
	f.Add([]byte(`{"version":1,"profile":"a","profile":"b"}`))       // a key twice
	f.Add([]byte(`{"version":01}`))                                  // a leading zero
	f.Add([]byte(`{"version":1e0}`))                                 // an exponent
	f.Add([]byte(`{"credential":{"token":"\ud83d\ude00"}}`))         // a surrogate pair
	f.Add([]byte("{\"credential\":{\"token\":\"\xff\"}}"))           // invalid UTF-8
	f.Add([]byte(`{"credential":{"state":"e30"}}`))                  // unpadded base64
	f.Add([]byte(`{"credential":{"headers":null}}`))                 // a null
	f.Add([]byte(`{"created":"2026-11-30T12:00:00Z","extra":true}`)) // an unknown field
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decodeEntry(data)
		if !ok {
			return
		}
		var want cache.Entry
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("decodeEntry accepted what json.Unmarshal refuses (%v): %q", err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeEntry(%q)\n = %#v\nwant %#v", data, got, want)
		}
	})
}

// What core/cache writes, decodeEntry reads (so that the front takes its
// fast way for real entries).
func TestDecodeEntryReadsCacheEntries(t *testing.T) {
	for _, b := range entrySeeds(t) {
		got, ok := decodeEntry(b)
		var want cache.Entry
		json.Unmarshal(b, &want)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeEntry(%s) = %#v, %v; want %#v", b, got, ok, want)
		}
	}
}
