package host

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// tailSize bounds what stderrTail keeps.
const tailSize = 4 << 10

// maxNoteRunes bounds the stderr line quoted in a start-up error.
const maxNoteRunes = 200

// stderrTail passes a plugin's stderr through (go-plugin reads it for the
// log) and keeps its last tailSize bytes, so that a plugin dying before
// its handshake can be explained by its last words.
type stderrTail struct {
	io.ReadCloser
	mu  sync.Mutex
	buf []byte
}

func (t *stderrTail) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.mu.Lock()
	t.buf = append(t.buf, p[:n]...)
	if len(t.buf) > tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	t.mu.Unlock()
	return n, err
}

// lastLine returns the line that best explains a plugin's death, made
// safe to show (see safeLine): the last non-blank line read so far, except
// after a runtime's trailer that names only itself (Node ends an uncaught
// exception with "Node.js v20.1.0"), where it is the last line above it
// that names an error ("Error: Cannot find module 'x'"), else the line
// above the trailer.
func (t *stderrTail) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := bytes.Split(t.buf, []byte("\n"))
	trailer, fallback := false, ""
	for i := len(lines) - 1; i >= 0; i-- {
		line := safeLine(string(lines[i]))
		switch {
		case line == "":
		case !trailer && runtimeTrailer.MatchString(line):
			trailer = true
		case !trailer:
			return line
		case errorLine.MatchString(line):
			return line
		case fallback == "":
			fallback = line
		}
	}
	return fallback
}

// runtimeTrailer is a line a runtime writes after the error itself, and
// errorLine the line of an uncaught exception that names it.
var (
	runtimeTrailer = regexp.MustCompile(`^Node\.js v[0-9]+(\.[0-9]+)*$`)
	errorLine      = regexp.MustCompile(`^[\w$.]*(Error|Exception)(\s\[[A-Z_]+\])?: `)
)

// safeLine makes a line a plugin wrote fit in a one-line error: the
// message of an hclog JSON line, without control or format characters
// (terminal escapes, CR, bidi overrides) or invalid UTF-8, each replaced by
// a space, trimmed and cut at maxNoteRunes.
func safeLine(line string) string {
	var entry struct {
		Message string `json:"@message"`
	}
	if strings.HasPrefix(strings.TrimSpace(line), "{") && json.Unmarshal([]byte(line), &entry) == nil && entry.Message != "" {
		line = entry.Message
	}
	var b strings.Builder
	n := 0
	for i, r := range line {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			r = ' '
		}
		if n == maxNoteRunes {
			if strings.TrimSpace(line[i:]) != "" {
				b.WriteString("…")
			}
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
