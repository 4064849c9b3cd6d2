package pluginrpc

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/authx/authx/core"
)

// The bounds on what a login may show the user through the host (protocol
// minor 3): a notice reaches the user's terminal, a URL their browser.
const (
	// MaxNoticeSize bounds one notice.
	MaxNoticeSize = 4 << 10
	// MaxURLSize bounds one URL to open.
	MaxURLSize = 8 << 10
	// MaxLoginEvents bounds the notices and URLs of one login: a device
	// login that says "still waiting" every 5 s stays far below it.
	MaxLoginEvents = 1024
)

// CheckNotice reports whether msg may be shown on the user's terminal: at
// most MaxNoticeSize bytes of valid UTF-8 holding no control character but
// line feed and tab (no CR, ESC, DEL, nor a C1 control such as U+009B, the
// terminal escapes a hostile plugin would use to rewrite the screen). The
// error is a one-line KindPlugin error that does not quote msg.
func CheckNotice(msg string) error {
	if len(msg) > MaxNoticeSize {
		return core.Errorf(core.KindPlugin, "the notice is larger than %d KiB", MaxNoticeSize>>10)
	}
	if !utf8.ValidString(msg) {
		return core.Errorf(core.KindPlugin, "the notice is not valid UTF-8")
	}
	if strings.ContainsFunc(msg, func(r rune) bool { return r != '\n' && r != '\t' && isControl(r) }) {
		return core.Errorf(core.KindPlugin, "the notice holds a control character (only line feed and tab are allowed)")
	}
	return nil
}

// CheckURL reports whether u may be opened in the user's browser: an
// absolute http or https URL with a host, at most MaxURLSize bytes, with no
// whitespace, control character or non-ASCII byte (a browser is started
// with it as an argument; anything else must be percent-encoded). The error
// is a one-line KindPlugin error that does not quote u, whose query may
// hold a secret.
func CheckURL(u string) error {
	if len(u) > MaxURLSize {
		return core.Errorf(core.KindPlugin, "the URL to open is larger than %d KiB", MaxURLSize>>10)
	}
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] >= 0x7f {
			return core.Errorf(core.KindPlugin, "the URL to open holds whitespace, a control character or a non-ASCII byte")
		}
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" && p.Scheme != "https" || p.Host == "" || p.Opaque != "" {
		return core.Errorf(core.KindPlugin, "the URL to open is not an absolute http(s) URL")
	}
	return nil
}

// isControl reports a C0 or C1 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }
