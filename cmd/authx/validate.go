package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/secret"
	"github.com/authx/authx/core/session"
)

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check the configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "Check the config file and every profile against its scheme's schema",
		Long: `Check the config file and every profile against its scheme's schema,
without resolving secrets or logging in. Warns about literal secrets in the
file (use env:, file:, cmd: or prompt: references instead). Exits 0 when there
is no error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			errs := 0
			for _, name := range config.ProfileNames(cfg) {
				p := cfg.Profiles[name]
				s := session.New(cfg, p, a.plugins())
				d, _, err := a.plugins().Describe(cmd.Context(), s.Spec())
				if err != nil {
					fmt.Fprintf(a.stderr, "authx: profile %q: %s\n", name, oneLine(err.Error()))
					errs++
					continue
				}
				for _, diag := range core.CheckConfig(p.Config, d.Config) {
					fmt.Fprintf(a.stderr, "authx: config %s: profiles.%s.config.%s: %s\n", cfg.Path, name, diag.Field, diag.Message)
					errs++
				}
				for _, f := range d.Config {
					v, ok := p.Config[f.Name]
					if !ok {
						continue
					}
					if !f.Secret {
						if hasProfileRef(v) { // perhaps meant, perhaps a scope such as profile:read
							fmt.Fprintf(a.stderr, "authx: warning: config %s: profiles.%s.config.%s holds a profile: reference, which only secret fields resolve; it is sent as written\n", cfg.Path, name, f.Name)
						}
						continue
					}
					if err := checkProfileRefs(v, cfg); err != nil {
						fmt.Fprintf(a.stderr, "authx: config %s: profiles.%s.config.%s: %s\n", cfg.Path, name, f.Name, err)
						errs++
						continue
					}
					if err := checkRefs(v); err != nil {
						fmt.Fprintf(a.stderr, "authx: config %s: profiles.%s.config.%s: %s\n", cfg.Path, name, f.Name, err)
						errs++
					} else if hasLiteral(v) {
						fmt.Fprintf(a.stderr, "authx: warning: config %s: profiles.%s.config.%s holds a literal secret; prefer env:NAME, file:PATH, cmd:COMMAND or prompt:\n", cfg.Path, name, f.Name)
					}
				}
			}
			if errs > 0 {
				return &exitError{code: core.KindConfig.ExitCode()}
			}
			a.notice("config %s: %d profile(s) OK", orNone(cfg.Path), len(cfg.Profiles))
			return nil
		},
	})
	return cmd
}

// checkRefs returns the first problem secret.Check finds among v's strings.
func checkRefs(v any) error {
	switch t := v.(type) {
	case string:
		return secret.Check(t)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if err := checkRefs(t[k]); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range t {
			if err := checkRefs(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkProfileRefs checks that the profile:NAME references among v's
// strings name profiles of cfg.
func checkProfileRefs(v any, cfg *config.File) error {
	var err error
	walkStrings(v, func(s string) {
		if name, ok := strings.CutPrefix(s, "profile:"); ok && err == nil && cfg.Profiles[name] == nil && secret.Check(s) == nil {
			err = fmt.Errorf("profile:%s: no such profile (profiles: %s)", name, strings.Join(config.ProfileNames(cfg), ", "))
		}
	})
	return err
}

// hasProfileRef reports whether a string of v starts with profile:.
func hasProfileRef(v any) bool {
	found := false
	walkStrings(v, func(s string) { found = found || strings.HasPrefix(s, "profile:") })
	return found
}

// walkStrings calls f for every string in v, in the order of sorted keys.
func walkStrings(v any, f func(string)) {
	switch t := v.(type) {
	case string:
		f(t)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			walkStrings(t[k], f)
		}
	case []any:
		for _, e := range t {
			walkStrings(e, f)
		}
	}
}

// hasLiteral reports whether v holds a non-empty string that is not a
// secret reference.
func hasLiteral(v any) bool {
	switch t := v.(type) {
	case string:
		return t != "" && !secret.IsRef(t)
	case map[string]any:
		for _, e := range t {
			if hasLiteral(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasLiteral(e) {
				return true
			}
		}
	}
	return false
}
