package core

import (
	"reflect"
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	names := []string{"username", "password", "netrc", "scheme", "match", "url", "work"}
	tests := []struct{ in, want string }{
		{"usernme", "username"}, {"shceme", "scheme"}, {"wrok", "work"}, {"pasword", "password"},
		{"URL", "url"}, {"zzzzzz", ""}, {"x", ""}, {"token", ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.in, names); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	fields := []Field{
		{Name: "username", Type: TypeString, Required: true},
		{Name: "mode", Type: TypeString, Enum: []string{"a", "b"}},
		{Name: "flavour", Type: TypeString, Enum: []string{"wordpress", "simplejwt"}},
		{Name: "netrc", Type: TypeBool},
		{Name: "retries", Type: TypeInt},
		{Name: "ttl", Type: TypeDuration},
		{Name: "scopes", Type: TypeStringList},
		{Name: "body", Type: TypeObject},
	}
	tests := []struct {
		cfg  Config
		want []string // "field: message part"
	}{
		{Config{"username": "a", "mode": "b", "netrc": true, "retries": 3, "ttl": "5m", "scopes": []any{"x"}, "body": map[string]any{}}, nil},
		{Config{"username": "a", "retries": float64(2), "scopes": "one"}, nil},
		{Config{}, []string{"username: required string is missing"}},
		{Config{"username": "a", "usernme": "b"}, []string{`usernme: unknown key; did you mean "username"?`}},
		{Config{"username": 1}, []string{"username: expected a string"}},
		{Config{"username": "a", "mode": "c"}, []string{`mode: "c" is not one of a, b`}},
		{Config{"username": "a", "flavour": "wordpres"}, []string{`flavour: "wordpres" is not one of wordpress, simplejwt; did you mean "wordpress"?`}},
		{Config{"username": "a", "netrc": "yes"}, []string{"netrc: expected a bool"}},
		{Config{"username": "a", "retries": 1.5}, []string{"retries: expected an int"}},
		{Config{"username": "a", "ttl": "soon"}, []string{`ttl: "soon" is not a duration`}},
		{Config{"username": "a", "scopes": []any{1}}, []string{"scopes: expected a list of strings"}},
		{Config{"username": "a", "body": "x"}, []string{"body: expected an object"}},
	}
	for _, tt := range tests {
		ds := CheckConfig(tt.cfg, fields)
		if len(ds) != len(tt.want) {
			t.Errorf("%v: diagnostics %v, want %v", tt.cfg, ds, tt.want)
			continue
		}
		for i, d := range ds {
			if got := d.Field + ": " + d.Message; !strings.HasPrefix(got, tt.want[i]) {
				t.Errorf("%v: %q, want %q", tt.cfg, got, tt.want[i])
			}
		}
	}
}

func TestExitCodesAreStable(t *testing.T) {
	want := map[Kind]int{KindInternal: 1, KindConfig: 2, KindLoginRequired: 3, KindRejected: 4, KindNetwork: 5,
		KindPlugin: 6, KindHTTP: 7, KindPluginNotFound: 8, KindPluginIntegrity: 9, KindUnsupported: 10, KindCache: 11, KindHTTPServer: 12,
		KindTokenInvalid: 13, KindForbidden: 14, KindTimeout: 15, KindBadAnswer: 16, KindInterrupted: 130}
	for k, code := range want {
		if k.ExitCode() != code {
			t.Errorf("%v exits %d, want %d", k, k.ExitCode(), code)
		}
	}
}

// TestStringListSplitsCommas: a list field's string value, alone or as an
// item, holds items separated by commas (--set scope=a,b; scope: "a, b").
func TestStringListSplitsCommas(t *testing.T) {
	tests := []struct {
		v    any
		want []string
	}{
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{" a , b,,c ", []string{"a", "b", "c"}},
		{[]any{"a", "b,c"}, []string{"a", "b", "c"}},
		{[]string{"a,b"}, []string{"a", "b"}},
		{"", []string{}},
		{nil, nil},
	}
	for _, tt := range tests {
		got := Config{"k": tt.v}.StringList("k")
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("StringList(%#v) = %#v, want %#v", tt.v, got, tt.want)
		}
	}
}
