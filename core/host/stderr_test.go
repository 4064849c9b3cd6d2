package host

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzSafeLine: whatever a plugin writes on stderr, the line quoted in an
// error is valid UTF-8, one line, free of control and format characters,
// and bounded.
func FuzzSafeLine(f *testing.F) {
	for _, s := range []string{
		"fatal: missing module foo",
		"bad \x1b[31mred\x1b[0m\r\nX-Evil: 1",
		`{"@level":"error","@message":"no\u001bconfig\r\ndir"}`,
		"\u202eevil\u200b",
		"\xff\xfe\x00nul",
		strings.Repeat("é", 500),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := safeLine(in)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
			t.Fatalf("control or format character in %q", got)
		}
		if n := utf8.RuneCountInString(got); n > maxNoteRunes+1 {
			t.Fatalf("%d runes", n)
		}
		if got != strings.TrimSpace(got) {
			t.Fatalf("untrimmed %q", got)
		}
	})
}

// The line quoted for a plugin that died before its handshake: its last
// words, but not a runtime's version trailer.
func TestLastLine(t *testing.T) {
	nodeMissing := `node:internal/modules/cjs/loader:1228
  throw err;
  ^

Error: Cannot find module 'authx-plugin-sdk'
Require stack:
- /opt/plugins/authx-plugin-x
    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15) {
  code: 'MODULE_NOT_FOUND',
  requireStack: [ '/opt/plugins/authx-plugin-x' ]
}

Node.js v20.20.2
`
	tests := []struct{ name, stderr, want string }{
		{"plain", "starting\nfatal: no config dir\n", "fatal: no config dir"},
		{"python traceback", "Traceback (most recent call last):\n  File \"x\", line 1\nModuleNotFoundError: No module named 'grpc'\n", "ModuleNotFoundError: No module named 'grpc'"},
		{"node uncaught", nodeMissing, "Error: Cannot find module 'authx-plugin-sdk'"},
		{"node typed", "TypeError [ERR_INVALID_ARG_TYPE]: The \"path\" argument must be of type string\n    at x\n\nNode.js v22.1.0\n", `TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string`},
		{"node without an error line", "something odd\n\nNode.js v20.20.2\n", "something odd"},
		{"only the trailer", "Node.js v20.20.2\n", ""},
		{"a trailer-looking line mid-way", "Node.js v20.20.2\nreal last words\n", "real last words"},
	}
	for _, tt := range tests {
		tail := &stderrTail{buf: []byte(tt.stderr)}
		if got := tail.lastLine(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
