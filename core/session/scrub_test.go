package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/secret"
)

const leakyUser, leakyPassword, leakyRefresh = "cid", `S3c<r>"et/PW`, "r-0123456789abcdef"

// leakyForms are the spellings of the password that must not reach the
// user: those the leaky plugin writes, and a few more.
func leakyForms() []string {
	goJSON, _ := json.Marshal(leakyPassword)
	basic := base64.StdEncoding.EncodeToString([]byte(leakyUser + ":" + leakyPassword))
	return []string{
		leakyPassword, string(goJSON[1 : len(goJSON)-1]), strings.ReplaceAll(string(goJSON[1:len(goJSON)-1]), "/", `\/`),
		url.QueryEscape(leakyPassword), url.PathEscape(leakyPassword), "S3c", "et/PW",
		base64.StdEncoding.EncodeToString([]byte(leakyPassword)), basic, basic[8:], leakyRefresh,
	}
}

// TestPluginMessagesAreScrubbed runs a plugin that puts the profile's
// password in every message it sends (an error, a panic, a diagnosis, a
// config diagnostic), in every encoding a server may echo it: the host
// shows none of them, and keeps each error's kind.
func TestPluginMessagesAreScrubbed(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", dir, "./testdata/authx-plugin-leaky").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ctx := context.Background()
	req, resp := core.HTTPRequest{Method: "GET", URL: "https://api.example.com/x"}, core.HTTPResponse{Status: 401}
	tests := []struct {
		leak string
		call func(s *Session, cred *core.Credential) error
		kind core.Kind
	}{
		{"login", nil, core.KindRejected},
		{"panic", nil, core.KindPlugin},
		{"configure", nil, core.KindConfig},
		{"challenge", func(s *Session, cred *core.Credential) error {
			_, _, err := s.Challenge(ctx, cred, req, resp)
			return err
		}, core.KindRejected},
		{"forbidden", func(s *Session, cred *core.Credential) error {
			_, _, err := s.Challenge(ctx, cred, req, resp)
			return err
		}, core.KindForbidden},
		{"apply", func(s *Session, cred *core.Credential) error {
			_, err := s.Sign(ctx, cred, req)
			return err
		}, core.KindConfig},
		{"logout", func(s *Session, cred *core.Credential) error { return s.revoke(ctx, cred) }, core.KindNetwork},
		{"refresh", func(s *Session, cred *core.Credential) error { // the cached credential's state, too
			s.Store = cache.New(t.TempDir())
			stale := &cache.Entry{Scheme: "leaky", Credential: *cred}
			stale.Credential.State, stale.Credential.ExpiresAt = []byte(`{"refresh_token":"`+leakyRefresh+`"}`), time.Now().Add(-time.Minute)
			if err := s.Store.Put(s.Key(), stale); err != nil {
				t.Fatal(err)
			}
			_, err := s.Get(ctx)
			return err
		}, core.KindNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.leak, func(t *testing.T) {
			h := host.New(host.Options{SearchPath: []string{dir}})
			t.Cleanup(h.Close)
			s := &Session{
				Profile: &config.Profile{Name: "leaky", Scheme: "leaky", Config: map[string]any{"user": leakyUser, "password": "env:PW", "leak": tt.leak}},
				Host:    h,
				Secrets: &secret.Resolver{Getenv: func(string) (string, bool) { return leakyPassword, true }},
			}
			defer s.Close()
			res, err := s.Get(ctx)
			if tt.call != nil {
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				err = tt.call(s, res.Credential)
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := core.Prefix(`profile "leaky"`, err, core.KindInternal).Error()
			t.Log(msg)
			var leaked []string
			for _, form := range leakyForms() {
				if strings.Contains(msg, form) {
					leaked = append(leaked, form)
				}
			}
			if len(leaked) > 0 {
				t.Errorf("the message holds %q: %s", leaked, msg)
			}
			if !strings.Contains(msg, redact.Mask) {
				t.Errorf("the message says nothing masked: %s", msg)
			}
			if k := core.KindOf(err); k != tt.kind {
				t.Errorf("kind %v, want %v: %s", k, tt.kind, msg)
			}
		})
	}
}

func TestScrubErrorKeepsKindAndChain(t *testing.T) {
	set := redact.New("S3cretPW")
	cause := errors.New("cause S3cretPW")
	tests := []struct {
		name string
		err  error
		kind core.Kind
		want string
	}{
		{"core error", &core.Error{Kind: core.KindRejected, Msg: "bad S3cretPW", Err: cause}, core.KindRejected, "p: bad ***: cause ***"},
		{"wrapped core error", errors.Join(&core.Error{Kind: core.KindForbidden, Msg: "no S3cretPW"}), core.KindForbidden, "p: no ***"},
		{"plain error", cause, core.KindNetwork, "p: cause ***"},
		{"clean", &core.Error{Kind: core.KindHTTP, Msg: "nothing secret"}, core.KindHTTP, "p: nothing secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scrubError(tt.err, set)
			if !errors.Is(got, tt.err) {
				t.Error("the chain is lost")
			}
			p := core.Prefix("p", got, core.KindNetwork)
			if core.KindOf(p) != tt.kind || p.Error() != tt.want {
				t.Errorf("Prefix = %v %q, want %v %q", core.KindOf(p), p.Error(), tt.kind, tt.want)
			}
		})
	}
	ir := &core.InputRequired{Prompts: []core.Prompt{{ID: "otp", Message: "S3cretPW"}}}
	if got := scrubError(ir, set); got != error(ir) {
		t.Errorf("an input request was changed: %v", got)
	}
}

