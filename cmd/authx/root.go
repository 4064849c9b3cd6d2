package main

import (
	"os"

	"github.com/authx/authx/core/config"
	"github.com/spf13/cobra"
)

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "authx",
		Short: "Credentials for scripted HTTP clients",
		Long: `authx hands the right credentials to scripts. It logs in through
authentication-scheme plugins (basic, jwt, jenkins, digest, exec, or your own),
caches what they return safely across processes, refreshes it before it
expires, and prints tokens and headers for curl, wget and any other program;
schemes that sign every request reach any program through 'authx proxy'.

  authx header --scheme basic --set username=alice --set password=env:PW
  authx token work                 # a profile from ~/.config/authx/config.yaml
  authx header --url https://ci.example.com/job/x/build
  authx request ci POST /job/deploy/build
  authx curl work -- -sS https://api.example.com/v1/items

Plugins add their own commands, 'authx SCHEME ACTION' (e.g. 'authx jwt
decode TOKEN', 'authx jenkins whoami -p ci'); 'authx plugins describe SCHEME'
lists them. The global flags go before or after any command, theirs too
('authx --log-level debug jenkins whoami -p ci').

Exit codes: see 'authx help exit-codes'. Docs: docs/ in the source tree.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		// The log level is checked before any command runs, also where no
		// config file is read (--scheme): a typo must not silence the log.
		PersistentPreRunE: func(*cobra.Command, []string) error {
			for _, src := range [][2]string{{"--log-level", a.logLevel}, {"AUTHX_LOG", os.Getenv("AUTHX_LOG")}, {"AUTHX_LOG_LEVEL", os.Getenv("AUTHX_LOG_LEVEL")}} {
				if err := config.CheckLogLevel(src[0], src[1]); err != nil {
					return err
				}
			}
			return nil
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "config `FILE` (default $AUTHX_CONFIG, else $XDG_CONFIG_HOME/authx/config.yaml)")
	pf.StringVar(&a.logLevel, "log-level", "", "log to stderr at `LEVEL`: off, error, warn, info, debug, trace (default $AUTHX_LOG, else off)")
	pf.BoolVar(&a.noInput, "no-input", false, "never prompt or open a browser; fail with exit code 3 when a login needs the user (also AUTHX_NO_INPUT=1, or CI=true)")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "print no notices on stderr (errors still go there)")

	root.AddCommand(
		a.tokenCommand(),
		a.headerCommand(),
		a.requestCommand(),
		a.curlCommand(),
		a.wgetCommand(),
		a.execCommand(),
		a.proxyCommand(),
		a.loginCommand(),
		a.logoutCommand(),
		a.statusCommand(),
		a.profilesCommand(),
		a.pluginsCommand(),
		a.configCommand(),
		a.versionCommand(),
		a.agentCommand(),
		a.gitCredentialCommand(),
		a.goauthCommand(),
		a.kubeCredentialCommand(),
		a.dockerCredentialCommand(),
		a.secretCommand(),
		exitCodesCommand(),
	)
	return root
}
