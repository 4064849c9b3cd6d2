package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
	"github.com/authx/authx/core/agent/agentd"
	"github.com/authx/authx/core/redact"
)

// agentStartTimeout bounds the wait for a new agent to answer.
const agentStartTimeout = 10 * time.Second

func (a *app) agentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Keep plugins warm and credentials in memory for this user's authx commands",
		Long: `The authx agent, like ssh-agent: one per user, on a Unix socket only that
user can reach. It keeps each profile's plugin process warm (stopped after
--idle without a request), holds store: memory credentials in memory, renews
credentials ahead of their expiry, and serves authx token, header, request
and the wrappers, which find it through $AUTHX_AGENT_SOCK and work as before
when it does not run. See docs/agent.md.

  eval "$(authx agent start)"
  authx agent status
  authx agent stop`,
	}
	cmd.AddCommand(a.agentStartCommand(), a.agentRunCommand(), a.agentStatusCommand(), a.agentStopCommand())
	return cmd
}

// agentFlags are the flags start and run share.
type agentFlags struct {
	socket string
	idle   time.Duration
	log    string
}

func (f *agentFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.socket, "socket", "", "listen at `PATH` (default $XDG_RUNTIME_DIR/authx/agent.sock, else authx-agent-UID/agent.sock in the temporary directory)")
	cmd.Flags().DurationVar(&f.idle, "idle", agentd.DefaultIdle, "stop a profile's plugin after `DURATION` without a request")
	cmd.Flags().StringVar(&f.log, "log", "", "append the agent's log to `FILE` (made 0600); default: no log")
}

func (f *agentFlags) socketPath() string {
	if f.socket != "" {
		return f.socket
	}
	return agent.DefaultSocket(os.Getenv)
}

// clientSocket is the agent status and stop talk to: --socket, else
// $AUTHX_AGENT_SOCK, else the default.
func clientSocket(flag string) string {
	if flag != "" {
		return flag
	}
	if s := os.Getenv(agent.EnvSock); s != "" {
		return s
	}
	return agent.DefaultSocket(os.Getenv)
}