func TestSecretsOf(t *testing.T) {
	desc := core.Description{Config: []core.Field{{Name: "user"}, {Name: "password", Secret: true}, {Name: "headers", Secret: true}}}
	cfg := core.Config{"user": "cid", "password": "S3cretPW", "headers": map[string]any{"X-Api-Key": "k-123456"}}
	cred := &core.Credential{Token: "tok-abcdef", Headers: []core.Header{{Name: "Authorization", Value: "Bearer hdr-abcdef"}},
		Cookies: []core.Cookie{{Name: "JSESSIONID", Value: "sess-abcdef"}}, State: []byte(`{"refresh_token":"refresh-0123456789","token_type":"Bearer"}`)}
	set := secretsOf(desc, cfg, cred)
	text := "cid S3cretPW k-123456 Y2lkOlMzY3JldFBX tok-abcdef hdr-abcdef sess-abcdef refresh-0123456789 Bearer"
	if got, want := set.Scrub(text), "cid *** *** *** *** *** *** *** Bearer"; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
}

// TestSecretsOfACachedBasicCredential: with only the cached credential
// known (no plugin ran, nothing resolved), the password a Basic credential
// encodes is masked too, e.g. in a DNS error for a host a hostile redirect
// named after it.
func TestSecretsOfACachedBasicCredential(t *testing.T) {
	cred := &core.Credential{Token: "Y2lkOlNla3IxdFBX", Headers: []core.Header{{Name: "Authorization", Value: "Basic Y2lkOlNla3IxdFBX"}}} // cid:Sekr1tPW
	set := secretsOf(core.Description{}, nil, cred)
	for text, want := range map[string]string{
		"dial tcp: lookup Sekr1tPW.invalid: no such host":          "dial tcp: lookup ***.invalid: no such host",
		`failed to parse Location header "http://h:1/%zzSekr1tPW"`: `failed to parse Location header "http://h:1/%zz***"`,
		"auth was Basic Y2lkOlNla3IxdFBX":                          "auth was ***", // the header value is a secret as a whole
		"user cid stays":                                           "user cid stays",
	} {
		if got := set.Scrub(text); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestSecretsOfSkipsPublicConfigValues: a credential value that the config
// holds in a field that is not secret (an HMAC scheme's key id as its
// token) stays readable in diagnoses; the secret fields are masked still.
func TestSecretsOfSkipsPublicConfigValues(t *testing.T) {
	desc := core.Description{Config: []core.Field{{Name: "key_id"}, {Name: "secret", Secret: true}}}
	cfg := core.Config{"key_id": "orders-client-1", "secret": "s3cr3t-hmac-key"}
	set := secretsOf(desc, cfg, &core.Credential{Token: "orders-client-1", PerRequest: true})
	got := set.Scrub(`the secret for key id "orders-client-1" does not match: s3cr3t-hmac-key`)
	if want := `the secret for key id "orders-client-1" does not match: ***`; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
}
