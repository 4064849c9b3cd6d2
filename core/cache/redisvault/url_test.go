package redisvault

import (
	"strings"
	"testing"
)

// A url with go-redis' query options is refused, not half applied (only
// skip_verify would be, turning TLS verification off).
func TestParseURLRefusesAQuery(t *testing.T) {
	for _, url := range []string{"rediss://h:6380/0?skip_verify=true", "redis://u:hunter2@h:6379?read_timeout=30s"} {
		_, err := ParseURL(url)
		if err == nil || !strings.Contains(err.Error(), "?") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", url, err)
		}
	}
}
