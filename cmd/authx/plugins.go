package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/core/plugintest"
	"github.com/authx/authx/core/secret"
	"github.com/authx/authx/core/session"
)

const (
	protocolMajor = pluginrpc.ProtocolMajor
	protocolMinor = pluginrpc.ProtocolMinor
)

// describeInstalled describes an installed plugin for `plugins list`,
// unless a pin of the config that applies to it does not match: then it is
// not run (core.KindPluginIntegrity).
func (a *app) describeInstalled(ctx context.Context, installed host.Spec) (core.Description, string, error) {
	pins := a.pinsOf(installed)
	for _, pin := range pins[1:] {
		if err := a.plugins().Verify(pin); err != nil {
			return core.Description{}, installed.Path, err
		}
	}
	return a.plugins().Describe(ctx, pins[0])
}

// pinsOf returns the specs under which the config would run an installed
// plugin: first the scheme's top-level plugins: entry (or the plain
// installed spec), then every profile's own pin on it. A pin applies when
// it names no other path than the installed binary.
func (a *app) pinsOf(installed host.Spec) []host.Spec {
	applies := func(path string) bool { return path == "" || sameFile(path, installed.Path) }
	top := a.pluginSpec(installed.Scheme)
	if !applies(top.Path) {
		top = host.Spec{Scheme: installed.Scheme}
	}
	top.Path = installed.Path
	specs := []host.Spec{top}
	if a.cfg == nil {
		return specs
	}
	for _, name := range config.ProfileNames(a.cfg) {
		p := a.cfg.Profiles[name]
		if p.Scheme == installed.Scheme && p.Plugin.SHA256 != "" && applies(p.Plugin.Path) {
			spec := session.New(a.cfg, p, nil).Spec()
			spec.Path = installed.Path
			specs = append(specs, spec)
		}
	}
	return specs
}

// configuredElsewhere returns the plugins the config names by path
// (plugins.SCHEME.path, a profile's plugin.path) that are not among
// installed, each once: they run too, so `plugins list` shows them.
func (a *app) configuredElsewhere(installed []host.Spec) []host.Spec {
	if a.cfg == nil {
		return nil
	}
	var out []host.Spec
	add := func(scheme, path string) {
		if path == "" {
			return
		}
		for _, s := range append(installed, out...) {
			if s.Path == path || sameFile(s.Path, path) {
				return
			}
		}
		out = append(out, host.Spec{Scheme: scheme, Path: path})
	}
	for _, scheme := range slices.Sorted(maps.Keys(a.cfg.Plugins)) {
		add(scheme, a.cfg.Plugins[scheme].Path)
	}
	for _, name := range config.ProfileNames(a.cfg) {
		p := a.cfg.Profiles[name]
		add(p.Scheme, p.Plugin.Path)
	}
	return out
}

func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// pluginSpec is the plugin of scheme as the config names it.
func (a *app) pluginSpec(scheme string) host.Spec {
	if a.cfg == nil {
		return host.Spec{Scheme: scheme}
	}
	return session.PluginSpec(a.cfg, scheme)
}

func (a *app) pluginsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "plugins", Short: "List, describe and test scheme plugins"}
	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the plugins found in the plugin directories",
		Long: `List the plugins found in the plugin directories, in search order:
AUTHX_PLUGIN_PATH, $XDG_DATA_HOME/authx/plugins, and the directory of the authx
executable, then those the config names by path elsewhere. Descriptions are cached by (path, size, mtime, inode), so a plugin
is started only when its binary changed. The config's sha256 pins on a plugin
(plugins.SCHEME and the profiles' own) are checked first: a plugin that does
not match is listed with the status "pin mismatch" and not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.loadConfig(); err != nil {
				return err
			}
			h := a.plugins()
			type row struct {
				Scheme  string `json:"scheme"`
				Version string `json:"version"`
				Path    string `json:"path"`
				Summary string `json:"summary"`
				// Status is "ok", "pin mismatch" (the plugin was not run)
				// or "error".
				Status string `json:"status"`
				Error  string `json:"error,omitempty"`
			}
			rows := []row{}
			for _, spec := range append(h.Installed(), a.configuredElsewhere(h.Installed())...) {
				d, path, err := a.describeInstalled(cmd.Context(), spec)
				r := row{Scheme: spec.Scheme, Version: d.Version, Path: spec.Path, Summary: d.Summary, Status: "ok"}
				if path != "" {
					r.Path = path
				}
				if err != nil {
					r.Status, r.Error = "error", oneLine(err.Error())
					if core.KindOf(err) == core.KindPluginIntegrity {
						r.Status = "pin mismatch"
					}
				}
				rows = append(rows, r)
			}
			if listJSON {
				return writeJSON(a.stdout, rows)
			}
			if len(rows) == 0 {
				a.notice("no plugins found in %s", strings.Join(h.SearchPath(), ", "))
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SCHEME\tVERSION\tPATH\tSUMMARY")
			for _, r := range rows {
				summary := r.Summary
				if r.Error != "" {
					summary = r.Status + ": " + r.Error
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Scheme, r.Version, r.Path, summary)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")

	var descJSON bool
	describe := &cobra.Command{
		Use:   "describe SCHEME",
		Short: "Show a plugin's capabilities, config fields and actions",
		Long: `Show a plugin's capabilities, config fields and actions. The config's sha256
