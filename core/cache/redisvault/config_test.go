package redisvault

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/authx/authx/core/config"
)

func TestFromConfigResolvesTheKeys(t *testing.T) {
	s := startRedis(t)
	cur, old := testKey(8), testKey(7)
	refs := map[string]string{
		"env:CUR": base64.StdEncoding.EncodeToString(cur),
		"env:OLD": hex.EncodeToString(old),
		"env:BAD": "not-a-key-but-a-password",
	}
	resolve := func(_ context.Context, ref string) (string, error) {
		if v, ok := refs[ref]; ok {
			return v, nil
		}
		return "", errors.New(ref + " is not set")
	}
	// An entry written under the old key is read by a vault whose
	// keys_old holds it.
	if err := newVault(t, s, Options{}).Set("work.1", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	v, err := FromConfig(context.Background(), "fleet", config.SharedStore{Type: "redis", URL: s.URL(), Key: "env:CUR", KeysOld: []string{"env:OLD"}}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if got, err := v.Get("work.1"); err != nil || string(got) != "v1" {
		t.Fatalf("Get = %q, %v", got, err)
	}

	for _, c := range []struct {
		st   config.SharedStore
		want string
	}{
		{config.SharedStore{Type: "redis", URL: s.URL(), Key: "env:NONE"}, "stores.fleet.key: env:NONE is not set"},
		{config.SharedStore{Type: "redis", URL: s.URL(), Key: "env:BAD"}, "stores.fleet.key: a sealing key must be 32"},
		{config.SharedStore{Type: "redis", URL: s.URL(), Key: "env:CUR", KeysOld: []string{"env:CUR", "env:BAD"}}, "stores.fleet.keys_old[1]: a sealing key"},
		{config.SharedStore{Type: "memcached", URL: s.URL(), Key: "env:CUR"}, `stores.fleet.type: "memcached"`},
	} {
		_, err := FromConfig(context.Background(), "fleet", c.st, resolve)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.st, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "not-a-key") {
			t.Errorf("error %q holds the resolved value", err)
		}
	}
}
