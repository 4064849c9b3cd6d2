package authhttp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// scrubbingSource knows the secret its credential was made from, as a
// *session.Session does.
type scrubbingSource struct{ secret string }

func (s scrubbingSource) Credential(context.Context) (*core.Credential, error) {
	return bearer(s.secret), nil
}

func (s scrubbingSource) ScrubError(err error) error {
	return &core.Error{Kind: core.KindOf(err), Msg: redact.Secrets(err.Error(), s.secret)}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A failed round trip may quote the server (net/http's "malformed HTTP
// response"): the Client masks the source's secrets in it.
func TestClientMasksTheSourcesSecretsInAServersWords(t *testing.T) {
	echo := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("malformed HTTP response %q", r.Header.Get("Authorization"))
	})
	req := mustRequest("GET", "https://api.example.com/x")
	_, err := NewClient(scrubbingSource{"S3cret.PW"}, []string{"https://api.example.com/"}, echo).Do(req)
	if err == nil || strings.Contains(err.Error(), "S3cret.PW") || !strings.Contains(err.Error(), `"Bearer ***"`) || core.KindOf(err) != core.KindNetwork {
		t.Errorf("error %v (kind %v), want the secret masked and kind %v", err, core.KindOf(err), core.KindNetwork)
	}
}
