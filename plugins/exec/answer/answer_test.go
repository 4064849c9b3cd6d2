package answer

import (
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	tests := []struct {
		name, out string
		token     string
		headers   string // name: value; ...
		expires   time.Time
		state     string
		scope     string
	}{
		{"token", `{"token": "abc.def"}`, "abc.def", "Authorization: Bearer abc.def", time.Time{}, "", ""},
		{"expires_in", `{"token":"t","expires_in":3600}`, "t", "Authorization: Bearer t", now.Add(time.Hour), "", ""},
		{"expires_in fraction", `{"token":"t","expires_in":1.5}`, "t", "Authorization: Bearer t", now.Add(1500 * time.Millisecond), "", ""},
		{"expires_at", `{"token":"t","expires_at":"2026-11-30T14:00:00+01:00"}`, "t", "Authorization: Bearer t", now.Add(time.Hour), "", ""},
		{"headers", `{"headers":{"X-Api-Key":"k1","X-Tenant":"acme corp"}}`, "", "X-Api-Key: k1; X-Tenant: acme corp", time.Time{}, "", ""},
		{"token and headers", `{"token":"k1","headers":{"X-Api-Key":"k1"}}`, "k1", "X-Api-Key: k1", time.Time{}, "", ""},
		{"refresh and scope", `{"token":"t","refresh":"r-1","scope":["https://api.example.com/"]}`, "t", "Authorization: Bearer t", time.Time{}, "r-1", "https://api.example.com/"},
		{"null token with headers", `{"token":null,"headers":{"A":"b"}}`, "", "A: b", time.Time{}, "", ""},
		{"kube v1", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false},"status":{"token":"k8s-tok","expirationTimestamp":"2026-11-30T12:30:00Z"}}`,
			"k8s-tok", "Authorization: Bearer k8s-tok", now.Add(30 * time.Minute), "", ""},
		{"kube v1beta1", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"k"}}`, "k", "Authorization: Bearer k", time.Time{}, "", ""},
		{"whitespace around", " \n{\"token\":\"t\"}\n\n", "t", "Authorization: Bearer t", time.Time{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.out), now)
			if err != nil {
				t.Fatal(err)
			}
			var hs []string
			for _, h := range c.Headers {
				hs = append(hs, h.Name+": "+h.Value)
			}
			if c.Token != tt.token || strings.Join(hs, "; ") != tt.headers || !c.ExpiresAt.Equal(tt.expires) ||
				string(c.State) != tt.state || strings.Join(c.Scope, " ") != tt.scope {
				t.Errorf("= %+v", c)
			}
		})
	}
}

// TestParseRefuses: each malformed answer is a KindBadAnswer error whose
// one line names the field and never quotes the secret in it.
func TestParseRefuses(t *testing.T) {
	const secret = "S3CRET"
	tests := []struct{ out, want string }{
		{``, "empty; the command must print"},
		{`S3CRET`, "not a JSON object"},
		{`["S3CRET"]`, "not a JSON object"},
		{`{"token":"S3CRET"`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{}`, "token: missing"},
		{`{"token":""}`, "token: missing"},
		{`{"token":42}`, "token: not a string"},
		{`{"token":"S3CRET x"}`, "token: holds a space"},
		{`{"token":"S3CRET\n"}`, "token: holds a space, a control character"},
		{`{"token":"S3CRETé"}`, "non-ASCII"},
		{`{"tokne":"S3CRET"}`, `unknown field "tokne"`},
		{`{"token":"S3CRET","expires_in":"3600"}`, "expires_in: not a number"},
		{`{"token":"S3CRET","expires_in":0}`, "expires_in: must be more than 0"},
		{`{"token":"S3CRET","expires_in":-5}`, "expires_in: must be more than 0"},
		{`{"token":"S3CRET","expires_in":1764000000}`, "expires_in: must be more than 0 and at most"},
		{`{"token":"S3CRET","expires_at":"2026-11-30 13:00"}`, "expires_at: not an RFC 3339"},
		{`{"token":"S3CRET","expires_at":1764500000}`, "expires_at: not an RFC 3339"},
		{`{"token":"S3CRET","expires_at":"2026-11-30T11:00:00Z"}`, "expires_at: already past"},
		{`{"token":"S3CRET","expires_at":"2046-11-30T11:00:00Z"}`, "expires_at: more than 10 years"},
		{`{"token":"S3CRET","expires_in":60,"expires_at":"2026-11-30T13:00:00Z"}`, "not both"},
		{`{"headers":"S3CRET"}`, "headers: not an object"},
		{`{"headers":{"X Key":"S3CRET"}}`, `headers: a name is not an HTTP header name`},
		{`{"headers":{"Authorization: Bearer S3CRET":""}}`, `headers: a name is not an HTTP header name`},
		{`{"S3CRET":"x"}`, `unknown field (its name not shown`},
		{`{"token":"S3CRET","expiresIn":60}`, `unknown field "expiresIn"`},
		{`{"headers":{"X-Key":"S3CRET\r\nX-Evil: 1"}}`, "headers.X-Key: holds a control character"},
		{`{"headers":{"X-Key":"S3CRET\u0000"}}`, "headers.X-Key: holds a control character"},
		{`{"headers":{"X-Key":7}}`, "headers.X-Key: not a string"},
		{`{"headers":{"X-Key":""}}`, "headers.X-Key: empty"},
		{`{"headers":{"X-Key":"S3CRET","x-key":"S3CRET"}}`, "given twice"},
		{`{"headers":{"Host":"S3CRET"}}`, "headers.Host: authx does not set"},
		{`{"token":"S3CRET","refresh":{"S3CRET":1}}`, "refresh: not a string"},
		{`{"token":"S3CRET","scope":"https://x/"}`, "scope: not a list"},
		{`{"token":"S3CRET","scope":["ftp://S3CRET/"]}`, "scope entry 1 is not an absolute http(s) URL"},
		{`{"kind":"Secret","token":"S3CRET"}`, `kind: must be "ExecCredential"`},
		{`{"kind":"ExecCredential","apiVersion":"v1","status":{"token":"S3CRET"}}`, "apiVersion: must be"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}`, "status: missing"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}}`, "status.token: missing"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":1}}`, "status.token: not a string"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"S3CRET"}}`, "status.clientCertificateData: client certificates are not supported"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"S3CRET","expirationTimestamp":"soon"}}`, "status.expirationTimestamp: not an RFC 3339"},
		{`{"token":"` + strings.Repeat("S", MaxSize) + `"}`, "larger than 1 MiB"},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.out), now)
		if err == nil {
			t.Errorf("%.80s: %+v, want an error", tt.out, c)
			continue
		}
		msg := err.Error()
		if core.KindOf(err) != core.KindBadAnswer || !strings.Contains(msg, tt.want) || strings.Contains(msg, secret) || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("%.80s: %v (kind %v), want a one-line bad answer holding %q and not the secret", tt.out, err, core.KindOf(err), tt.want)
		}
	}
}
