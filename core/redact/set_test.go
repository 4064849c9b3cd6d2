package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSecretsEncodings: a server may echo a secret in any of these forms;
// none may survive.
func TestSecretsEncodings(t *testing.T) {
	tests := []struct {
		name, secret, text, want string
	}{
		{"raw", "S3cretPW", "bad password S3cretPW", "bad password ***"},
		{"Go JSON", "p<a>s", `{"error":"bad password p\u003ca\u003es"}`, `{"error":"bad password ***"}`},
		{"JSON uppercase hex", "p<a>s", `p\u003Ca\u003Es!`, `***!`},
		{"JSON quote", `pa"ss`, `{"message":"pa\"ss is wrong"}`, `{"message":"*** is wrong"}`},
		{"JSON backslash", `pa\ss`, `"pa\\ss"`, `"***"`},
		{"PHP slash", "pa/ss", `"pa\/ss"`, `"***"`},
		{"PHP non-ASCII", "pässwörd", `"p\u00e4ssw\u00f6rd"`, `"***"`},
		{"surrogate pair", "pw😀pw", `pw\ud83d\ude00pw`, `***`},
		{"JSON escapes every character", "abcd", `\u0061\u0062\u0063\u0064`, `***`},
		{"percent", "p<a>s", "password=p%3Ca%3Es&x=1", "password=***&x=1"},
		{"percent lowercase", "p<a>s", "p%3ca%3es", "***"},
		{"form space", "pa ss word", "password=pa+ss+word", "password=***"},
		{"path escape", "pa ss/w", "/u/pa%20ss%2Fw/", "/u/***/"},
		{"percent everything", "abcd", "%61%62%63%64", "***"},
		{"percent UTF-8", "pässw", "p%C3%A4ssw", "***"},
		{"HTML", "p<a>s&", "<b>p&lt;a&gt;s&amp;</b>", "<b>***</b>"},
		{"HTML numeric", `p"a's`, "p&#34;a&#x27;s", "***"},
		{"Go quoted", "pa\tss\x01", `"pa\tss\x01"`, `"***"`},
		{"mixed", "p<a>s/", `p%3Ca\u003es\/`, `***`},
		{"base64", "S3cretPW", "token UzNjcmV0UFc= was sent", "token *** was sent"},
		{"base64 unpadded", "S3cretPW", "UzNjcmV0UFc.", "***."},
		{"base64 URL-safe", "??>>secret", "Pz8-PnNlY3JldA", "***"},
		{"base64 escaped by PHP", "???>secret", `"Pz8\/PnNlY3JldA=="`, `"***"`},
		{"base64 percent-encoded", "???>secret", "Pz8%2FPnNlY3JldA%3D%3D", "***"},
		{"base64 at offset 1", "S3cretPW", "Basic Y2lkOlMzY3JldFBX", "Basic Y2lkOl***"},
		{"base64 at offset 2", "S3cretPW", base64.StdEncoding.EncodeToString([]byte("ab:S3cretPW")), "YWI6***"},
		{"base64 at offset 0", "S3cretPW", base64.StdEncoding.EncodeToString([]byte("abc:xyS3cretPW!")), "YWJjOnh5***h"},
		{"twice", "k-1234", "k-1234 and k%2D1234", "*** and ***"},
		{"short secret", "pw", "short pw stays", "short pw stays"},
		{"no secret", "", "nothing", "nothing"},
		{"unrelated escapes", "S3cretPW", `a\u00 %zz &#;&lt \`, `a\u00 %zz &#;&lt \`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Secrets(tt.text, tt.secret); got != tt.want {
				t.Errorf("Secrets(%q, %q) = %q, want %q", tt.text, tt.secret, got, tt.want)
			}
		})
	}
}

