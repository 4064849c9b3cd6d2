package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// Every format of a credential with an awkward header value, a second
// header and a cookie, against golden files (AUTHX_UPDATE_GOLDEN=1 rewrites
// them).
func TestHeadersGolden(t *testing.T) {
	c := &core.Credential{
		Token: "t0k'en",
		Headers: []core.Header{
			{Name: "Authorization", Value: `Bearer t0k'en "quoted" \ back`},
			{Name: "Jenkins-Crumb", Value: "c0ffee"},
		},
		Cookies:   []core.Cookie{{Name: "JSESSIONID.1a2b3c4d", Value: "node0abc.node0"}},
		ExpiresAt: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
	}
	for _, format := range Formats {
		var out bytes.Buffer
		if err := Headers(&out, format, "ci", "jenkins", c, true); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", format+".golden")
		if os.Getenv("AUTHX_UPDATE_GOLDEN") != "" {
			os.WriteFile(golden, out.Bytes(), 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("--format %s:\n%s\nwant:\n%s", format, out.Bytes(), want)
		}
	}
	if err := Headers(&bytes.Buffer{}, "yaml", "", "", c, false); core.KindOf(err) != core.KindConfig {
		t.Errorf("unknown format: %v", err)
	}
}

func TestEnvName(t *testing.T) {
	for header, want := range map[string]string{
		"Authorization": "AUTHX_AUTHORIZATION", "cookie": "AUTHX_COOKIE",
		"X-Auth-Token": "AUTHX_HEADER_X_AUTH_TOKEN", "Jenkins-Crumb": "AUTHX_HEADER_JENKINS_CRUMB",
	} {
		if got := EnvName(header); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", header, got, want)
		}
	}
}

// Issue 10, point 1, the second line of defence: whatever reached the
// renderer, a line break or NUL is refused in every format, before a byte
// is written.
func TestHeadersRefuseLineBreaks(t *testing.T) {
	creds := map[string]*core.Credential{
		"CR LF in a header value":  {Token: "abc", Headers: []core.Header{{Name: "Authorization", Value: "Bearer abc\r\nX-Evil: 1"}}},
		"newline in a header name": {Headers: []core.Header{{Name: "X-A: x\noutput_document = ~/pwned\nheader = X-B", Value: "c1"}}},
		"colon in a header name":   {Headers: []core.Header{{Name: "X-A: x", Value: "c1"}}},
		"NUL in the token":         {Token: "ab\x00c", Headers: []core.Header{{Name: "X", Value: "v"}}},
		"LF in the token":          {Token: "ab\nc", Headers: []core.Header{{Name: "X", Value: "v"}}},
		"cookie named a;b":         {Cookies: []core.Cookie{{Name: "a;b", Value: "v"}}},
		"CR LF in a cookie value":  {Cookies: []core.Cookie{{Name: "s", Value: "v\r\nX-Evil: 1"}}},
	}
	for name, c := range creds {
		for _, format := range Formats {
			var out bytes.Buffer
			err := Headers(&out, format, "p", "s", c, false)
			if err == nil || core.KindOf(err) != core.KindPlugin {
				t.Errorf("%s, --format %s: %v (%v), want a refusal", name, format, err, core.KindOf(err))
			}
			if out.Len() != 0 {
				t.Errorf("%s, --format %s: wrote %q", name, format, out.String())
			}
			if err != nil && (strings.ContainsAny(err.Error(), "\r\n\x00") || strings.Contains(err.Error(), "Evil")) {
				t.Errorf("%s: the error quotes the value: %q", name, err)
			}
		}
		if err := Check(c); err == nil {
			t.Errorf("%s: Check accepts it", name)
		}
	}
}

// CurlQuote escapes what curl's config syntax gives a meaning to in a
// quoted string, so a value is read back as itself.
func TestCurlQuote(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:            `"plain"`,
		`a "quoted" \ sep`: `"a \"quoted\" \\ sep"`,
		"tab\there":        `"tab\there"`,
		`# not a comment`:  `"# not a comment"`,
	} {
		if got := CurlQuote(in); got != want {
			t.Errorf("CurlQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
