package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A store's url with a query (go-redis' own options: skip_verify,
// read_timeout, max_retries, pool_size...) is refused: authx would ignore
// all of them but skip_verify, which turns TLS verification off behind
// tls:'s back. The bound is timeout:, TLS is tls:.
func TestRedisURLQueryIsRefused(t *testing.T) {
	for _, url := range []string{
		"rediss://h:6380/0?skip_verify=true",
		"redis://h:6379?read_timeout=30s&max_retries=5",
		"redis://u:hunter2@h:6379/0?pool_size=1",
	} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		os.WriteFile(path, []byte(`stores: {fleet: {type: redis, url: "`+url+`", key: "env:K"}}`+"\n"), 0o600)
		_, err := Load(LoadOptions{Path: path, Getenv: func(string) string { return "" }})
		if err == nil {
			t.Errorf("%s: accepted", url)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "stores.fleet.url: ") || !strings.Contains(msg, "?") || strings.Contains(msg, "hunter2") {
			t.Errorf("%s: %s", url, msg)
		}
	}
}
