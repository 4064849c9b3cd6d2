// Package goauth speaks the go command's GOAUTH credential-command
// protocol (`go help goauth`, Go 1.24+): the credential sets a command
// prints (URL prefix lines, a blank line, header lines, a blank line) and
// the response head the go command writes on its stdin after a 4xx.
//
// Write refuses what the go command would misread or what would inject a
// line: a prefix that is not an https URL, a header name that is not an
// HTTP token, a value holding CR, LF, NUL or another control character.
// ReadResponse reads untrusted input: bounded (MaxResponse), and it keeps
// only the status code and the header lines. Errors never quote a header
// value: it may be a credential.
package goauth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Set is one credential set: the headers the go command attaches to its
// HTTPS requests under any of the prefixes.
type Set struct {
	// Prefixes are https:// URLs; the go command matches a request's
	// host and path against them by whole path segments.
	Prefixes []string
	Headers  []Header
}

// Header is one request header.
type Header struct {
	Name, Value string
}

// Write writes sets to w in the go command's format. It checks every set
// before writing a byte, so that a refused set leaves nothing half
// written. A set without prefixes or without headers is refused too.
func Write(w io.Writer, sets []Set) error {
	var b strings.Builder
	for i, s := range sets {
		if len(s.Prefixes) == 0 || len(s.Headers) == 0 {
			return fmt.Errorf("goauth: set %d: no URL prefix or no header", i+1)
		}
		for _, p := range s.Prefixes {
			if msg := prefixProblem(p); msg != "" {
				return fmt.Errorf("goauth: set %d: URL prefix %s", i+1, msg)
			}
			b.WriteString(p + "\n")
		}
		b.WriteString("\n")
		for j, h := range s.Headers {
			if !validName(h.Name) || !validValue(h.Value) {
				return fmt.Errorf("goauth: set %d: refusing header %d: its name is not an HTTP token or its value holds a line break or another control character", i+1, j+1)
			}
			b.WriteString(h.Name + ": " + h.Value + "\n")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DroppedOnRedirect reports whether the go command withholds header name
// when it follows a redirect to another host: it does so for Authorization
// and Cookie only (net/http's rule, which still forwards them to a
// subdomain of the original host) and forwards every other header it was
// given to whatever host the redirect names.
func DroppedOnRedirect(name string) bool {
	return strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Cookie")
}

// prefixProblem returns "" when p is an https URL the go command parses
// as itself, else what is wrong.
func prefixProblem(p string) string {
	if strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "holds white space or a control character"
	}
	u, err := url.ParseRequestURI(p)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.String() != p {
		return "is not a plain https:// URL"
	}
	return ""
}

// validName reports an RFC 9110 token.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || c == 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validValue reports a header value the go command keeps as it is: no
// control character (a tab neither: the go command trims values), no
// leading or trailing space, not empty.
func validValue(s string) bool {
	return s != "" && strings.TrimSpace(s) == s && !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// Parse reads credential sets as the go command does (cmd/go/internal/auth
// parseUserAuth), stricter: prefixes and headers must pass Write's checks.
// Parse(Write(sets)) == sets.
func Parse(data string) ([]Set, error) {
	var sets []Set
	for data != "" {
		var s Set
		for {
			line, rest, ok := strings.Cut(data, "\n")
			if !ok {
				return nil, errors.New("goauth: missing blank line after the URL prefixes")
			}
			data = rest
			if line == "" {
				break
			}
			if msg := prefixProblem(line); msg != "" {
				return nil, fmt.Errorf("goauth: URL prefix %s", msg)
			}
			s.Prefixes = append(s.Prefixes, line)
		}
		for {
			line, rest, ok := strings.Cut(data, "\n")
			if !ok {
				return nil, errors.New("goauth: missing blank line after the headers")
			}
			data = rest
			if line == "" {
				break
			}
			name, value, ok := strings.Cut(line, ": ")
			if !ok || !validName(name) || !validValue(value) {
				return nil, errors.New("goauth: invalid header line")
			}
			s.Headers = append(s.Headers, Header{name, value})
		}
		if len(s.Prefixes) == 0 || len(s.Headers) == 0 {
			return nil, errors.New("goauth: a set without URL prefix or without header")
		}
		sets = append(sets, s)
	}
	return sets, nil
}

// MaxResponse bounds the response head ReadResponse accepts.
const MaxResponse = 64 << 10

// Response is the head of the response the go command got.
type Response struct {
	Status int
	Header http.Header
}

// ReadResponse reads the response head the go command writes on a
// credential command's stdin after a 4xx: a status line ("HTTP/1.1 401
// Unauthorized"), header lines, a blank line (or the end of input).
func ReadResponse(r io.Reader) (*Response, error) {
	br := bufio.NewReader(io.LimitReader(r, MaxResponse+1))
	n := 0
	next := func() (string, bool, error) {
		line, err := br.ReadString('\n')
		n += len(line)
		if n > MaxResponse {
			return "", false, fmt.Errorf("goauth: response over %d bytes", MaxResponse)
		}
		if err != nil && err != io.EOF {
			return "", false, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		return line, err == nil, nil
	}
	status, more, err := next()
	if err != nil {
		return nil, err
	}
	proto, code, _ := strings.Cut(status, " ")
	code, _, _ = strings.Cut(code, " ")
	res := &Response{Header: http.Header{}}
	if len(code) != 3 || strings.Trim(code, "0123456789") != "" || !strings.HasPrefix(proto, "HTTP/") {
		return nil, errors.New("goauth: the response does not start with an HTTP status line")
	}
	res.Status, _ = strconv.Atoi(code)
	for more {
		var line string
		if line, more, err = next(); err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validName(name) || strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return nil, errors.New("goauth: invalid header line in the response")
		}
		res.Header.Add(name, strings.TrimSpace(value))
	}
	return res, nil
}