pins on it are checked first: a plugin that does not match is not run (exit 9).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.loadConfig(); err != nil {
				return err
			}
			path, err := a.plugins().Locate(a.pluginSpec(args[0]))
			if err != nil {
				return err
			}
			d, path, err := a.describeInstalled(cmd.Context(), host.Spec{Scheme: args[0], Path: path})
			if err != nil {
				return err
			}
			if descJSON {
				return writeJSON(a.stdout, struct {
					Path string `json:"path"`
					core.Description
				}{path, d})
			}
			writeDescription(a.stdout, path, d)
			return nil
		},
	}
	describe.Flags().BoolVar(&descJSON, "json", false, "print JSON")

	var pt pluginTest
	test := &cobra.Command{
		Use:   "test PATH",
		Short: "Run the conformance checks against a plugin binary",
		Long: `Run the plugin protocol's conformance checks against the plugin executable
at PATH, whatever its language. authx starts it as it starts any plugin and
checks the handshake and health, a well-formed and cheap Describe, the config
schema, Configure refusing bad config field by field, Login (answering its
prompts from --answers), Refresh, Apply, HandleChallenge, Logout and RunAction
(refused with UNIMPLEMENTED when not claimed), that nothing is written to
stdout after the handshake, and that the plugin exits when its host is killed.

--config FILE is a YAML or JSON map holding a valid profile config, as a
profile's config: does. References (env:, file:, cmd:) in the fields the
plugin marks secret are resolved; prompt: fails (use --answers for what the
plugin asks itself). Without --config, the checks that need a login are
skipped. --answers FILE is a YAML or JSON map from the
plugin's prompt ids to the answers.

Prints one line per check; exits 6 when a check fails. To see why, add
--log-level debug: the plugin's own log lines (its stderr) go to stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pt.path = args[0]
			return a.testPlugin(cmd.Context(), pt)
		},
	}
	test.Flags().StringVar(&pt.config, "config", "", "the profile config to log in with: a YAML or JSON `FILE` (here authx's own config file comes only from $AUTHX_CONFIG)")
	test.Flags().StringVar(&pt.answers, "answers", "", "answers to the plugin's prompts: a YAML or JSON `FILE` mapping prompt id to answer")
	test.Flags().StringVar(&pt.url, "url", "", "the profile `URL` sent with the calls")
	cmd.AddCommand(list, describe, test, a.pinCommand())
	return cmd
}

// pinCommand is `authx plugins pin PATH [--dir]`: the sha256 to pin a
// plugin with.
func (a *app) pinCommand() *cobra.Command {
	var dir bool
	cmd := &cobra.Command{
		Use:   "pin PATH",
		Short: "Print the sha256 that pins the plugin executable at PATH (--dir: its whole directory)",
		Long: `Print the sha256 to put in the config to pin the plugin executable at PATH:
authx then refuses to run it (exit 9) once it changed.

Without --dir, the pin covers the executable alone (what sha256sum prints):
enough for a Go plugin, a single static binary. A plugin in Python or Node
loads modules from beside its entry script, which such a pin does not
cover; pin it with --dir and 'pin: dir' in the config: the sha256 then
covers every file under the directory of PATH (symbolic links resolved),
by a manifest of their paths, modes and contents:

  plugins:
    apikey:
      path: ~/.local/share/authx/apikey/authx-plugin-apikey
      sha256: <authx plugins pin --dir PATH>
      pin: dir

Nothing is run. See docs/writing-a-plugin.md for what a pin covers.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fi, err := os.Stat(args[0]); err == nil && fi.IsDir() {
				return core.Errorf(core.KindConfig, "%s is a directory: give the plugin's executable (with --dir the pin covers its whole directory)", args[0])
			}
			if !dir {
				sum, err := host.FileDigest(args[0])
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, sum)
				return nil
			}
			root, err := host.PluginDir(args[0])
			if err != nil {
				return err
			}
			sum, n, err := host.DirDigest(root)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, sum)
			a.notice("the pin covers %d entries under %s; use it with pin: dir", n, root)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dir, "dir", false, "pin every file in the directory of PATH (for a plugin in Python, Node, ...)")
	return cmd
}

// pluginTest is what `authx plugins test` was given.
type pluginTest struct {
	path, config, answers, url string
}

// testPlugin runs the conformance kit and prints its table. A failed check
// is a plugin failure (exit 6).
func (a *app) testPlugin(ctx context.Context, t pluginTest) error {
	o := plugintest.Options{Path: t.path, URL: t.url, Logger: a.log().Named("plugin")}
	if t.config != "" {
		raw, err := readMapFile("--config", t.config)
		if err != nil {
			return err
		}
		if o.Config, err = a.resolveSecrets(ctx, t.path, t.config, raw); err != nil {
			return err
		}
	}
	if t.answers != "" {
		var err error
		if o.Answers, err = readAnswers(t.answers); err != nil {
			return err
		}
	}
	report := plugintest.Run(ctx, o)
	report.WriteTable(a.stdout)
	failed := 0
	for _, r := range report {
		if r.Status == plugintest.Fail {
			failed++
		}
	}
	if failed > 0 {
		return core.Errorf(core.KindPlugin, "%d of %d checks failed", failed, len(report))
	}
	return nil
}

