package main

import (
	"encoding/base64"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
	"github.com/authx/authx/core/cache"
)

// decodeEntry decodes a cache entry file as json.Unmarshal into a
// cache.Entry does, without reflection: encoding/json's walk of the
// entry's types, cold at every start of the front, cost it about a tenth
// of a bare Go binary's start (docs/benchmarks.md). It reads what
// core/cache writes (json.Marshal's output: the fields' own names, each
// once, no null) and gives up (ok false) on anything else, such as a key
// spelt in another case, an unknown field, a null, a UTF-16 surrogate
// escape or invalid UTF-8 in a string, which the caller then hands to
// json.Unmarshal: whenever ok is true, the entry is the one json.Unmarshal
// returns (FuzzDecodeEntry checks it).
func decodeEntry(data []byte) (e cache.Entry, ok bool) {
	d := &jsonReader{s: data}
	ok = d.object(func(key string) bool {
		switch key {
		case "version":
			return d.int(&e.Version)
		case "profile":
			return d.str(&e.Profile)
		case "scheme":
			return d.str(&e.Scheme)
		case "created":
			return d.time(&e.Created)
		case "credential":
			return d.credential(&e.Credential)
		}
		return false
	})
	d.space()
	return e, ok && d.i == len(d.s)
}

func (d *jsonReader) credential(c *core.Credential) bool {
	return d.object(func(key string) bool {
		switch key {
		case "token":
			return d.str(&c.Token)
		case "headers":
			c.Headers = []core.Header{}
			return d.array(func() bool {
				var h core.Header
				ok := d.object(func(key string) bool {
					switch key {
					case "name":
						return d.str(&h.Name)
					case "value":
						return d.str(&h.Value)
					}
					return false
				})
				c.Headers = append(c.Headers, h)
				return ok
			})
		case "cookies":
			c.Cookies = []core.Cookie{}
			return d.array(func() bool {
				var k core.Cookie
				ok := d.object(func(key string) bool { return d.cookieField(&k, key) })
				c.Cookies = append(c.Cookies, k)
				return ok
			})
		case "expires_at":
			return d.time(&c.ExpiresAt)
		case "scope":
			c.Scope = []string{}
			return d.array(func() bool {
				var s string
				ok := d.str(&s)
				c.Scope = append(c.Scope, s)
				return ok
			})
		case "state":
			var s string
			if !d.str(&s) {
				return false
			}
			b := make([]byte, base64.StdEncoding.DecodedLen(len(s))) // as encoding/json decodes a []byte
			n, err := base64.StdEncoding.Decode(b, []byte(s))
			c.State = b[:n]
			return err == nil
		case "per_request":
			return d.bool(&c.PerRequest)
		case "id_token":
			return d.str(&c.IDToken)
		}
		return false
	})
}

func (d *jsonReader) cookieField(k *core.Cookie, key string) bool {
	switch key {
	case "name":
		return d.str(&k.Name)
	case "value":
		return d.str(&k.Value)
	case "domain":
		return d.str(&k.Domain)
	case "path":
		return d.str(&k.Path)
	case "expires":
		return d.time(&k.Expires)
	case "secure":
		return d.bool(&k.Secure)
	case "http_only":
		return d.bool(&k.HTTPOnly)
	}
	return false
}

// jsonReader reads JSON values from s at i; each method reports whether
// it read what it expects.
type jsonReader struct {
	s []byte
	i int
}

func (d *jsonReader) space() {
	for d.i < len(d.s) && (d.s[d.i] == ' ' || d.s[d.i] == '\t' || d.s[d.i] == '\n' || d.s[d.i] == '\r') {
		d.i++
	}
}

// next skips white space and consumes c.
func (d *jsonReader) next(c byte) bool {
	d.space()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads an object, calling field for each key (each once) with the
// reader at its value.
func (d *jsonReader) object(field func(key string) bool) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	var seen []string
	for {
		var key string
		if !d.str(&key) || slices.Contains(seen, key) || !d.next(':') || !field(key) {
			return false
		}
		seen = append(seen, key)
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// array reads an array, calling elem for each element.
func (d *jsonReader) array(elem func() bool) bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

func (d *jsonReader) bool(b *bool) bool {
	d.space()
	for _, lit := range []string{"true", "false"} {
		if len(d.s)-d.i >= len(lit) && string(d.s[d.i:d.i+len(lit)]) == lit {
			d.i += len(lit)
			*b = lit == "true"
			return true
		}
	}
	return false
}

// int reads a non-negative integer without a leading zero, an exponent or
// a fraction.
func (d *jsonReader) int(n *int) bool {
	d.space()
	start := d.i
	for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
		d.i++
	}
	lit := string(d.s[start:d.i])
	if lit == "" || len(lit) > 1 && lit[0] == '0' || d.i < len(d.s) && (d.s[d.i] == '.' || d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		return false
	}
	v, err := strconv.Atoi(lit)
	*n = v
	return err == nil
}

// time reads a string as time.Time's UnmarshalJSON does (which
// encoding/json calls with the value's raw bytes).
func (d *jsonReader) time(t *time.Time) bool {
	d.space()
	start := d.i
	var s string
	if !d.str(&s) {
		return false
	}
	return t.UnmarshalJSON(d.s[start:d.i]) == nil
}

// str reads a string: valid UTF-8, the escapes of RFC 8259 but for UTF-16
// surrogates.
func (d *jsonReader) str(out *string) bool {
	if !d.next('"') {
		return false
	}
	start := d.i
	var b []byte // the string so far, once it has an escape
	escaped := false
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			if !escaped {
				b = d.s[start:d.i]
			}
			d.i++
			if !utf8.Valid(b) {
				return false // encoding/json would replace the bad bytes
			}
			*out = string(b)
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if !escaped {
				b, escaped = append(b, d.s[start:d.i]...), true
			}
			if d.i+1 >= len(d.s) {
				return false
			}
			d.i += 2
			switch e := d.s[d.i-1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				if d.i+4 > len(d.s) {
					return false
				}
				r, err := strconv.ParseUint(string(d.s[d.i:d.i+4]), 16, 32)
				if err != nil || utf16.IsSurrogate(rune(r)) {
					return false
				}
				d.i += 4
				b = utf8.AppendRune(b, rune(r))
			default:
				return false
			}
		default:
			if escaped {
				b = append(b, c)
			}
			d.i++
		}
	}
	return false
}
