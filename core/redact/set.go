package redact

import (
	"encoding/base64"
	"slices"
	"strings"
	"unicode/utf8"
)

// A Set holds the secrets of one profile (a password, an API key, a token)
// and masks them in text in every form a server or a plugin may echo them.
//
// Scrub recognises a secret character by character in any mix of these
// spellings, so that one pass covers every encoder (Go's encoding/json,
// PHP's json_encode, Python, JavaScript, url.QueryEscape, url.PathEscape):
//
//   - raw;
//   - JSON and string-literal escapes: \" \\ \/ \b \f \n \r \t, \uXXXX
//     (either case, surrogate pairs too; so \u003c as Go writes '<' and
//     \u00e9 as PHP and Python write 'é'), and Go's \xHH and \UXXXXXXXX;
//   - percent-encoding of each UTF-8 byte (%3C or %3c), and + for a space
//     (form encoding);
//   - HTML character references: &lt; &gt; &amp; &quot; &apos;, &#60;, &#x3C;.
//
// Base64 is not a per-character encoding, so a Set also holds the base64
// of each secret, standard and URL-safe, padded and not, each matched in the
// spellings above (a PHP server writes the '/' of base64 as \/):
//
//   - the base64 of the secret alone (4 forms), and of "user:secret" for
//     each pair given to AddBasic: the Basic credentials, so that
//     "Basic Y2lkOlMzY3JldFBX" becomes "Basic ***";
//   - the secret inside a longer base64 text (a Basic credential whose user
//     is unknown, a token holding it): base64 text depends on where the
//     secret falls within a 3-byte group, so the Set holds, for each of the
//     3 alignments, the run of characters determined by the secret's bytes
//     alone. Runs shorter than 6 characters (secrets shorter than 5 bytes)
//     are left out: 30 bits or fewer would mask unrelated text by chance.
//
// Not covered: a secret encoded twice (JSON inside JSON: \\u003c), hex, or
// transformed otherwise (hashed, case-changed, cut). Secrets shorter than
// MinLen are ignored, except inside a "user:secret" pair; secrets longer
// than maxBase64 have no base64 forms.
//
// Scrub repeats until no form of a secret is left, so a secret cannot be
// rebuilt around a Mask. It is meant for error paths: each form costs at
// most len(text)·len(form) steps, and none when the text holds no byte a
// spelling of its first character starts with. A nil *Set scrubs nothing.
type Set struct {
	needles []string // the forms, longest first, so that "user:secret" is masked as a whole
}

// unit is one character of a needle: a rune, or a byte that is not UTF-8.
type unit struct {
	raw   string
	r     rune
	valid bool // r is the rune raw encodes
}

// unitAt returns the character of needle n that starts at byte off.
func unitAt(n string, off int) unit {
	r, size := utf8.DecodeRuneInString(n[off:])
	return unit{raw: n[off : off+size], r: r, valid: r != utf8.RuneError || size > 1}
}

// minCore is the length of the shortest base64 run of a secret inside a
// longer base64 text that a Set masks.
const minCore = 6

// maxBase64 is the length of the longest secret whose base64 forms a Set
// holds: no server quotes more in a message, and a 1 MiB token would cost
// megabytes of forms on every error.
const maxBase64 = 64 << 10

// New returns a Set of the given secrets; values shorter than MinLen are
// ignored.
func New(secrets ...string) *Set {
	s := &Set{}
	s.Add(secrets...)
	return s
}

// Add adds secrets to s; values shorter than MinLen are ignored.
func (s *Set) Add(secrets ...string) {
	for _, v := range secrets {
		if len(v) < MinLen {
			continue
		}
		s.add(v)
		if len(v) > maxBase64 {
			continue
		}
		for _, form := range base64Forms(v) {
			s.add(form)
		}
		for _, core := range base64Cores(v) {
			s.add(core)
		}
	}
	s.sort()
}

// AddBasic adds secret (as Add does) and the base64 of "user:secret", the
// credentials of HTTP Basic authentication (RFC 7617), which it masks even
// when secret is short.
func (s *Set) AddBasic(user, secret string) {
	s.Add(secret)
	if secret == "" || len(user)+1+len(secret) < MinLen || len(user)+1+len(secret) > maxBase64 {
		return
	}
	for _, form := range base64Forms(user + ":" + secret) {
		s.add(form)
	}
	s.sort()
}

// Len reports how many forms of secrets s holds; 0 means Scrub changes
// nothing.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.needles)
}

