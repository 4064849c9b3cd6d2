package config

import (
	"strings"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
)

// AdHoc builds an unnamed profile from `--scheme` and `--set key=value`
// flags. "true" and "false" become booleans, and a dotted key builds a nested
// object (body.username=alice). A key given again appends: its value becomes
// a list (--set scope=a --set scope=b). A value is never split: a list
// field's reader splits it at commas (core.Config.StringList), so
// --set scope=a,b is a list of two while --set password=a,b is one password.
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
		for i, part := range parts[:len(parts)-1] {
			next, ok := m[part].(map[string]any)
			if !ok && m[part] != nil {
				return nil, core.Errorf(core.KindConfig, "--set %q: %s is already set to a value", s, strings.Join(parts[:i+1], "."))
			}
			if !ok {
				next = map[string]any{}
				m[part] = next
			}
			m = next
		}
		last := parts[len(parts)-1]
		switch old := m[last].(type) {
		case nil:
			m[last] = v
		case map[string]any:
			return nil, core.Errorf(core.KindConfig, "--set %q: %s already holds %s.KEY=… values", s, key, key)
		case []any:
			m[last] = append(old, v)
		default:
			m[last] = []any{old, v}
		}
	}
	return p, nil
}
