package httpauth

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []Challenge
	}{
		{`Basic realm="WallyWorld"`, []Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "WallyWorld"}}}},
		{`Basic realm="Jenkins", charset="UTF-8"`, []Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "Jenkins", "charset": "UTF-8"}}}},
		{`Bearer realm="example",
                    error="invalid_token",
                    error_description="The access token expired"`,
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "example", "error": "invalid_token", "error_description": "The access token expired"}}}},
		{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`, []Challenge{
			{Scheme: "Newauth", Params: map[string]string{"realm": "apps", "type": "1", "title": `Login to "apps"`}},
			{Scheme: "Basic", Params: map[string]string{"realm": "simple"}}}},
		{`Negotiate YIIB3gYGKwYBBQUCoIIB0jCCAc6gDTAL==, Basic realm="x"`, []Challenge{
			{Scheme: "Negotiate", Token68: "YIIB3gYGKwYBBQUCoIIB0jCCAc6gDTAL==", Params: map[string]string{}},
			{Scheme: "Basic", Params: map[string]string{"realm": "x"}}}},
		{`Bearer`, []Challenge{{Scheme: "Bearer", Params: map[string]string{}}}},
		{`bAsIc REALM = "spaced"`, []Challenge{{Scheme: "bAsIc", Params: map[string]string{"realm": "spaced"}}}},
		{``, nil},
		{`, ,`, nil},
	}
	for _, tt := range tests {
		if got := Parse(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
		}
	}
}

func TestFind(t *testing.T) {
	cs := Parse(`Bearer error="invalid_token", Basic realm="Jenkins"`)
	c, ok := Find(cs, "basic")
	if !ok || c.Params["realm"] != "Jenkins" {
		t.Fatalf("Find basic = %v, %v", c, ok)
	}
	if _, ok := Find(cs, "digest"); ok {
		t.Fatal("found a digest challenge that is not there")
	}
}
