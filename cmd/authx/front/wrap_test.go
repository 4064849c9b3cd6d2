package main

import (
	"slices"
	"testing"
)

func TestParseWrapper(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
		want wrapLine
	}{
		{[]string{"curl", "work", "--", "-sf", "https://x/"}, true, wrapLine{command: "curl", profile: "work", args: []string{"-sf", "https://x/"}}},
		{[]string{"-q", "--config=/c.yaml", "wget", "--", "-qO-", "--", "u"}, true, wrapLine{command: "wget", configPath: "/c.yaml", args: []string{"-qO-", "--", "u"}}},
		{[]string{"exec", "--config", "/c", "work", "--no-input", "--", "env"}, true, wrapLine{command: "exec", profile: "work", configPath: "/c", args: []string{"env"}}},
		{[]string{"exec", "work", "--"}, true, wrapLine{command: "exec", profile: "work", args: []string{}}},
		{[]string{"curl", "work", "-sf", "https://x/"}, false, wrapLine{}},               // no --: the full CLI explains
		{[]string{"curl", "--url", "https://x/", "--", "https://x/"}, false, wrapLine{}}, // authx's own flags
		{[]string{"curl", "--scheme", "basic", "--", "https://x/"}, false, wrapLine{}},
		{[]string{"--log-level", "debug", "curl", "--", "https://x/"}, false, wrapLine{}},
		{[]string{"curl", "--quiet=false", "--", "https://x/"}, false, wrapLine{}},
		{[]string{"curl", "--config", "--", "https://x/"}, false, wrapLine{}}, // --config's value missing
		{[]string{"curl", "a", "b", "--", "https://x/"}, false, wrapLine{}},
		{[]string{"request", "work", "--", "GET", "/"}, false, wrapLine{}},
		{[]string{"--", "curl"}, false, wrapLine{}},
	}
	for _, tt := range tests {
		got, ok := parseWrapper(tt.args)
		if ok != tt.ok || ok && (got.command != tt.want.command || got.profile != tt.want.profile || got.configPath != tt.want.configPath || !slices.Equal(got.args, tt.want.args)) {
			t.Errorf("parseWrapper(%q) = %+v, %v; want %+v, %v", tt.args, got, ok, tt.want, tt.ok)
		}
	}
}
