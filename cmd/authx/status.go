package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/keystore"
)

// profileStatus is one row of `authx status`. It never holds a secret.
type profileStatus struct {
	Profile   string     `json:"profile"`
	Scheme    string     `json:"scheme"`
	Store     string     `json:"store"`                // file, keyring, memory or a shared store's name (stores:)
	StoreNote string     `json:"store_note,omitempty"` // why a file profile is memory: "config.password is a cmd: reference"
	Cached    bool       `json:"cached"`
	Fresh     bool       `json:"fresh"`
	ExpiresAt *time.Time `json:"expires_at"`
	ExpiresIn string     `json:"expires_in,omitempty"`
	CachePath string     `json:"cache_path,omitempty"` // "" while the cache has no entries at all; a shared store's local copy
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "status [PROFILE]",
		Short:             "Show each profile's scheme and cached credential state (never the secret)",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			names := config.ProfileNames(cfg)
			if len(args) == 1 {
				if _, err := cfg.Profile(args[0]); err != nil {
					return err
				}
				names = args
			}
			now := time.Now()
			rows := []profileStatus{}
			for _, name := range names {
				s, err := a.session(&target{profile: name})
				if err != nil {
					return err
				}
				row := profileStatus{Profile: name, Scheme: s.Profile.Scheme, Store: s.Profile.Store, StoreNote: s.Profile.Reencodes}
				if s.Store != nil {
					row.CachePath = s.Store.Path(s.Key())
				}
				if _, shared := cfg.Stores[row.Store]; !shared && s.Store != nil && s.Store.Vault != nil && row.CachePath != "" {
					row.CachePath = keyringItem(row.CachePath) // a shared store's profile keeps its local copy in that file
				}
				if e := s.Cached(); e != nil {
					row.Cached, row.Fresh = true, s.Fresh(e)
					if !e.Credential.ExpiresAt.IsZero() {
						t := e.Credential.ExpiresAt
						row.ExpiresAt = &t
					}
					row.ExpiresIn = expiry(&e.Credential, now)
				}
				rows = append(rows, row)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(rows) == 0 {
				a.notice("no profiles (config: %s)", orNone(cfg.Path))
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROFILE\tSCHEME\tSTORE\tCREDENTIAL\tCACHE")
			for _, r := range rows {
				state := "none"
				if r.Cached {
					state = r.ExpiresIn
					if !r.Fresh {
						state = "stale (" + r.ExpiresIn + ")"
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Profile, r.Scheme, r.Store, state, cmp.Or(r.CachePath, "-"))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// keyringItem names the keyring item of a store: keyring profile's entry
// whose file would be path: the keyring service and, as the account, the
// entry's name.
func keyringItem(path string) string {
	return "keyring " + keystore.Service + "/" + strings.TrimSuffix(filepath.Base(path), ".json")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (a *app) profilesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "profiles", Short: "List the configured profiles"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List profiles with their scheme and URL prefixes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROFILE\tSCHEME\tMATCH")
			for _, name := range config.ProfileNames(cfg) {
				p := cfg.Profiles[name]
				fmt.Fprintf(tw, "%s\t%s\t%s\n", name, p.Scheme, strings.Join(p.Match, " "))
			}
			return tw.Flush()
		},
	})
	return cmd
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print authx's version and plugin protocol version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintf(a.stdout, "authx %s (plugin protocol v%d.%d)\n", version, protocolMajor, protocolMinor)
		},
	}
}

// exitCodes is the documented table; docs/exit-codes.md repeats it and a test
// keeps the two in step.
var exitCodes = []struct {
	code    int
	meaning string
}{
	{0, "success"},
	{1, "internal error (a bug: please report it)"},
	{core.KindConfig.ExitCode(), "usage or configuration error (bad flag, unknown profile, typo in the config file), a URL outside the profile's match or the credential's scope, a cmd: secret over cmd_timeout"},
	{core.KindLoginRequired.ExitCode(), "login required, but the run is non-interactive (no terminal, --no-input, or CI=true)"},
	{core.KindRejected.ExitCode(), "credentials rejected by the server"},
	{core.KindNetwork.ExitCode(), "network error: the server is unreachable, or DNS or TLS failed"},
	{core.KindPlugin.ExitCode(), "plugin failed to start, exited before its handshake, is not an authx plugin, crashed, or answered a credential the host refuses (a line break in a header...)"},
	{core.KindHTTP.ExitCode(), "HTTP 4xx after any retry (authx request --fail), a 403 again after renewing (a 401 again is 4), or a 403 the scheme does not diagnose"},
	{core.KindPluginNotFound.ExitCode(), "no plugin installed for the scheme (or no authx-cli beside the authx front)"},
	{core.KindPluginIntegrity.ExitCode(), "the plugin binary (or its directory, with pin: dir) does not match its sha256 pin, or changed before it started; it was not run"},
	{core.KindUnsupported.ExitCode(), "the scheme does not support this (e.g. no bare token, unknown action)"},
	{core.KindCache.ExitCode(), "the credential cache could not be read or written (e.g. disk full); the old entry is kept"},
	{core.KindHTTPServer.ExitCode(), "HTTP 5xx (authx request --fail, or a login endpoint)"},
	{core.KindTokenInvalid.ExitCode(), "token invalid (authx jwt verify: signature, algorithm or claims; or a malformed JWT from a server)"},
	{core.KindForbidden.ExitCode(), "forbidden: the server knows the user but refuses for lack of a permission"},
	{core.KindTimeout.ExitCode(), "timeout: the server did not answer in time (--timeout, --max-time, the profile's timeout), a plugin call outlived call_timeout, or another authx held the profile's lock past lock_timeout"},
	{core.KindBadAnswer.ExitCode(), "bad server answer: HTML instead of JSON, no access_token or crumb in it, too large"},
	{core.KindKeyring.ExitCode(), "the OS keyring or a shared Redis store (stores:) could not be used (unreachable, locked, timed out) by a profile with store_fallback: fail, or a keyring: secret, or by logout; or Redis refused authx's user (wrong password, ACL)"},
	{core.KindInterrupted.ExitCode(), "interrupted (SIGINT); 128 + the signal for others: 143 SIGTERM, 129 SIGHUP"},
}

func exitCodesCommand() *cobra.Command {
	print := func(cmd *cobra.Command, _ []string) {
		w := cmd.OutOrStdout()
		fmt.Fprintln(w, "authx exit codes:")
		for _, e := range exitCodes {
			fmt.Fprintf(w, "  %3d  %s\n", e.code, e.meaning)
		}
		fmt.Fprintln(w, "authx curl, wget and exec exit with their command's code; authx's own codes only when it failed before running it.")
	}
	cmd := &cobra.Command{
		Use:   "exit-codes",
		Short: "Explain authx's exit codes (also: authx help exit-codes)",
		Args:  cobra.NoArgs,
		Run:   print,
	}
	cmd.SetHelpFunc(print) // `authx help exit-codes` shows the table itself
	return cmd
}
