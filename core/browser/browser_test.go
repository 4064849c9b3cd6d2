package browser

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) Env {
	return func(name string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == name {
				return kv[i+1]
			}
		}
		return ""
	}
}

const u = "https://idp.example.com/authorize?client_id=a&state=s"

func TestCommand(t *testing.T) {
	tests := []struct {
		name string
		env  Env
		goos string
		want []string
		err  string
	}{
		{"BROWSER", env("BROWSER", "firefox"), "linux", []string{"firefox", u}, ""},
		{"BROWSER with arguments", env("BROWSER", "firefox --new-window  -P 'my profile'"), "linux", []string{"firefox", "--new-window", "-P", "my profile", u}, ""},
		{"BROWSER with a path holding a space", env("BROWSER", `"/opt/My Browser/run" --x`), "linux", []string{"/opt/My Browser/run", "--x", u}, ""},
		{"BROWSER is never a shell", env("BROWSER", "echo $(id); rm -rf x"), "linux", []string{"echo", "$(id);", "rm", "-rf", "x", u}, ""},
		{"blank BROWSER", env("BROWSER", "  ", "DISPLAY", ":0"), "linux", []string{"xdg-open", u}, ""},
		{"BROWSER with an open quote", env("BROWSER", "firefox 'x"), "linux", nil, "$BROWSER: unterminated single quote"},
		{"xdg-open with a display", env("DISPLAY", ":0"), "linux", []string{"xdg-open", u}, ""},
		{"xdg-open with Wayland", env("WAYLAND_DISPLAY", "wayland-0"), "freebsd", []string{"xdg-open", u}, ""},
		{"no display", env(), "linux", nil, ErrNoBrowser.Error()},
		{"macOS", env(), "darwin", []string{"open", u}, ""},
		{"Windows", env(), "windows", []string{"rundll32", "url.dll,FileProtocolHandler", u}, ""},
		{"elsewhere", env(), "plan9", nil, ErrNoBrowser.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Command(u, tt.env, tt.goos)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("%q, %v; want the error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("%q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"a b\tc\n", []string{"a", "b", "c"}, false},
		{`a'b c'd`, []string{"ab cd"}, false},
		{`"a \"b\" \\ \$ \x"`, []string{`a "b" \ $ \x`}, false},
		{`a\ b \'`, []string{"a b", "'"}, false},
		{`''`, []string{""}, false},
		{`"`, nil, true},
		{`a\`, nil, true},
	}
	for _, tt := range tests {
		got, err := Split(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// Open starts $BROWSER with the URL as its last argument and does not wait
// for it to exit.
func TestOpenDoesNotWait(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a shell script")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "browser")
	out := filepath.Join(dir, "args")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >"+out+".tmp && mv "+out+".tmp "+out+"\nsleep 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := Open(u, env("BROWSER", script+" --new-tab")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Open took %s: it waited for the browser", took)
	}
	var got []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, _ = os.ReadFile(out); len(got) > 0 {
			break
		}
	}
	if string(got) != "--new-tab\n"+u+"\n" {
		t.Errorf("the browser got %q", got)
	}
}

func TestOpenFailures(t *testing.T) {
	err := Open(u, env("BROWSER", "/nonexistent/browser"))
	if err == nil || errors.Is(err, ErrNoBrowser) || strings.Contains(err.Error(), "idp.example.com") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a missing $BROWSER: %v; want one line naming it, not the URL", err)
	}
	if runtime.GOOS == "linux" {
		if err := Open(u, env("PATH", "")); !errors.Is(err, ErrNoBrowser) {
			t.Errorf("no display: %v, want ErrNoBrowser", err)
		}
	}
}

// quote quotes w for Split.
func quote(w string) string { return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'" }

// FuzzSplit: Split never panics, and words it returns, quoted again and
// joined, split back to the same words.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"firefox --new-window", `"/opt/My Browser/run" -x`, "echo $(id); rm -rf ~", `a\`, `"unterminated`, `'a'"b"\c`, "x\x00y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := Split(s)
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = quote(w)
		}
		again, err := Split(strings.Join(quoted, " "))
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("%q split to %q, which quoted splits to %q (%v)", s, words, again, err)
		}
	})
}
