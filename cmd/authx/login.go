package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/session"
)

func (a *app) loginCommand() *cobra.Command {
	var t target
	cmd := &cobra.Command{
		Use:   "login [PROFILE]",
		Short: "Log in now and cache the credential (even if a fresh one is cached)",
		Long: `Log in now and cache the credential, even if a fresh one is cached.

A browser or device login (jwt's grant: authorization_code or device_code)
shows its messages on stderr and opens the browser: $BROWSER when set (a
command; the URL is its last argument), else xdg-open (with a display) or
open. With --no-browser, or when there is no browser, it prints the URL to
open instead. In a non-interactive run (no terminal, --no-input, CI=true)
nothing is shown or opened: such a login fails at once with exit code 3.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				t.profile = args[0]
			}
			s, err := a.session(&t)
			if err != nil {
				return err
			}
			res, err := s.Login(cmd.Context())
			if err != nil {
				return profileErr(s.Profile.Name, err)
			}
			a.notice("logged in to profile %q (%s)", s.Profile.Name, expiry(res.Credential, time.Now()))
			return nil
		},
	}
	t.addFlags(cmd)
	cmd.Flags().BoolVar(&a.noBrowser, "no-browser", false, "print the URL of a browser login instead of opening the browser")
	return cmd
}

// notice prints a line for the user on stderr, unless --quiet.
func (a *app) notice(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.stderr, "authx: "+format+"\n", args...)
	}
}

func expiry(c *core.Credential, now time.Time) string {
	if c.ExpiresAt.IsZero() {
		return "no known expiry"
	}
	d := c.ExpiresAt.Sub(now).Round(time.Second)
	if d <= 0 {
		return fmt.Sprintf("expired %s ago", -d)
	}
	return fmt.Sprintf("expires in %s", d)
}

func (a *app) logoutCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:               "logout [PROFILE | --all]",
		Short:             "Forget cached credentials (and revoke them where the scheme can)",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return core.Errorf(core.KindConfig, "name one profile or give --all")
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			names := args
			if all {
				names = mergeNames(config.ProfileNames(cfg), cache.New(cfg.Settings.CacheDir).Profiles())
			}
			var firstErr error
			for _, name := range names {
				if err := a.logout(cmd, cfg, name); err != nil {
					if !all {
						return err
					}
					fmt.Fprintln(a.stderr, "authx: "+oneLine(err.Error()))
					firstErr = err
				}
			}
			return silent(firstErr)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "log out of every profile and clear the whole cache")
	return cmd
}

func (a *app) logout(cmd *cobra.Command, cfg *config.File, name string) error {
	store := cache.New(cfg.Settings.CacheDir)
	store.Vault = session.KeyringVault() // asked only for a store: keyring entry's stub
	if _, err := cfg.Profile(name); err != nil {
		// A profile removed from the config may still have entries.
		if n, derr := store.Delete(name); derr == nil && n > 0 {
			a.notice("logged out of %q (%d cached credential removed)", name, n)
			return nil
		}
		return err
	}
	s, err := a.session(&target{profile: name})
	if err != nil {
		return err
	}
	n, err := s.Logout(cmd.Context())
	// What an earlier store setting left (a file entry of a profile now
	// store: memory or keyring, a keyring item of one now store: file)
	// goes too: logout forgets every credential cached for the name.
	if m, derr := store.Delete(name); derr == nil {
		n += m
	} else if err == nil {
		err = derr
	}
	if n > 0 && err == nil { // else the error is the command's one line
		a.notice("logged out of profile %q", name)
	} else if err == nil {
		a.notice("profile %q had no cached credential", name)
	}
	if core.KindOf(err) == core.KindKeyring {
		return profileErr(name, err)
	}
	if err != nil {
		return profileErr(name, fmt.Errorf("cached credential removed, but the server-side revocation failed: %w", err))
	}
	return nil
}

func mergeNames(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(append([]string{}, a...), b...) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// silent turns an error that was already printed into just its exit code.
func silent(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitCodeOf(err)}
}
