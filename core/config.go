package core

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// FieldType is the type of a config field or action flag.
type FieldType int

// The field types. Values in a Config arrive as decoded from YAML/TOML/JSON:
// strings, bools, float64 or int numbers, []any and map[string]any.
const (
	TypeString FieldType = iota + 1
	TypeBool
	TypeInt
	TypeDuration // a Go duration string: "90s", "15m"
	TypeStringList
	TypeObject // a nested map, e.g. a body template
)

var typeNames = map[FieldType]string{TypeString: "string", TypeBool: "bool", TypeInt: "int",
	TypeDuration: "duration", TypeStringList: "list of strings", TypeObject: "object"}

func (t FieldType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "unknown"
}

// Field describes one config field or action flag.
type Field struct {
	Name     string    `json:"name"`
	Type     FieldType `json:"type"`
	Required bool      `json:"required,omitempty"`
	// Secret fields may hold secret references (env:NAME, file:PATH,
	// cmd:COMMAND, prompt:); the host resolves every string inside them and
	// never logs or hashes the resolved values.
	Secret  bool     `json:"secret,omitempty"`
	Default any      `json:"default,omitempty"`
	Help    string   `json:"help,omitempty"`
	Enum    []string `json:"enum,omitempty"`
}

// Severity of a Diagnostic.
type Severity int

const (
	SeverityError Severity = iota + 1
	SeverityWarning
)

// Diagnostic is one problem found in a configuration.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	// Field is the dotted path inside the profile's config, e.g. "body.password".
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// DiagError returns an error Diagnostic for field.
func DiagError(field, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: SeverityError, Field: field, Message: fmt.Sprintf(format, args...)}
}

// HasErrors reports whether ds holds at least one error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Config is a profile's scheme configuration as the plugin receives it, with
// secret references already resolved.
type Config map[string]any

// String returns the string at key, or def when it is absent.
func (c Config) String(key, def string) string {
	if v, ok := c[key].(string); ok {
		return v
	}
	return def
}

// Bool returns the bool at key, or def when it is absent.
func (c Config) Bool(key string, def bool) bool {
	if v, ok := c[key].(bool); ok {
		return v
	}
	return def
}

// Int returns the integer at key, or def when it is absent.
func (c Config) Int(key string, def int) int {
	switch v := c[key].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return def
}

// Duration returns the duration at key, or def when it is absent or invalid.
func (c Config) Duration(key string, def time.Duration) time.Duration {
	if s, ok := c[key].(string); ok {
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
	}
	return def
}

// StringList returns the list of strings at key. A string, alone or as an
// item of the list, holds items separated by commas (`--set scope=a,b`,
// `scope: "a, b"`); spaces around items and empty items are dropped.
func (c Config) StringList(key string) []string {
	var items []string
	switch v := c[key].(type) {
	case string:
		items = []string{v}
	case []string:
		items = v
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				items = append(items, s)
			}
		}
	default:
		return nil
	}
	out := []string{}
	for _, item := range items {
		for _, s := range strings.Split(item, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// Object returns the nested object at key.
func (c Config) Object(key string) map[string]any {
	m, _ := c[key].(map[string]any)
	return m
}

// CheckConfig checks cfg against a schema: unknown keys (with a suggestion
// for a likely typo), missing required fields, wrong types and values outside
// an enum. Diagnostics come in a stable order.
func CheckConfig(cfg Config, fields []Field) []Diagnostic {
	var ds []Diagnostic
	known := make(map[string]Field, len(fields))
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		known[f.Name] = f
		names = append(names, f.Name)
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := known[k]
		if !ok {
			msg := "unknown key"
			if s := Suggest(k, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += fmt.Sprintf(" (known: %s)", strings.Join(names, ", "))
			}
			ds = append(ds, DiagError(k, "%s", msg))
			continue
		}
		if msg := checkType(cfg[k], f); msg != "" {
			ds = append(ds, DiagError(k, "%s", msg))
		}
	}
	for _, f := range fields {
		if _, ok := cfg[f.Name]; f.Required && !ok {
			ds = append(ds, DiagError(f.Name, "required %s is missing", f.Type))
		}
	}
	return ds
}

func checkType(v any, f Field) string {
	want := "expected a " + f.Type.String()
	if f.Type == TypeInt || f.Type == TypeObject {
		want = "expected an " + f.Type.String()
	}
	switch f.Type {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return want
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, s) {
			if near := Suggest(s, f.Enum); near != "" {
				return fmt.Sprintf("%q is not one of %s; did you mean %q?", s, strings.Join(f.Enum, ", "), near)
			}
			return fmt.Sprintf("%q is not one of %s", s, strings.Join(f.Enum, ", "))
		}
	case TypeBool:
		if _, ok := v.(bool); !ok {
			return want + " (true or false)"
		}
	case TypeInt:
		switch n := v.(type) {
		case int, int64:
		case float64:
			if n != float64(int64(n)) {
				return want
			}
		default:
			return want
		}
	case TypeDuration:
		s, ok := v.(string)
		if !ok {
			return want + ` such as "90s" or "15m"`
		}
		if _, err := time.ParseDuration(s); err != nil {
			return fmt.Sprintf("%q is not a duration (e.g. \"90s\", \"15m\")", s)
		}
	case TypeStringList:
		switch l := v.(type) {
		case string, []string:
		case []any:
			for _, e := range l {
				if _, ok := e.(string); !ok {
					return want
				}
			}
		default:
			return want
		}
	case TypeObject:
		if _, ok := v.(map[string]any); !ok {
			return want
		}
	}
	return ""
}
