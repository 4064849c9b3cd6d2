package pluginproc

import (
	"strings"
	"testing"
)

func TestParseHandover(t *testing.T) {
	good := Handover{PID: 4242, Stdout: 3, Stderr: 4, SocketDir: "/tmp/plugin-dir123", Path: "/opt/authx bin/authx-plugin-basic",
		Dev: 2049, Ino: 77, Size: 13 << 20, Mtime: 1700000000123456789, Ctime: 1700000000123456789}
	if h, err := ParseHandover(good.String()); err != nil || h != good {
		t.Fatalf("round trip: %+v, %v", h, err)
	}
	bad := []string{
		"",
		"2 4242 3 4 1 2 3 4 5 \"/tmp/plugin-dir1\" \"/p\"",       // another version
		"1 1 3 4 1 2 3 4 5 \"/tmp/plugin-dir1\" \"/p\"",          // pid 1
		"1 4242 2 4 1 2 3 4 5 \"/tmp/plugin-dir1\" \"/p\"",       // stderr of this process
		"1 4242 3 3 1 2 3 4 5 \"/tmp/plugin-dir1\" \"/p\"",       // one pipe twice
		"1 4242 3 4 1 2 -3 4 5 \"/tmp/plugin-dir1\" \"/p\"",      // negative size
		"1 4242 3 4 1 2 3 4 5 \"/tmp/elsewhere\" \"/p\"",         // not a socket directory
		"1 4242 3 4 1 2 3 4 5 \"/tmp/plugin-dir1\" \"p\"",        // relative path
		"1 4242 3 4 1 2 3 4 5 \"/tmp/plugin-dir1/../x\" \"/p\"",  // not clean
		"1 4242 3 4 1 2 3 4 5 \"/tmp/plugin-dir1\" \"/p\" extra", // trailing bytes
		"1 4242 3 4 1 2 3 4 5 \"/tmp/plugin-dir1\" \"/p\\x00q\"", // NUL
		"1 4242 3 4 1 2 3 4 5 \"/tmp/plugin-dir1\"",              // no path
		"1 4242 3 4 1 2 3 4 5 `/tmp/plugin-dir1` `/p`",           // raw strings
		"1 4242 3 4 1 2 3 4 5 \"/tmp/plugin-dir1\" \"/" + strings.Repeat("a", maxHandover) + "\"",
	}
	for _, s := range bad {
		if h, err := ParseHandover(s); err == nil {
			t.Errorf("ParseHandover(%.80q) = %+v, want an error", s, h)
		}
	}
}

// FuzzParseHandover: whatever the variable holds, ParseHandover returns a
// handover within its bounds or an error, and what it accepts encodes back
// to a value that parses to the same.
func FuzzParseHandover(f *testing.F) {
	f.Add(Handover{PID: 4242, Stdout: 3, Stderr: 4, SocketDir: "/tmp/plugin-dir1", Path: "/usr/lib/authx/authx-plugin-basic", Dev: 1, Ino: 2, Size: 3, Mtime: 4, Ctime: 5}.String())
	f.Add(`1 9 5 6 0 0 0 0 0 "/run/user/1000/plugin-dir\n" "/a \"b\""`)
	f.Add(`1 9 5 6 0 0 0 0 0 "/tmp/plugin-dir1" "/p" `)
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHandover(s)
		if err != nil {
			return
		}
		if h.PID <= 1 || h.Stdout < 3 || h.Stderr < 3 || h.Stdout == h.Stderr || h.Size < 0 ||
			!strings.HasPrefix(h.Path, "/") || !strings.HasPrefix(h.SocketDir, "/") || strings.ContainsRune(h.Path+h.SocketDir, 0) {
			t.Fatalf("ParseHandover(%q) accepted %+v", s, h)
		}
		if again, err := ParseHandover(h.String()); err != nil || again != h {
			t.Fatalf("%+v encodes to %q, which parses to %+v, %v", h, h.String(), again, err)
		}
	})
}

func TestValidScheme(t *testing.T) {
	for s, want := range map[string]bool{"basic": true, "jwt-2": true, "": false, "-x": false, "Basic": false, "../sh": false, "a b": false} {
		if ValidScheme(s) != want {
			t.Errorf("ValidScheme(%q) = %v", s, !want)
		}
	}
}
