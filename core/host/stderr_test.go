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
