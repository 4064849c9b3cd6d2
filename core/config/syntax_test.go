package config

import (
	"regexp"
	"testing"
)

// The name and pin checks are the regular expressions they replaced.
var syntaxes = []struct {
	re    *regexp.Regexp
	valid func(string) bool
}{
	{regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`), validProfileName},
	{regexp.MustCompile(`^[0-9a-fA-F]{64}$`), validHexSHA256},
	{regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`), validEnvName},
}

func TestNameSyntax(t *testing.T) {
	for _, s := range []string{"", "a", "work", "w.o_r-k", ".w", "-w", "_w", "w/x", "w\n", "é", "GITHUB_TOKEN", "9A", "a b",
		"0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdeg"} {
		for i, sy := range syntaxes {
			if got, want := sy.valid(s), sy.re.MatchString(s); got != want {
				t.Errorf("syntax %d (%s) of %q: %v, want %v", i, sy.re, s, got, want)
			}
		}
	}
}

// FuzzNameSyntax: any name (from a config file) is valid exactly when the
// regular expression matches it.
func FuzzNameSyntax(f *testing.F) {
	f.Add("work")
	f.Add("_x9")
	f.Add("0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, s string) {
		for i, sy := range syntaxes {
			if got, want := sy.valid(s), sy.re.MatchString(s); got != want {
				t.Errorf("syntax %d (%s) of %q: %v, want %v", i, sy.re, s, got, want)
			}
		}
	})
}
