package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/core/session"
)

const (
	protocolMajor = pluginrpc.ProtocolMajor
	protocolMinor = pluginrpc.ProtocolMinor
)

// pluginSpec is the plugin of scheme as the config names it.
func (a *app) pluginSpec(scheme string) host.Spec {
	if a.cfg == nil {
		return host.Spec{Scheme: scheme}
	}
	return session.PluginSpec(a.cfg, scheme)
}

func (a *app) pluginsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "plugins", Short: "List and describe installed scheme plugins"}
	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the plugins found in the plugin directories",
		Long: `List the plugins found in the plugin directories, in search order:
AUTHX_PLUGIN_PATH, $XDG_DATA_HOME/authx/plugins, and the directory of the authx
executable. Descriptions are cached by (path, size, mtime, inode), so a plugin
is started only when its binary changed.`,
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
				Error   string `json:"error,omitempty"`
			}
			rows := []row{}
			for _, spec := range h.Installed() {
				d, path, err := h.Describe(cmd.Context(), spec)
				r := row{Scheme: spec.Scheme, Version: d.Version, Path: spec.Path, Summary: d.Summary}
				if path != "" {
					r.Path = path
				}
				if err != nil {
					r.Error = oneLine(err.Error())
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
					summary = "error: " + r.Error
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
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.loadConfig(); err != nil {
				return err
			}
			d, path, err := a.plugins().Describe(cmd.Context(), a.pluginSpec(args[0]))
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
	cmd.AddCommand(list, describe)
	return cmd
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
	}{{c.Login, "login"}, {c.Refresh, "refresh"}, {c.Apply, "apply"}, {c.HandleChallenge, "handle_challenge"}, {c.Logout, "logout"}, {c.Actions, "actions"}} {
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
