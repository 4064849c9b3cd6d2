package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestGlobalFlagsAroundPluginCommands: authx's global flags work before
// and after a plugin's command (`authx --log-level debug jenkins whoami -p ci`).
func TestGlobalFlagsAroundPluginCommands(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	other := filepath.Join(e.home, "elsewhere.yaml") // not the default file, which does not exist
	if err := os.WriteFile(other, []byte(testkitConfig(srv.URL, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	const whoami = "user=u cached=false\n"
	tests := []struct {
		name      string
		args      []string
		stdout    string
		debugLogs bool
	}{
		{"log level before", []string{"--log-level", "debug", "--config", other, "testkit", "whoami", "-p", "tk"}, whoami, true},
		{"log level= before", []string{"--log-level=debug", "--config=" + other, "testkit", "whoami", "-p", "tk"}, whoami, true},
		{"log level after", []string{"testkit", "whoami", "-p", "tk", "--config", other, "--log-level", "debug"}, whoami, true},
		{"no-input before", []string{"--no-input", "--config", other, "testkit", "whoami", "-p", "tk"}, whoami, false},
		{"config after the action", []string{"testkit", "whoami", "--profile", "tk", "--config", other}, whoami, false},
		{"quiet before, action flags", []string{"-q", "--config", other, "testkit", "echo", "--upper", "yes", "hi"}, "HI\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(tt.args...)
			if r.code != 0 || r.stdout != tt.stdout {
				t.Fatalf("authx %s: %+v", strings.Join(tt.args, " "), r)
			}
			if got := strings.Contains(r.stderr, "[DEBUG]"); got != tt.debugLogs {
				t.Errorf("debug log shown: %v, want %v:\n%s", got, tt.debugLogs, r.stderr)
			}
		})
	}
	// A bad global flag is still reported as such.
	r := e.run("--log-level", "verbose", "--config", other, "testkit", "whoami", "-p", "tk")
	if r.code != 2 || !strings.Contains(r.stderr, "verbose") || strings.Contains(r.stderr, "unknown command") {
		t.Errorf("bad log level: %+v", r)
	}
}

// TestGlobalFlagNames: the names an action flag may not take are exactly
// the root's persistent flags, and help.
func TestGlobalFlagNames(t *testing.T) {
	root := newApp(context.Background()).rootCommand()
	want := map[string]bool{"help": true}
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) { want[f.Name] = true })
	if !reflect.DeepEqual(want, globalFlagNames) {
		t.Errorf("globalFlagNames = %v, want %v", globalFlagNames, want)
	}
}
