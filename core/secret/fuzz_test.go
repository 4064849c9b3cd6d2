package secret

import (
	"context"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

// FuzzSecretRef checks and parses secret references without running or
// reading anything: only env: is resolved, against a fake environment.
// Properties: no panic; IsRef agrees with the prefixes; an error is one
// line of kind config (or login-required for prompt:), never holding what
// follows a misspelt kind (perhaps a real password); a literal resolves to
// itself; env:NAME resolves to NAME's value; a keyring: reference that
// passes Check splits into a service without '/' and an account, both
// without a line break.
func FuzzSecretRef(f *testing.F) {
	for _, s := range []string{"env:PW", "env: PW", "env:PW\n", "env:", "file:/dev/zero", "file:", "cmd:yes",
		"cmd:sleep 100 & echo pw", "cmd: ", "prompt:", "prompt:Token:", "Env:hunter2", "envv:PW", "FILE:/x",
		"cmdd:s3cret", "https://u:p@h", "plain", "", ":", "env:A\x00B", "env:\r\nX-Evil: 1",
		"profile:sso", "profile:", "profile:a\r\nb", "profil:sso", "profile:../x",
		"keyring:github/alice", "keyring:github", "keyring:/a", "keyring:s/a/b", "keyring:s/a\nX-Evil: 1", "keyrng:s/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, arg, hasColon := strings.Cut(s, ":")
		ref := IsRef(s)
		if ref != (hasColon && (kind == "env" || kind == "file" || kind == "cmd" || kind == "prompt" || kind == "profile" || kind == "keyring")) {
			t.Fatalf("IsRef(%q) = %v", s, ref)
		}
		err := Check(s)
		if err != nil {
			msg := err.Error()
			if core.KindOf(err) != core.KindConfig || strings.ContainsAny(msg, "\r\n\x00") {
				t.Fatalf("Check(%q) = %q (kind %v): want one line of kind config", s, msg, core.KindOf(err))
			}
			if other := Check(kind + ":x"); !ref && (other == nil || other.Error() != msg) {
				t.Fatalf("Check(%q) = %q depends on what follows the misspelt kind (perhaps a password)", s, msg)
			}
		}
		if kind == "keyring" && ref && err == nil {
			service, account, kerr := KeyringName(arg)
			if kerr != nil || strings.Contains(service, "/") || service+"/"+account != arg || strings.ContainsAny(arg, "\r\n\x00") {
				t.Fatalf("keyring:%q passed Check but splits into %q, %q (%v)", arg, service, account, kerr)
			}
		}
		if ref && kind != "env" {
			return // file:, cmd:, prompt:, profile: and keyring: would read, run or ask
		}
		r := &Resolver{Getenv: func(name string) (string, bool) { return "value-of-" + name, true }}
		got, rerr := r.Resolve(context.Background(), s)
		switch {
		case (rerr == nil) != (err == nil):
			t.Fatalf("Resolve(%q) = %v but Check = %v", s, rerr, err)
		case rerr != nil:
			if strings.ContainsAny(rerr.Error(), "\r\n\x00") {
				t.Fatalf("Resolve(%q) error %q is not one line", s, rerr)
			}
		case !ref && got != s:
			t.Fatalf("literal %q resolved to %q", s, got)
		case ref && got != "value-of-"+arg:
			t.Fatalf("Resolve(%q) = %q", s, got)
		}
	})
}
