// Package gitcred speaks git's credential helper protocol
// (git-credential(1), "INPUT/OUTPUT FORMAT" and "CUSTOM HELPERS"): it
// reads the attributes git sends a helper on stdin and writes the
// username and password the helper answers.
//
// What git sends is untrusted: Read bounds it (MaxInput), refuses NUL and
// CR, and keeps only the attributes a helper needs; unknown attributes are
// ignored, as git's documentation asks of helpers. Write refuses a value
// that would break the line protocol (a CR, LF or NUL), so that an answer
// never carries an injected attribute. Neither quotes a value in its
// errors: a value may be a password.
package gitcred

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// MaxInput bounds what Read accepts: git sends a few short lines.
const MaxInput = 64 << 10

// Request holds the attributes of one request from git that a helper
// uses. A field git did not send is "".
type Request struct {
	Protocol string // "https", "http", or another protocol such as "cert"
	Host     string // host name, with ":port" when the URL has one
	Path     string // the repository path, without its leading "/" (only with credential.useHttpPath)
	Username string
	Password string // sent with "erase" (and "store"): what the server refused (or took)
}

// ErrFormat is the error Read returns for input that is not git's
// key=value lines.
var ErrFormat = errors.New("gitcred: malformed input")

// Read reads attributes from r up to a blank line or the end of input. An
// attribute given twice keeps its last value, as git does.
func Read(r io.Reader) (*Request, error) {
	br := bufio.NewReader(io.LimitReader(r, MaxInput+1))
	var req Request
	n := 0
	for {
		line, err := br.ReadString('\n')
		n += len(line)
		if n > MaxInput {
			return nil, fmt.Errorf("%w: over %d bytes", ErrFormat, MaxInput)
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return &req, nil // a blank line, or the end of input
		}
		if strings.ContainsAny(line, "\x00\r") {
			return nil, fmt.Errorf("%w: a NUL or CR in a line", ErrFormat)
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("%w: a line without key=value", ErrFormat)
		}
		switch key {
		case "protocol":
			req.Protocol = value
		case "host":
			req.Host = value
		case "path":
			req.Path = value
		case "username":
			req.Username = value
		case "password":
			req.Password = value
		}
		if err == io.EOF {
			return &req, nil
		}
	}
}

// URL returns the URL git asks a credential for: protocol://host/path. ok
// is false unless the protocol is http or https and the host is a plain
// host[:port] (no user info, path, query or white space): a helper has no
// credential for anything else (git also asks for a client certificate's
// passphrase with protocol=cert).
//
// git sends the path URL-decoded: a "." or ".." segment, a backslash or a
// percent sign in it may stand for an encoded one (%2F..%2F) that the
// server reads otherwise than a prefix match would, so such a path is not
// ok either.
func (r *Request) URL() (u *url.URL, ok bool) {
	if r.Protocol != "http" && r.Protocol != "https" || r.Host == "" ||
		strings.ContainsFunc(r.Host, func(c rune) bool { return c <= ' ' || c >= 0x7f || strings.ContainsRune("/?#@\\", c) }) ||
		strings.ContainsFunc(r.Path, func(c rune) bool { return c < ' ' || c == 0x7f || strings.ContainsRune("?#\\%", c) }) ||
		hasDotSegment(r.Path) {
		return nil, false
	}
	u, err := url.Parse(r.Protocol + "://" + r.Host + "/" + strings.TrimPrefix(r.Path, "/"))
	if err != nil || u.Host != r.Host || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, false
	}
	return u, true
}

// hasDotSegment reports whether path has a "." or ".." segment.
func hasDotSegment(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// Write writes the request's non-empty attributes to w as git does,
// ending with a blank line. It refuses a value holding a CR, LF or NUL
// before writing anything.
func (r *Request) Write(w io.Writer) error {
	return write(w, [][2]string{{"protocol", r.Protocol}, {"host", r.Host}, {"path", r.Path}, {"username", r.Username}, {"password", r.Password}}, true)
}

// Answer is what a helper answers to "get".
type Answer struct {
	Username string
	Password string
}

// Write writes the answer's attributes to w. Both must be non-empty (git
// takes a credential with an empty password for complete, and would send
// it) and free of CR, LF and NUL; otherwise nothing is written.
func (a Answer) Write(w io.Writer) error {
	if a.Username == "" || a.Password == "" {
		return errors.New("gitcred: an empty username or password")
	}
	return write(w, [][2]string{{"username", a.Username}, {"password", a.Password}}, false)
}

func write(w io.Writer, attrs [][2]string, blank bool) error {
	var b strings.Builder
	for _, kv := range attrs {
		if kv[1] == "" {
			continue
		}
		if strings.ContainsAny(kv[1], "\r\n\x00") {
			return fmt.Errorf("gitcred: refusing to write %s: it holds a line break or NUL", kv[0])
		}
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	if blank {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