func (a *app) agentStartCommand() *cobra.Command {
	var f agentFlags
	var csh, fish bool
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start this user's agent in the background (or find the running one) and print the shell commands that point authx to it",
		Long: `Start the agent in the background, detached from the terminal, unless
this user's agent already runs, and print the commands that set
AUTHX_AGENT_SOCK, for eval:

  eval "$(authx agent start)"            # sh, bash, zsh
  eval ` + "`authx agent start --csh`" + `             # csh, tcsh
  authx agent start --fish | source      # fish

The agent reads each profile's config file when first asked for it, and
resolves secret references (env:, cmd:) in the environment it was started
in.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if csh && fish {
				return core.Errorf(core.KindConfig, "give --csh or --fish, not both")
			}
			sock, err := filepath.Abs(f.socketPath()) // the agent runs in /
			if err != nil {
				return core.Wrap(core.KindConfig, err, "--socket")
			}
			if !agentd.Running(sock, 2*time.Second) {
				if err := a.spawnAgent(&f, sock); err != nil {
					return err
				}
			}
			fmt.Fprint(a.stdout, setEnvLine(sock, csh, fish))
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&csh, "csh", false, "print csh commands")
	cmd.Flags().BoolVar(&fish, "fish", false, "print fish commands")
	return cmd
}

// setEnvLine is the shell command that sets AUTHX_AGENT_SOCK to sock.
func setEnvLine(sock string, csh, fish bool) string {
	q := shellQuote(sock)
	switch {
	case csh:
		return fmt.Sprintf("setenv %s %s;\n", agent.EnvSock, q)
	case fish:
		return fmt.Sprintf("set -gx %s %s;\n", agent.EnvSock, q)
	}
	return fmt.Sprintf("%s=%s; export %s;\n", agent.EnvSock, q, agent.EnvSock)
}

// shellQuote quotes s for sh, csh and fish alike when it needs quoting.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%,", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// spawnAgent starts `authx agent run` detached (its own session, stdin,
// stdout and stderr on /dev/null) and waits until it answers.
func (a *app) spawnAgent(f *agentFlags, sock string) error {
	self, err := os.Executable()
	if err != nil {
		return core.Wrap(core.KindInternal, err, "finding authx's executable")
	}
	args := []string{"agent", "run", "--socket", sock, "--idle", f.idle.String()}
	if f.log != "" {
		logPath, err := filepath.Abs(f.log)
		if err != nil {
			return core.Wrap(core.KindConfig, err, "--log")
		}
		args = append(args, "--log", logPath)
	}
	if a.logLevel != "" {
		args = append(args, "--log-level", a.logLevel)
	}
	c := exec.Command(self, args...)
	c.SysProcAttr = detached()
	c.Dir = "/"
	if err := c.Start(); err != nil {
		return core.Wrap(core.KindInternal, err, "starting the agent")
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	deadline := time.Now().Add(agentStartTimeout)
	for time.Now().Before(deadline) {
		if agentd.Running(sock, time.Second) {
			return nil
		}
		select {
		case err := <-exited: // another start may have won the race
			if agentd.Running(sock, time.Second) {
				return nil
			}
			hint := "give --log FILE to see why"
			if f.log != "" {
				hint = "see " + f.log
			}
			return core.Errorf(core.KindInternal, "the agent exited at once (%v); %s", err, hint)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return core.Errorf(core.KindTimeout, "the agent did not answer at %s within %s", sock, agentStartTimeout)
}

func (a *app) agentRunCommand() *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent in the foreground (what start runs in the background; for a service manager)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, mask, closeLog, err := a.agentLog(f.log)
			if err != nil {
				return err
			}
			defer closeLog()
			a.logger, a.logMask = logger, mask // the plugins' log lines go there too
			a.loadConfigQuietly()              // plugin_start_timeout, if the default config sets it
			srv := &agentd.Server{Socket: f.socketPath(), Idle: f.idle, Host: a.plugins(), Log: logger, LogMask: mask}
			if err := srv.Listen(); err != nil {
				if errors.Is(err, agentd.ErrRunning) {
					return core.Errorf(core.KindConfig, "an authx agent already runs at %s", srv.Socket)
				}
				return err
			}
			stop := context.AfterFunc(cmd.Context(), srv.Stop)
			defer stop()
			return srv.Serve()
		},
	}
	f.add(cmd)
	return cmd
}

// agentLog returns the agent's logger: to path (0600, appended) when
// given, else to stderr; at --log-level, else info with a file, else off.
func (a *app) agentLog(path string) (hclog.Logger, *redact.Writer, func(), error) {
	var out io.Writer = a.stderr
	closeLog := func() {}
	if path != "" {
		// Not through a symbolic link: the agent would append, for as long
		// as it runs, to whatever file the link's author chose.
		file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow, 0o600)
		if err != nil {
			return nil, nil, nil, core.Wrap(core.KindConfig, err, "--log (a regular file of yours, not a link)")
		}
		if fi, err := file.Stat(); err != nil || !fi.Mode().IsRegular() || !ownedByMe(fi) || fi.Mode().Perm()&0o077 != 0 {
			file.Close()
			return nil, nil, nil, core.Errorf(core.KindConfig, "--log %s: not a regular file of yours that only you may read (mode 0600)", path)
		}
		out, closeLog = file, func() { file.Close() }
	}
	level := hclog.LevelFromString(firstNonEmpty(a.logLevel, os.Getenv("AUTHX_LOG"), os.Getenv("AUTHX_LOG_LEVEL")))
	if level == hclog.NoLevel {
		level = hclog.Off
		if path != "" {
			level = hclog.Info
		}
	}
	if level == hclog.Off { // no mask to feed on every request
		return hclog.NewNullLogger(), nil, closeLog, nil
	}
	mask := redact.NewWriter(out)
	return hclog.New(&hclog.LoggerOptions{Name: "authx-agent", Output: mask, Level: level}), mask, closeLog, nil
}

func (a *app) agentStatusCommand() *cobra.Command {
	var socket string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the agent's pid, socket, the profiles it serves with their expiry and their warm plugins (never a secret)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := askAgent(cmd.Context(), clientSocket(socket), agent.OpStatus)
			if err != nil {
				return err
			}
			st := resp.Status
			if st == nil {
				return core.Errorf(core.KindBadAnswer, "the agent answered without its status")
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			fmt.Fprintf(a.stdout, "agent pid %d, socket %s, up %s, plugins stop after %s idle\n", st.PID, st.Socket, time.Since(st.Started).Round(time.Second), st.Idle)
			if len(st.Profiles) == 0 {
				fmt.Fprintln(a.stdout, "no profiles served yet")
				return nil
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tSCHEME\tSTORE\tEXPIRES\tPLUGIN\tCONFIG")
			for _, p := range st.Profiles {
				exp, plugin := "-", "-"
				if !p.ExpiresAt.IsZero() {
					exp = p.ExpiresAt.Local().Format(time.DateTime)
				}
				if p.PluginPID != 0 {
					plugin = fmt.Sprintf("pid %d", p.PluginPID)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Profile, p.Scheme, p.Store, exp, plugin, p.Config)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "the agent at `PATH` (default $AUTHX_AGENT_SOCK, else this user's default socket)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) agentStopCommand() *cobra.Command {
	var socket string
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the agent: its plugins are killed and its credentials forgotten; prints the command that unsets AUTHX_AGENT_SOCK",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sock := clientSocket(socket)
			st, err := askAgent(cmd.Context(), sock, agent.OpStatus)
			if err != nil {
				if core.KindOf(err) == core.KindNetwork {
					a.notice("no authx agent runs at %s", sock)
					fmt.Fprintf(a.stdout, "unset %s;\n", agent.EnvSock)
					return nil
				}
				return err
			}
			if _, err := askAgent(cmd.Context(), sock, agent.OpStop); err != nil {
				return err
			}
			// Stopped once the socket is gone: the plugins are killed before.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if _, err := os.Lstat(sock); err != nil {
					a.notice("agent pid %d stopped", st.Status.PID)
					fmt.Fprintf(a.stdout, "unset %s;\n", agent.EnvSock)
					return nil
				}
			}
			return core.Errorf(core.KindTimeout, "the agent (pid %d) did not stop within 10s", st.Status.PID)
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "the agent at `PATH` (default $AUTHX_AGENT_SOCK, else this user's default socket)")
	return cmd
}

// askAgent sends op to the agent at sock; no agent is a KindNetwork error.
func askAgent(ctx context.Context, sock, op string) (*agent.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := (&agent.Client{Socket: sock}).Do(ctx, &agent.Request{Op: op})
	switch {
	case errors.Is(err, agent.ErrNoAgent):
		return nil, core.Errorf(core.KindNetwork, "no authx agent runs at %s (start one: eval \"$(authx agent start)\")", sock)
	case err != nil:
		return nil, core.Wrap(core.KindNetwork, err, "the authx agent")
	case resp.Error != nil:
		return nil, resp.Error.Err()
	}
	return resp, nil
}
