package secret

import (
	"context"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

// profiles is a fake host: each profile's config holds one secret field,
// resolved with a Resolver whose Self is that profile, as cmd/authx does.
type profiles map[string]string

func (p profiles) resolver(self string) *Resolver {
	r := &Resolver{Self: self}
	r.Profile = func(ctx context.Context, name string) (string, error) {
		field, ok := p[name]
		if !ok {
			return "", core.Errorf(core.KindConfig, "no profile %s", name)
		}
		if !IsRef(field) {
			return "token-of-" + name, nil // a profile whose own secrets are literals
		}
		inner, err := p.resolver(name).Resolve(ctx, field)
		if err != nil {
			return "", err
		}
		return "token-of-" + name + "(" + inner + ")", nil
	}
	return r
}

func TestResolveProfile(t *testing.T) {
	p := profiles{
		"sso":   "literal-password",
		"api":   "profile:sso",
		"self":  "profile:self",
		"a":     "profile:b",
		"b":     "profile:c",
		"c":     "profile:a",
		"deep":  "profile:api",
		"bad":   "profile:missing",
		"blank": "profile:",
	}
	tests := []struct {
		self, in, want string
		kind           core.Kind
		msg            string
	}{
		{"api", "profile:sso", "token-of-sso", 0, ""},
		{"deep", "profile:api", "token-of-api(token-of-sso)", 0, ""},
		{"self", "profile:self", "", core.KindConfig, "profile:self: a cycle of profile references: self → self"},
		{"a", "profile:b", "", core.KindConfig, "profile:a: a cycle of profile references: a → b → c → a"},
		{"x", "profile:missing", "", core.KindConfig, "no profile missing"},
		{"x", "profile:", "", core.KindConfig, "profile: needs a profile name (profile:NAME)"},
		{"x", "profile: sso", "", core.KindConfig, "not a profile name"},
		{"x", "profil:sso", "", core.KindConfig, `did you mean "profile:"?`},
	}
	for _, tt := range tests {
		got, err := p.resolver(tt.self).Resolve(context.Background(), tt.in)
		if tt.kind == 0 {
			if err != nil || got != tt.want {
				t.Errorf("%s: Resolve(%q) = %q, %v; want %q", tt.self, tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || core.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%s: Resolve(%q) = %q, %v (kind %v); want kind %v containing %q", tt.self, tt.in, got, err, core.KindOf(err), tt.kind, tt.msg)
		}
	}
}

// Without a host to ask (an action's flag, a plugin's --config), a
// profile: reference is an error, never a literal sent as the secret.
func TestResolveProfileWithoutHost(t *testing.T) {
	_, err := (&Resolver{}).Resolve(context.Background(), "profile:sso")
	if core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "profile:sso: another profile's token can only be used in a profile's config") {
		t.Fatalf("err = %v", err)
	}
	if !IsRef("profile:sso") {
		t.Fatal("IsRef(profile:sso) = false")
	}
}