// resolveSecrets resolves the secret references in the fields the plugin
// at path marks secret, as a session does for a profile, without prompting.
// The plugin is started only when raw holds a reference. When it cannot be
// started or described, raw is returned as is: the checks report why.
func (a *app) resolveSecrets(ctx context.Context, path, file string, raw map[string]any) (map[string]any, error) {
	if !hasRef(raw) {
		return raw, nil
	}
	d, err := a.describeAt(ctx, path)
	if err != nil {
		return raw, nil
	}
	resolver := &secret.Resolver{}
	cfg := make(map[string]any, len(raw))
	for k, v := range raw {
		if f, ok := d.Field(k); ok && f.Secret {
			r, err := resolver.ResolveTree(ctx, v)
			if err != nil {
				return nil, core.Wrap(core.KindOf(err), err, fmt.Sprintf("--config %s: %s", file, k))
			}
			v = r
		}
		cfg[k] = v
	}
	return cfg, nil
}

// describeAt starts the plugin at path once for its description.
func (a *app) describeAt(ctx context.Context, path string) (core.Description, error) {
	scheme := strings.TrimPrefix(filepath.Base(path), host.BinaryPrefix)
	if !host.ValidSchemeName(scheme) {
		scheme = "plugin" // the host needs a name; the checks compare the real one
	}
	p, err := a.plugins().Start(ctx, host.Spec{Scheme: scheme, Path: path})
	if err != nil {
		return core.Description{}, err
	}
	defer p.Kill()
	return p.Describe(ctx)
}

// hasRef reports whether a string inside v is a secret reference.
func hasRef(v any) bool {
	switch t := v.(type) {
	case string:
		return secret.IsRef(t)
	case map[string]any:
		for _, e := range t {
			if hasRef(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasRef(e) {
				return true
			}
		}
	}
	return false
}

// readMapFile reads a YAML or JSON map (JSON is YAML); flag names the
// option for messages.
func readMapFile(flag, path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, core.Wrap(core.KindConfig, err, flag)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, core.Errorf(core.KindConfig, "%s %s: not a YAML or JSON map: %s", flag, path, strings.Join(strings.Fields(err.Error()), " "))
	}
	return m, nil
}

// readAnswers reads the --answers file: prompt id → answer; numbers and
// booleans are taken as written.
func readAnswers(path string) (map[string]string, error) {
	m, err := readMapFile("--answers", path)
	if err != nil {
		return nil, err
	}
	answers := make(map[string]string, len(m))
	for id, v := range m {
		switch v.(type) {
		case map[string]any, []any, nil:
			return nil, core.Errorf(core.KindConfig, "--answers %s: %s: an answer is a string", path, id)
		}
		answers[id] = fmt.Sprint(v)
	}
	return answers, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeDescription(w io.Writer, path string, d core.Description) {
	fmt.Fprintf(w, "%s %s — %s\n", d.Name, d.Version, d.Summary)
	fmt.Fprintf(w, "path: %s\nprotocol: v%d.%d\n", path, protocolMajor, d.ProtocolMinor)
	c := d.Capabilities
	var caps []string
	for _, kv := range []struct {
		on   bool
		name string
	}{{c.Login, "login"}, {c.Refresh, "refresh"}, {c.Apply, "apply"}, {c.HandleChallenge, "handle_challenge"}, {c.Logout, "logout"}, {c.Actions, "actions"}, {c.LoginChallenge, "login_challenge"}} {
		if kv.on {
			caps = append(caps, kv.name)
		}
	}
	fmt.Fprintf(w, "capabilities: %s\n", strings.Join(caps, ", "))
	if len(d.Config) > 0 {
		fmt.Fprintln(w, "\nconfig:")
		writeFields(w, d.Config)
	}
	if len(d.Actions) > 0 {
		fmt.Fprintln(w, "\nactions:")
		for _, act := range d.Actions {
			fmt.Fprintf(w, "  authx %s %s %s\n      %s\n", d.Name, act.Name, act.Usage, act.Summary)
		}
	}
}

func writeFields(w io.Writer, fs []core.Field) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range fs {
		var attrs []string
		if f.Required {
			attrs = append(attrs, "required")
		}
		if f.Secret {
			attrs = append(attrs, "secret")
		}
		if f.Default != nil {
			attrs = append(attrs, fmt.Sprintf("default %v", f.Default))
		}
		if len(f.Enum) > 0 {
			attrs = append(attrs, "one of "+strings.Join(f.Enum, "|"))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Name, f.Type, strings.Join(attrs, ", "), f.Help)
	}
	tw.Flush()
}