// TestAddBasic: Basic credentials are masked whole, also inside a
// WWW-Authenticate realm, and for a short password.
func TestAddBasic(t *testing.T) {
	tests := []struct {
		name, user, secret, text, want string
	}{
		{"header", "cid", "S3cretPW", "auth header was Basic Y2lkOlMzY3JldFBX…", "auth header was Basic ***…"},
		{"realm", "cid", "S3cretPW", `WWW-Authenticate: Basic realm="Basic Y2lkOlMzY3JldFBX"`, `WWW-Authenticate: Basic realm="Basic ***"`},
		{"realm escaped", "cid", "S3cretPW", `realm=\"Basic Y2lkOlMzY3JldFBX\"`, `realm=\"Basic ***\"`},
		{"password too", "cid", "S3cretPW", "S3cretPW / Y2lkOlMzY3JldFBX", "*** / ***"},
		{"short password", "alice", "pw", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw")) + " pw", "Basic *** pw"},
		{"URL-safe", "u", "??>>s", base64.RawURLEncoding.EncodeToString([]byte("u:??>>s")), "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			s.AddBasic(tt.user, tt.secret)
			if got := s.Scrub(tt.text); got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestSetEdges(t *testing.T) {
	var nilSet *Set
	if got := nilSet.Scrub("S3cretPW"); got != "S3cretPW" {
		t.Errorf("nil Set scrubbed: %q", got)
	}
	if New("pw", "").Len() != 0 {
		t.Error("short secrets were added")
	}
	// A secret holding the mask cannot be rebuilt around it.
	if got := Secrets("aa***a***", "a***"); strings.Contains(got, "a***") {
		t.Errorf("rebuilt around the mask: %q", got)
	}
	// An ambiguous text does not take exponential time.
	secret := strings.Repeat(`\`, 40) + "x"
	if got := Secrets(strings.Repeat(`\`, 200)+"y", secret); got != strings.Repeat(`\`, 200)+"y" {
		t.Errorf("backslashes: %q", got)
	}
}

// forms returns secret as each encoder a server or a plugin may use writes
// it, by name.
func forms(secret string) map[string]string {
	out := map[string]string{
		"raw":           secret,
		"QueryEscape":   url.QueryEscape(secret),
		"PathEscape":    url.PathEscape(secret),
		"lowercase hex": lowerHex(url.QueryEscape(secret)),
		"html":          html.EscapeString(secret),
		"Go %q":         unquote(strconv.Quote(secret)),
		"QuoteToASCII":  unquote(strconv.QuoteToASCII(secret)),
	}
	if utf8.ValidString(secret) { // JSON encoders replace invalid UTF-8
		b, _ := json.Marshal(secret)
		out["json.Marshal"] = unquote(string(b))
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(secret)
		out["json without HTML escaping"] = unquote(strings.TrimSpace(buf.String()))
		out["PHP json_encode"] = phpJSON(secret)
	}
	if len(secret) >= MinLen {
		for i, enc := range base64Encodings {
			out[fmt.Sprint("base64 ", i)] = enc.EncodeToString([]byte(secret))
		}
		for a := range 3 {
			if core := embeddedCore(secret, a); len(core) >= minCore {
				out[fmt.Sprint("base64 at offset ", a)] = core
			}
		}
	} else {
		clear(out)
	}
	return out
}

// unquote drops the quotes around a quoted string.
func unquote(s string) string { return s[1 : len(s)-1] }

var percentHex = regexp.MustCompile(`%[0-9A-F]{2}`)

func lowerHex(s string) string { return percentHex.ReplaceAllStringFunc(s, strings.ToLower) }

// phpJSON escapes s as PHP's json_encode does by default: \/ and \uXXXX
// (lower case) for every non-ASCII character.
func phpJSON(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == '/':
			b.WriteString(`\` + string(r))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r > 0x7e && r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// embeddedCore returns the base64 characters of secret at byte offset a of
// a longer text that do not depend on the text around it: those that agree
// whether the bytes around are all 0x00 or all 0xFF.
func embeddedCore(secret string, a int) string {
	enc := func(fill byte) string {
		pad := bytes.Repeat([]byte{fill}, a)
		return base64.StdEncoding.EncodeToString(append(append(pad, secret...), fill, fill))
	}
	x, y := enc(0), enc(0xFF)
	best, start := "", -1
	for i := 0; i <= len(x); i++ {
		if i < len(x) && x[i] == y[i] {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start > len(best) {
			best = x[start:i]
		}
		start = -1
	}
	return best
}

// leaks returns the names of the forms of secret (and of user:secret in
// base64) that text still holds after a Set of them scrubbed it.
func leaks(user, secret, prefix, suffix string) []string {
	s := New()
	s.AddBasic(user, secret)
	check := forms(secret)
	if secret != "" && len(user)+1+len(secret) >= MinLen {
		for i, enc := range base64Encodings {
			check[fmt.Sprint("Basic ", i)] = enc.EncodeToString([]byte(user + ":" + secret))
		}
	}
	var out []string
	for name, form := range check {
		if got := s.Scrub(prefix + form + suffix); strings.Contains(got, form) {
			out = append(out, fmt.Sprintf("%s %q in %q", name, form, got))
		}
	}
	return out
}

func TestScrubEveryEncoder(t *testing.T) {
	for _, secret := range []string{"S3cretPW", "p<a>s", `pa"ss`, `pa\ss/`, "pässwörd 😀", "a b+c%d&e=f", "\x00\x01ab\xffcd", "%25%25", `\u0041\\`, "&amp;&lt;"} {
		if l := leaks("cid", secret, "before ", " after"); len(l) > 0 {
			t.Errorf("secret %q leaks: %s", secret, strings.Join(l, "; "))
		}
	}
}

func FuzzScrub(f *testing.F) {
	f.Add("cid", "S3cretPW", "auth header was Basic ", "…")
	f.Add("u", "p<a>s", `{"error":"`, `"}`)
	f.Add("u", `pa"ss`, "", "")
	f.Add("alice", "pässwörd/😀", `realm="`, `"`)
	f.Add("", "a***", "aa", "***")
	f.Add("x", strings.Repeat(`\`, 30)+"x", strings.Repeat(`\`, 60), "y")
	f.Fuzz(func(t *testing.T, user, secret, prefix, suffix string) {
		if len(secret) > 256 || len(prefix)+len(suffix) > 4096 {
			return
		}
		New(secret).Scrub(prefix + suffix) // never panics
		if l := leaks(user, secret, prefix, suffix); len(l) > 0 {
			t.Errorf("secret %q leaks: %s", secret, strings.Join(l, "; "))
		}
	})
}
