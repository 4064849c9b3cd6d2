package pluginproc

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Issue 14, point 3: the plugin environment the author docs list is the
// allow-list, name for name, in both pages that list it.
func TestDocumentedEnvironmentIsTheAllowList(t *testing.T) {
	want := slices.Sorted(maps.Keys(allowedNames))
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	for _, doc := range []struct{ file, from, to string }{
		{"../../docs/plugin-lifecycle.md", "### The environment a plugin gets", "| `AUTHX_LOG_LEVEL`"},
		{"../../docs/plugin-protocol.md", "| `HOME`, `USER`", "\n"},
	} {
		data, err := os.ReadFile(doc.file)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		i := strings.Index(s, doc.from)
		if i < 0 {
			t.Fatalf("%s: no %q", doc.file, doc.from)
		}
		j := strings.Index(s[i+1:], doc.to)
		if j < 0 {
			t.Fatalf("%s: no %q after %q", doc.file, doc.to, doc.from)
		}
		seen := map[string]bool{}
		for _, m := range name.FindAllStringSubmatch(s[i:i+1+j], -1) {
			seen[m[1]] = true
		}
		if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, want) {
			t.Errorf("%s lists %v\nthe allow-list is %v", doc.file, got, want)
		}
	}
	for _, kv := range Env("debug", []string{"NODE_EXTRA_CA_CERTS=/ca.pem", "https_proxy=http://p:3128", "LC_ALL=C", "API_TOKEN=x", "NODE_OPTIONS=--require=x"}) {
		if strings.HasPrefix(kv, "API_TOKEN") || strings.HasPrefix(kv, "NODE_OPTIONS") {
			t.Errorf("Env passes %s", kv)
		}
	}
}
