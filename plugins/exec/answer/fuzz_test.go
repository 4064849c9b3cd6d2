package answer

import (
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

// FuzzParse: whatever a command prints, Parse returns either a credential
// the host accepts (Validate passes, an expiry after now and at most 10
// years ahead, at least one header) or a one-line KindBadAnswer error; and
// it never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"token":"t","expires_in":60,"refresh":"r","scope":["https://a.example/"]}`,
		`{"headers":{"X-Api-Key":"k"},"expires_at":"2026-11-30T13:00:00Z"}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"k","expirationTimestamp":"2026-11-30T12:30:00Z"}}`,
		`{"token":"a b"}`, `{"headers":{"A":"b\r\nc"}}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, now)
		if err != nil {
			if c != nil || core.KindOf(err) != core.KindBadAnswer || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("%q: %+v, %v", data, c, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%q: an invalid credential: %v", data, err)
		}
		if len(c.Headers) == 0 {
			t.Fatalf("%q: no header", data)
		}
		if !c.ExpiresAt.IsZero() && (!c.ExpiresAt.After(now) || c.ExpiresAt.Sub(now) > MaxLifetime) {
			t.Fatalf("%q: expiry %v", data, c.ExpiresAt)
		}
	})
}
