// Package httpauth parses the HTTP authentication headers of RFC 9110 §11
// (formerly RFC 7235) that schemes need to read a server's challenge.
package httpauth

import (
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Challenge is one challenge of a WWW-Authenticate header.
type Challenge struct {
	// Scheme is the auth-scheme as sent; compare it with strings.EqualFold.
	Scheme string
	// Token68 is set for challenges of the form `Negotiate abc==`.
	Token68 string
	// Params holds auth-params by lowercase name (their names are
	// case-insensitive); quoted values are unquoted. No value holds a
	// control character: a quoted value with one (a line break, a NUL) is
	// dropped, and a tab reads as a space.
	Params map[string]string
}

// String renders c as one challenge of a WWW-Authenticate value, its
// parameters sorted by name and quoted; Parse reads it back as c.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteString(" " + c.Token68)
		return b.String()
	}
	for i, name := range slices.Sorted(maps.Keys(c.Params)) {
		sep := ", "
		if i == 0 {
			sep = " "
		}
		b.WriteString(sep + name + "=" + quote(c.Params[name]))
	}
	return b.String()
}

// quoteEscapes escapes what a quoted-string cannot hold as is.
var quoteEscapes = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// quote makes s a quoted-string (RFC 9110 §5.6.4).
func quote(s string) string { return `"` + quoteEscapes.Replace(s) + `"` }

// Find returns the first challenge whose scheme is scheme (case-insensitive).
func Find(cs []Challenge, scheme string) (Challenge, bool) {
	for _, c := range cs {
		if strings.EqualFold(c.Scheme, scheme) {
			return c, true
		}
	}
	return Challenge{}, false
}

// ParseHeader parses every WWW-Authenticate (or Proxy-Authenticate) value of
// h. Malformed parts are skipped; it never fails.
func ParseHeader(h http.Header, name string) []Challenge {
	var out []Challenge
	for _, v := range h.Values(name) {
		out = append(out, Parse(v)...)
	}
	return out
}

// Parse parses one header value holding one or more comma-separated
// challenges, such as `Basic realm="Jenkins", charset="UTF-8"` or
// `Bearer realm="x", error="invalid_token", Basic realm="y"`.
func Parse(v string) []Challenge {
	p := &parser{s: v}
	var out []Challenge
	for {
		p.skipListSep()
		if p.done() {
			return out
		}
		scheme := p.token()
		if scheme == "" { // garbage: skip one character and go on
			p.i++
			continue
		}
		c := Challenge{Scheme: scheme, Params: map[string]string{}}
		if p.space() {
			// Either a token68 or the first auth-param.
			save := p.i
			if t := p.token68(); t != "" && p.atChallengeEnd() {
				c.Token68 = t
			} else {
				p.i = save
				p.params(c.Params)
			}
		}
		out = append(out, c)
	}
}

type parser struct {
	s string
	i int
}

func (p *parser) done() bool { return p.i >= len(p.s) }

func (p *parser) space() bool {
	start := p.i
	for !p.done() && isWS(p.s[p.i]) {
		p.i++
	}
	return p.i > start
}

func (p *parser) skipListSep() {
	for !p.done() && (isWS(p.s[p.i]) || p.s[p.i] == ',') {
		p.i++
	}
}

// isWS accepts folded line breaks as white space too.
func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isTchar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *parser) token() string {
	start := p.i
	for !p.done() && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *parser) token68() string {
	start := p.i
	for !p.done() && (isTchar(p.s[p.i]) || p.s[p.i] == '/') && p.s[p.i] != '=' {
		p.i++
	}
	if p.i == start {
		return ""
	}
	for !p.done() && p.s[p.i] == '=' {
		p.i++
	}
	return p.s[start:p.i]
}

// atChallengeEnd reports whether only whitespace stands before the next
// comma or the end.
func (p *parser) atChallengeEnd() bool {
	j := p.i
	for j < len(p.s) && isWS(p.s[j]) {
		j++
	}
	return j == len(p.s) || p.s[j] == ','
}

// params reads `name=value` pairs separated by commas until the next
// challenge begins (a token not followed by '=').
func (p *parser) params(into map[string]string) {
	for {
		p.skipListSep()
		save := p.i
		name := p.token()
		if name == "" {
			return
		}
		p.space()
		if p.done() || p.s[p.i] != '=' {
			p.i = save // the start of the next challenge
			return
		}
		p.i++
		p.space()
		val, ok := p.token(), true
		if val == "" && !p.done() && p.s[p.i] == '"' {
			val, ok = p.quoted()
		}
		if ok {
			into[strings.ToLower(name)] = val
		}
	}
}

// quoted reads a quoted-string (RFC 9110 §5.6.4) and returns its value;
// ok is false when it holds a control character other than a tab, which
// reads as a space.
func (p *parser) quoted() (val string, ok bool) {
	p.i++ // opening quote
	var b strings.Builder
	ok = true
	for !p.done() {
		c := p.s[p.i]
		p.i++
		if c == '"' {
			break
		}
		if c == '\\' && !p.done() { // quoted-pair
			c = p.s[p.i]
			p.i++
		}
		switch {
		case c == '\t':
			c = ' '
		case c < 0x20 || c == 0x7f:
			ok = false
		}
		b.WriteByte(c)
	}
	return b.String(), ok
}
