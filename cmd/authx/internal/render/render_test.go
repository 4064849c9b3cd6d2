package render

import (
	"bytes"
	"os"
	"path/filepath"
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
