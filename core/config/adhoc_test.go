package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestAdHocLists pins how --set builds lists: a key given again appends
// (the value becomes a list), and a comma stays in the value, which a list
// field's reader (core.Config.StringList) splits; other fields keep it.
func TestAdHocLists(t *testing.T) {
	tests := []struct {
		sets []string
		want map[string]any
		err  string
	}{
		{[]string{"scope=a,b"}, map[string]any{"scope": "a,b"}, ""},
		{[]string{"scope=a", "scope=b"}, map[string]any{"scope": []any{"a", "b"}}, ""},
		{[]string{"scope=a", "scope=b,c", "scope=d"}, map[string]any{"scope": []any{"a", "b,c", "d"}}, ""},
		{[]string{"password=p,w"}, map[string]any{"password": "p,w"}, ""},
		{[]string{"body.aud=x", "body.aud=y"}, map[string]any{"body": map[string]any{"aud": []any{"x", "y"}}}, ""},
		{[]string{"body.a=1", "body.b=2"}, map[string]any{"body": map[string]any{"a": "1", "b": "2"}}, ""},
		{[]string{"body=x", "body.a=1"}, nil, `--set "body.a=1": body is already set to a value`},
		{[]string{"body.a=1", "body=x"}, nil, `--set "body=x": body already holds body.KEY=… values`},
	}
	for _, tt := range tests {
		p, err := AdHoc("jwt", tt.sets)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("AdHoc(%q) error %v, want %q", tt.sets, err, tt.err)
			}
		case err != nil || !reflect.DeepEqual(p.Config, tt.want):
			t.Errorf("AdHoc(%q) = %#v, %v; want %#v", tt.sets, p, err, tt.want)
		}
	}
}
