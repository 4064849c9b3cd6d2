package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/secret"
)

// withSchemeCommands adds `authx <scheme> <action>` for a plugin-defined
// action when the first word of args is no built-in command but names an
// installed plugin. Only then is the plugin looked up, so other commands pay
// nothing for it. authx's global flags are read first, wherever they are
// (`authx --log-level debug jenkins whoami -p ci`, `--config` after the
// action): finding the plugin loads the config and builds the logger.
func (a *app) withSchemeCommands(root *cobra.Command, args []string) []string {
	words := a.globalFlags(root, args)
	if len(words) == 0 || !host.ValidSchemeName(words[0]) {
		return args
	}
	if c, _, err := root.Find(words[:1]); err == nil && c != root {
		return args
	}
	scheme := words[0]
	if _, err := a.loadConfig(); err != nil {
		root.AddCommand(failingCommand(scheme, err)) // a config error, not "unknown command"
		return args
	}
	spec := a.pluginSpec(scheme)
	if _, err := a.plugins().Locate(spec); err != nil {
		return args
	}
	root.AddCommand(a.schemeCommand(spec))
	return args
}

// globalFlags parses root's persistent flags (--config, --log-level,
// --no-input, --quiet) out of args into a, ahead of cobra (which parses
// them again, to the same values), and returns the other words. Flags it
// does not know are skipped, with their value when one follows. It returns
// nil when args do not parse; cobra then reports why.
func (a *app) globalFlags(root *cobra.Command, args []string) []string {
	fs := pflag.NewFlagSet("authx", pflag.ContinueOnError)
	fs.ParseErrorsWhitelist.UnknownFlags = true
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.AddFlagSet(root.PersistentFlags())
	fs.BoolP("help", "h", false, "") // so that --help is no parse error
	if fs.Parse(args) != nil {
		return nil
	}
	return fs.Args()
}

// globalFlagNames are the root's persistent flags (and help): an action
// flag of one of these names is not added, since globalFlags takes them as
// authx's own.
var globalFlagNames = map[string]bool{"config": true, "log-level": true, "no-input": true, "quiet": true, "help": true}

// failingCommand stands for `authx <scheme> ...` when it cannot be built:
// it fails with err, whatever its arguments.
func failingCommand(scheme string, err error) *cobra.Command {
	return &cobra.Command{
		Use:                scheme,
		Args:               cobra.ArbitraryArgs,
		DisableFlagParsing: true,
		RunE:               func(*cobra.Command, []string) error { return err },
	}
}

func (a *app) schemeCommand(spec host.Spec) *cobra.Command {
	cmd := &cobra.Command{
		Use:   spec.Scheme + " ACTION",
		Short: fmt.Sprintf("Actions of the %s plugin", spec.Scheme),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	d, _, err := a.plugins().Describe(a.ctx, spec)
	if err != nil {
		return failingCommand(spec.Scheme, err)
	}
	cmd.Long = fmt.Sprintf("%s %s — %s", d.Name, d.Version, d.Summary)
	for _, act := range d.Actions {
		cmd.AddCommand(a.actionCommand(spec, act))
	}
	return cmd
}

func (a *app) actionCommand(spec host.Spec, act core.Action) *cobra.Command {
	var t target
	flags := map[string]*string{}
	cmd := &cobra.Command{
		Use:   strings.TrimSpace(act.Name + " " + act.Usage),
		Short: act.Summary,
		RunE: func(cmd *cobra.Command, args []string) error {
			req := core.ActionRequest{Action: act.Name, Args: args, Flags: map[string]string{}}
			for name, v := range flags {
				if cmd.Flags().Changed(name) {
					req.Flags[name] = *v
				}
			}
			for _, arg := range args {
				if arg == "-" {
					in, err := io.ReadAll(io.LimitReader(a.stdin, 16<<20))
					if err != nil {
						return core.Wrap(core.KindConfig, err, "reading standard input")
					}
					req.Stdin = in
					break
				}
			}
			if err := a.resolveSecretFlags(cmd, act, req.Flags); err != nil {
				return err
			}
			res, err := a.runAction(cmd, spec, act, &t, req)
			if err != nil {
				return err
			}
			a.stdout.Write(res.Stdout)
			a.stderr.Write(res.Stderr)
			if res.ExitCode != 0 {
				return &exitError{code: res.ExitCode}
			}
			return nil
		},
	}
	for _, f := range act.Flags {
		if globalFlagNames[f.Name] {
			continue // authx's own, wherever it stands (see globalFlags)
		}
		def := ""
		if f.Default != nil {
			def = fmt.Sprint(f.Default)
		}
		flags[f.Name] = cmd.Flags().String(f.Name, def, f.Help)
	}
	if act.NeedsProfile || act.AcceptsProfile {
		cmd.Flags().StringVarP(&t.profile, "profile", "p", "", "run with `PROFILE`'s config and cached credential")
		t.addFlags(cmd)
	}
	return cmd
}

// resolveSecretFlags replaces the secret references (env:, file:, cmd:,
// prompt:) of the action's secret flags by their values, as for a profile's
// secret fields: the plugin runs with a minimal environment and never sees
// the reference's source.
func (a *app) resolveSecretFlags(cmd *cobra.Command, act core.Action, flags map[string]string) error {
	r := &secret.Resolver{Interactive: a.interactive(), Prompt: secret.TTYPrompt}
	for _, f := range act.Flags {
		v, ok := flags[f.Name]
		if !ok || !f.Secret {
			continue
		}
		resolved, err := r.Resolve(cmd.Context(), v)
		if err != nil {
			return core.Prefix("--"+f.Name, err, core.KindConfig)
		}
		flags[f.Name] = resolved
	}
	return nil
}

// runAction runs an action in the scheme's plugin, with a profile's resolved
// config and cached credential when the action needs one.
func (a *app) runAction(cmd *cobra.Command, spec host.Spec, act core.Action, t *target, req core.ActionRequest) (core.ActionResult, error) {
	named := t.scheme != "" || t.profile != "" || t.url != "" || act.NeedsProfile && os.Getenv("AUTHX_PROFILE") != ""
	if !act.NeedsProfile && !(act.AcceptsProfile && named) {
		p, err := a.plugins().Start(cmd.Context(), spec)
		if err != nil {
			return core.ActionResult{}, err
		}
		defer p.Kill()
		return p.RunAction(cmd.Context(), req)
	}
	if !named {
		return core.ActionResult{}, core.Errorf(core.KindConfig, "%s %s needs a profile: give --profile, --url or --scheme with --set", spec.Scheme, act.Name)
	}
	s, err := a.session(t)
	if err != nil {
		return core.ActionResult{}, err
	}
	if s.Profile.Scheme != spec.Scheme {
		return core.ActionResult{}, core.Errorf(core.KindConfig, "profile %q uses scheme %q, not %q", s.Profile.Name, s.Profile.Scheme, spec.Scheme)
	}
	p, _, err := s.Plugin(cmd.Context())
	if err != nil {
		return core.ActionResult{}, profileErr(s.Profile.Name, err)
	}
	cfg, err := s.ResolvedConfig(cmd.Context())
	if err != nil {
		return core.ActionResult{}, profileErr(s.Profile.Name, err)
	}
	req.Config, req.URL = cfg, s.Profile.BaseURL()
	if e := s.Cached(); e != nil && s.Fresh(e) {
		req.Credential = &e.Credential
	}
	res, err := p.RunAction(cmd.Context(), req)
	return res, profileErr(s.Profile.Name, s.ScrubError(err))
}