func (s *Set) add(form string) {
	if !slices.Contains(s.needles, form) {
		s.needles = append(s.needles, form)
	}
}

func (s *Set) sort() {
	slices.SortStableFunc(s.needles, func(a, b string) int { return len(b) - len(a) })
}

var base64Encodings = []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding}

// base64Forms returns v in base64, standard and URL-safe, padded and not.
func base64Forms(v string) []string {
	out := make([]string, 0, len(base64Encodings))
	for _, enc := range base64Encodings {
		out = append(out, enc.EncodeToString([]byte(v)))
	}
	return out
}

// base64Cores returns, for each of the 3 positions v may take within a
// 3-byte group of a longer text, the base64 characters (standard and
// URL-safe) that v's bytes alone determine, when they are at least minCore.
func base64Cores(v string) []string {
	var out []string
	for a := range 3 {
		buf := make([]byte, a+len(v)+2) // zeros around v: the characters kept do not depend on them
		copy(buf[a:], v)
		start, end := (8*a+5)/6, 8*(a+len(v))/6 // characters whose 6 bits all come from v
		if end-start < minCore {
			continue
		}
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			out = append(out, enc.EncodeToString(buf)[start:end])
		}
	}
	return out
}

// Scrub returns text with every form of every secret of s replaced by Mask.
func (s *Set) Scrub(text string) string {
	if s.Len() == 0 {
		return text
	}
	var m matcher
	for changed := true; changed; {
		changed = false
		for _, n := range s.needles {
			if len(n) > len(text) { // every spelling of a form is at least as long
				continue
			}
			if out, ok := m.replace(text, n); ok {
				text, changed = out, true
			}
		}
	}
	return text
}

// matcher holds the scratch space of Scrub.
type matcher struct {
	cur, next []int
	// trail lists the states (bytes of the needle matched, text position)
	// the current start reached; dead marks states from which no match
	// completes, so that no later start explores them again. dead is empty
	// until a failed start explored many states: only ambiguous text needs
	// it.
	trail []int
	dead  []uint64
	width int // len(text)+1: state (k, p) is k*width + p
}

// replace replaces each match of n in text, leftmost first, by Mask and
// reports whether there was one.
func (m *matcher) replace(text, n string) (string, bool) {
	m.dead, m.width = m.dead[:0], len(text)+1
	var b strings.Builder
	last, found := 0, false
	for i := 0; i < len(text); {
		if !mayStart(text[i], n[0]) {
			i++
			continue
		}
		end := m.matchAt(text, i, n)
		if end < 0 {
			i++
			continue
		}
		if !found {
			b.Grow(len(text))
			found = true
		}
		b.WriteString(text[last:i])
		b.WriteString(Mask)
		last, i = end, end
	}
	if !found {
		return text, false
	}
	b.WriteString(text[last:])
	return b.String(), true
}

// mayStart reports whether a spelling of a character whose first byte is
// first may start with byte c.
func mayStart(c, first byte) bool {
	return c == first || c == '%' || c == '\\' || c == '&' || c == '+'
}

// matchAt returns the end of the longest match of n at text[i:], or -1. It
// follows every spelling of every unit at once (the set of positions the
// units so far may end at), and skips the states a failed start already
// explored, so that ambiguous text (`\\` is a backslash escaped, or two)
// costs at most len(text)·len(n) states over all starts, never an
// exponential.
func (m *matcher) matchAt(text string, i int, n string) int {
	m.cur, m.trail = append(m.cur[:0], i), m.trail[:0]
	ambiguous := false // more than one position: worth remembering dead states
	for off := 0; off < len(n); {
		u := unitAt(n, off)
		off += len(u.raw)
		m.next = m.next[:0]
		for _, p := range m.cur {
			m.next = u.ends(text, p, m.next)
		}
		if len(m.next) > 1 {
			slices.Sort(m.next)
			m.next = slices.Compact(m.next)
		}
		if len(m.dead) > 0 {
			m.next = slices.DeleteFunc(m.next, func(p int) bool { return m.isDead(off, p) })
		}
		if len(m.next) == 0 {
			m.fail()
			return -1
		}
		if ambiguous = ambiguous || len(m.next) > 1; ambiguous {
			for _, p := range m.next {
				m.trail = append(m.trail, off*m.width+p)
			}
		}
		m.cur, m.next = m.next, m.cur
	}
	return m.cur[len(m.cur)-1]
}

