//go:build unix

package basic

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLookupNetrc pins the corners of the netrc format: a `machine` with no
// name is no default entry, and a `macdef` anywhere on a line (not only at
// its start, and not "macdefx") hides its body up to the next empty line.
func TestLookupNetrc(t *testing.T) {
	tests := []struct {
		data, host, user string
		login, password  string
		ok               bool
	}{
		{"machine h login a password p", "h", "", "a", "p", true},
		{"machine h login a password p", "H", "a", "a", "p", true},
		{"machine h login a password p", "h", "b", "", "", false},
		{"machine h login a password p\nmachine", "other", "", "", "", false},
		{"machine", "x", "", "", "", false},
		{"default login d password dp\nmachine h login a password p", "h", "", "a", "p", true},
		{"machine h login a password p macdef init\nmachine evil login e password ep\n\n", "evil", "", "", "", false},
		{"machine h login a password p\nmacdef init\nmachine evil login e password ep\n\nmachine z login z password zp", "z", "", "z", "zp", true},
		{"macdefx\nmachine h login a password p", "h", "", "a", "p", true},
		{"machine h login a password macdef\nmachine k login b password q", "k", "", "b", "q", true},
		{"machine h\r\n  login a\r\n  password p\r\n", "h", "", "a", "p", true},
		{"login a password p", "h", "", "", "", false},
	}
	for _, tt := range tests {
		login, password, ok := lookupNetrc([]byte(tt.data), tt.host, tt.user)
		if login != tt.login || password != tt.password || ok != tt.ok {
			t.Errorf("lookupNetrc(%q, %q, %q) = %q, %q, %v; want %q, %q, %v", tt.data, tt.host, tt.user, login, password, ok, tt.login, tt.password, tt.ok)
		}
	}
}

// TestUserNetrcIsBounded: $NETRC is read only when it is a regular file of
// at most 1 MiB, so a named pipe or /dev/zero cannot hang or swell the
// plugin.
func TestUserNetrcIsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 1<<20+1), 0o600)
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("machine h login a password p\n"), 0o600)
	for path, want := range map[string]string{fifo: "not a regular file", "/dev/zero": "not a regular file", big: "larger than 1 MiB", ok: ""} {
		t.Setenv("NETRC", path)
		data, err := userNetrc()
		switch {
		case want == "" && (err != nil || !strings.Contains(string(data), "machine h")):
			t.Errorf("%s: %q, %v", path, data, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want %q", path, err, want)
		}
	}
}
