package config

import (
	"strings"

	"github.com/authx/authx/core"
)

// AdHoc builds an unnamed profile from `--scheme` and `--set key=value`
// flags. "true" and "false" become booleans, and a dotted key builds a nested
// object (body.username=alice).
func AdHoc(scheme string, sets []string) (*Profile, error) {
	p := &Profile{Scheme: scheme, Config: map[string]any{}}
	for _, s := range sets {
		key, val, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			return nil, core.Errorf(core.KindConfig, "--set %q: expected key=value", s)
		}
		var v any = val
		switch val {
		case "true":
			v = true
		case "false":
			v = false
		}
		m := p.Config
		parts := strings.Split(key, ".")
		for _, part := range parts[:len(parts)-1] {
			next, ok := m[part].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[part] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	return p, nil
}