func (m *matcher) isDead(k, p int) bool {
	id := k*m.width + p
	return id/64 < len(m.dead) && m.dead[id/64]&(1<<(id%64)) != 0
}

// fail marks the states the failed start reached as dead, once they are
// many enough to be worth it.
func (m *matcher) fail() {
	if len(m.trail) < 64 {
		return
	}
	for _, id := range m.trail {
		if w := id/64 + 1; w > len(m.dead) {
			m.dead = append(m.dead, make([]uint64, w-len(m.dead))...)
		}
		m.dead[id/64] |= 1 << (id % 64)
	}
}

// ends appends to out the end of each spelling of u found at text[p:].
func (u *unit) ends(text string, p int, out []int) []int {
	rest := text[p:]
	if strings.HasPrefix(rest, u.raw) {
		out = append(out, p+len(u.raw))
	}
	if n := escapedBytes(rest, u.raw, '%'); n > 0 {
		out = append(out, p+n)
	}
	if n := escapedBytes(rest, u.raw, 'x'); n > 0 {
		out = append(out, p+n)
	}
	if u.raw == " " && strings.HasPrefix(rest, "+") {
		out = append(out, p+1)
	}
	if u.valid {
		if r, n := unescape(rest); n > 0 && r == u.r {
			out = append(out, p+n)
		}
	}
	return out
}

// escapedBytes returns the length of raw at the start of text with each of
// its bytes written %HH (kind '%') or \xHH (kind 'x'), hex in either case,
// or 0.
func escapedBytes(text, raw string, kind byte) int {
	prefix := "%"
	if kind == 'x' {
		prefix = `\x`
	}
	n := 0
	for i := 0; i < len(raw); i++ {
		if !strings.HasPrefix(text[n:], prefix) {
			return 0
		}
		n += len(prefix)
		if v, ok := hexValue(text[n:], 2); !ok || v != rune(raw[i]) {
			return 0
		}
		n += 2
	}
	return n
}

// unescape decodes the escape or character reference at the start of text
// and returns its rune and length, or a length of 0.
func unescape(text string) (rune, int) {
	if len(text) < 2 {
		return 0, 0
	}
	switch text[0] {
	case '\\':
		return unescapeBackslash(text)
	case '&':
		return unescapeEntity(text)
	}
	return 0, 0
}

var shortEscapes = map[byte]rune{'"': '"', '\\': '\\', '/': '/', '\'': '\'', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'a': '\a', 'v': '\v'}

// unescapeBackslash decodes \c, \uXXXX (a UTF-16 surrogate pair as two) and
// \UXXXXXXXX.
func unescapeBackslash(text string) (rune, int) {
	if r, ok := shortEscapes[text[1]]; ok {
		return r, 2
	}
	switch text[1] {
	case 'U':
		if r, ok := hexValue(text[2:], 8); ok {
			return r, 10
		}
	case 'u':
		r, ok := hexValue(text[2:], 4)
		if !ok {
			return 0, 0
		}
		if r < 0xD800 || r > 0xDBFF {
			return r, 6
		}
		if len(text) >= 12 && text[6] == '\\' && text[7] == 'u' {
			if lo, ok := hexValue(text[8:], 4); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), 12
			}
		}
	}
	return 0, 0
}

var namedEntities = map[string]rune{"lt": '<', "gt": '>', "amp": '&', "quot": '"', "apos": '\''}

// unescapeEntity decodes an HTML character reference: &name;, &#NNN; or
// &#xHH;.
func unescapeEntity(text string) (rune, int) {
	semi := strings.IndexByte(text[:min(len(text), 12)], ';')
	if semi < 3 {
		return 0, 0
	}
	name := text[1:semi]
	if name[0] != '#' {
		r, ok := namedEntities[name]
		if !ok {
			return 0, 0
		}
		return r, semi + 1
	}
	var r rune
	if name[1] == 'x' || name[1] == 'X' {
		v, ok := hexValue(name[2:], len(name)-2)
		if !ok {
			return 0, 0
		}
		r = v
	} else {
		for _, c := range []byte(name[1:]) {
			if c < '0' || c > '9' {
				return 0, 0
			}
			r = r*10 + rune(c-'0')
		}
	}
	return r, semi + 1
}

// hexValue decodes the n hex digits (either case) at the start of text.
func hexValue(text string, n int) (rune, bool) {
	if n < 1 || n > 8 || len(text) < n {
		return 0, false
	}
	var v rune
	for _, c := range []byte(text[:n]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
