package secret

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/keystore"
	"github.com/authx/authx/core/redact"
)

// KeyringName splits a keyring: reference's argument, SERVICE/ACCOUNT, at
// its first '/': the service has none, the account may. Both are
// non-empty and hold no control character.
func KeyringName(arg string) (service, account string, err error) {
	service, account, ok := strings.Cut(arg, "/")
	switch {
	case !ok || service == "" || account == "":
		return "", "", core.Errorf(core.KindConfig, "expected SERVICE/ACCOUNT (e.g. keyring:github/alice)")
	case strings.ContainsFunc(arg, unicode.IsControl):
		return "", "", core.Errorf(core.KindConfig, "a keyring service or account holds no control character")
	case service == keystore.Service:
		return "", "", core.Errorf(core.KindConfig, "the keyring service %q holds authx's own cached credentials: name another service", keystore.Service)
	}
	return service, account, nil
}

// keyring reads the item of a keyring:SERVICE/ACCOUNT reference. Its errors
// name the reference, never the secret.
func (r *Resolver) keyring(arg string) (string, error) {
	service, account, err := KeyringName(arg)
	ref := "keyring:" + redact.OneLine(arg)
	if err != nil {
		return "", core.Prefix(ref, err, core.KindConfig)
	}
	get := r.Keyring
	if get == nil {
		get = func(service, account string) ([]byte, error) { return keystore.New(service).Get(account) }
	}
	v, err := get(service, account)
	switch {
	case errors.Is(err, keystore.ErrNotFound):
		return "", core.Errorf(core.KindConfig, "%s: no such item in the keyring (put it there with: authx secret set %s/%s)", ref, redact.OneLine(service), redact.OneLine(account))
	case err != nil:
		return "", core.Errorf(core.KindKeyring, "%s: %s", ref, oneLineErr(err))
	case len(v) == 0:
		return "", core.Errorf(core.KindConfig, "%s: the keyring item is empty", ref)
	case len(v) > MaxSize:
		return "", core.Errorf(core.KindConfig, "%s: the keyring item is larger than %s", ref, maxSizeText)
	}
	return string(v), nil
}

// oneLineErr is err's first line, for a message that quotes it.
func oneLineErr(err error) string {
	return redact.OneLine(fmt.Sprint(err))
}
