package redisvault

import (
	"context"
	"fmt"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/sealed"
)

// Resolve returns the value of a secret reference (core/secret's
// Resolver.Resolve).
type Resolve func(ctx context.Context, ref string) (string, error)

// FromConfig returns the Vault of the shared store name of the config
// (stores: NAME): its key and keys_old resolved and parsed. Its errors
// are one line of kind config naming the field, never a resolved value. It
// does not connect.
func FromConfig(ctx context.Context, name string, st config.SharedStore, resolve Resolve) (*Vault, error) {
	field := func(f string) string { return "stores." + name + "." + f }
	if st.Type != config.StoreTypeRedis {
		return nil, core.Errorf(core.KindConfig, "%s: %q: expected redis", field("type"), st.Type)
	}
	key := func(f, ref string) ([]byte, error) {
		v, err := resolve(ctx, ref)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "%s: %s", f, redact.OneLine(err.Error()))
		}
		k, err := sealed.ParseKey(v)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "%s: %s", f, err)
		}
		return k, nil
	}
	current, err := key(field("key"), st.Key)
	if err != nil {
		return nil, err
	}
	var old [][]byte
	for i, ref := range st.KeysOld {
		k, err := key(fmt.Sprintf("%s[%d]", field("keys_old"), i), ref)
		if err != nil {
			return nil, err
		}
		old = append(old, k)
	}
	box, err := sealed.New(current, old...)
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "%s: %s", field("key"), err)
	}
	v, err := New(Options{URL: st.URL, Box: box})
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "stores.%s: %s", name, err)
	}
	return v, nil
}
