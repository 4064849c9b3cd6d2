package snapshot

import (
	"reflect"
	"strings"
	"testing"
)

const seed = `authx-front-snapshot 3
uid 1000
config "/home/a/.config/authx/config.yaml"
config-id 65024 10227375 85 1796060563082782483 1796060563082782483 33188 1000
taken 1796060694598337333
input ""
input ""
input ""
input ""
input ""
input ""
input "/tmp/c a\"che"
input ""
input ""
input "/home/a"
input ""
names-key 65024 10227377 32 1796060563396122437 1796060563397984509 33152 1000
log-level "off"
plugin-start-timeout 10000000000
call-timeout 60000000000
refresh-skew 60000000000
lock-timeout 120000000000
cmd-timeout 30000000000
cache-dir "/tmp/c a\"che"
default-store "file"
default-store-fallback "file"
default-cache-ttl 0
shared-store "edge" "redis"
shared-store "fleet" "redis"
profile "work"
scheme "basic"
match "https://api.example.com/v1/"
match "https://other.example.org/"
url "https://api.example.com/"
env "GH_TOKEN" "token"
env "H" "header:X-Key"
store "file"
config-key "password"
config-key "username"
entry "work.3767b46c8531896e1a9b4e1f83fadb09.json"
agent "1d3987b6bfe938c4a1358f0d81de7f43f8d27c09cc79bf5cf222a294576e14aa"
profile "mem"
scheme "jwt"
store "memory"
agent ""
profile "ci"
scheme "oauth2"
store "fleet"
entry "ci.0123456789abcdef0123456789abcdef.json"
agent ""
`

// FuzzDecode: any bytes decode to a snapshot that passes Validate, whose
// entry names are plain file names and which encodes back to bytes that
// decode to the same snapshot; or to an error. Never a panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(seed))
	f.Add([]byte(strings.Replace(seed, `entry "work.`, `entry "../work.`, 1)))
	f.Add([]byte(strings.Replace(seed, `profile "mem"`, `profile "work"`, 1)))
	f.Add([]byte(strings.Replace(seed, "authx-front-snapshot 3", "authx-front-snapshot 2", 1)))
	// Shared stores: a profile of one not listed, a listed one after a
	// profile, a duplicate, one named as a built-in store, no type, a URL.
	f.Add([]byte(strings.Replace(seed, `store "fleet"`, `store "fleet2"`, 1)))
	f.Add([]byte(strings.Replace(seed, `shared-store "edge" "redis"`+"\n", "", 1) + `shared-store "edge" "redis"` + "\n"))
	f.Add([]byte(strings.Replace(seed, `"edge"`, `"fleet"`, 1)))
	f.Add([]byte(strings.Replace(seed, `"edge"`, `"keyring"`, 1)))
	f.Add([]byte(strings.Replace(seed, `"edge" "redis"`, `"edge" ""`, 1)))
	f.Add([]byte(strings.Replace(seed, `"edge" "redis"`, `"edge" "redis" "redis://:pw@h:6379"`, 1)))
	f.Add([]byte(strings.Replace(seed, `"token"`, `"password"`, 1)))
	f.Add([]byte(strings.Replace(seed, `agent "`, `plugin "/opt/p/authx-plugin-x" "`+strings.Repeat("ab", 32)+`" "dir"`+"\n"+`agent "`, 1)))
	f.Add([]byte(seed[:len(seed)/2]))
	f.Add([]byte("authx-front-snapshot 3\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("decoded an invalid snapshot: %v", err)
		}
		for _, p := range s.Profiles {
			if strings.ContainsAny(p.Entry, "/\\\x00") || p.Entry == "." || p.Entry == ".." {
				t.Fatalf("entry %q is not a plain file name", p.Entry)
			}
		}
		again, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded snapshot does not decode: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip:\n%+v\n%+v", s, s2)
		}
	})
}

// The seed decodes (so that the fuzzer starts from a valid snapshot).
func TestDecodeSeed(t *testing.T) {
	s, err := Decode([]byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Profile("work"); p == nil || len(p.Match) != 2 || p.Env["H"] != "header:X-Key" || s.Settings.CacheDir != `/tmp/c a"che` ||
		s.Profile("ci").Store != "fleet" || len(s.Stores) != 2 || s.Stores["fleet"] != "redis" || !s.LocalFile("fleet") || s.LocalFile("memory") {
		t.Errorf("%+v", s)
	}
	data, _ := s.Encode()
	if string(data) != seed {
		t.Errorf("encoded:\n%s\nwant:\n%s", data, seed)
	}
}
