package httpauth

import (
	"reflect"
	"strings"
	"testing"
)

// hostile are WWW-Authenticate values a hostile or broken server sends.
var hostile = []string{
	`Bearer realm="api", error="invalid_token", error_description="The access token expired"`,
	`Basic realm="Jenkins", charset="UTF-8"`,
	`Negotiate YIIB3gYGKwYBBQUCoIIB0jCCAc6gDTAL==, Basic realm="x"`,
	"Basic realm=\"a\r\nX-Evil: 1\"",
	"Bearer error=\"invalid_token\", error_description=\"bad\x00token\"",
	"Basic realm=\"auth header was Basic Y2lkOlMzY3JldFBX\"",
	`Bearer realm="unterminated`,
	`Bearer realm="esc\"aped\\", scope="a b"`,
	`Bearer realm="\`,
	"Basic realm=\"tab\there\"",
	`=,=,=`,
	`, , Bearer , , realm = "x" ,`,
	`Digest realm="r", nonce="n", qop="auth,auth-int", algorithm=SHA-256, Digest realm="r", algorithm=MD5`,
	"\x7f\xff\xfeBearer\x01 realm=\x02",
	`Bearer a=b=c, d`,
	`X a=`,
	strings.Repeat(`Bearer realm="x", `, 100),
}

// hasCTL reports whether s holds a control character (RFC 5234 CTL).
func hasCTL(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// FuzzChallenge: Parse never panics, nothing it returns holds a control
// character, and every challenge it returns survives String and Parse
// unchanged.
func FuzzChallenge(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range Parse(v) {
			if c.Scheme == "" || hasCTL(c.Scheme) || hasCTL(c.Token68) {
				t.Fatalf("Parse(%q): scheme %q, token68 %q", v, c.Scheme, c.Token68)
			}
			for k, val := range c.Params {
				if k == "" || hasCTL(k) || hasCTL(val) || k != strings.ToLower(k) {
					t.Fatalf("Parse(%q): param %q=%q", v, k, val)
				}
			}
			again := Parse(c.String())
			if len(again) != 1 || !reflect.DeepEqual(again[0], c) {
				t.Fatalf("Parse(%q) gave %#v; its String %q parses as %#v", v, c, c.String(), again)
			}
		}
	})
}

// A quoted value with a control character is dropped: a server cannot
// smuggle a line break or a NUL into a message through its challenge.
// A tab reads as a space.
func TestParseControlCharacters(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"Basic realm=\"a\r\nX-Evil: 1\", charset=\"UTF-8\"", map[string]string{"charset": "UTF-8"}},
		{"Bearer error=\"invalid_token\", error_description=\"bad\x00token\"", map[string]string{"error": "invalid_token"}},
		{"Bearer error_description=\"esc\\\x01aped\"", map[string]string{}},
		{"Bearer error_description=\"del\x7f\"", map[string]string{}},
		{"Basic realm=\"tab\there\"", map[string]string{"realm": "tab here"}},
	}
	for _, tt := range tests {
		cs := Parse(tt.in)
		if len(cs) != 1 || !reflect.DeepEqual(cs[0].Params, tt.want) {
			t.Errorf("Parse(%q) = %#v, want params %v", tt.in, cs, tt.want)
		}
	}
}

func TestChallengeString(t *testing.T) {
	tests := []struct {
		c    Challenge
		want string
	}{
		{Challenge{Scheme: "Bearer", Params: map[string]string{}}, "Bearer"},
		{Challenge{Scheme: "Negotiate", Token68: "abc==", Params: map[string]string{}}, "Negotiate abc=="},
		{Challenge{Scheme: "Basic", Params: map[string]string{"realm": `a "b" \c`, "charset": "UTF-8"}}, `Basic charset="UTF-8", realm="a \"b\" \\c"`},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
