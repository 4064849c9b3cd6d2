package main

import (
	"bytes"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/keystore"
	"github.com/authx/authx/core/secret"
)

// secretCommand is `authx secret set|delete SERVICE/ACCOUNT`: it puts a
// secret in the OS keyring, where a keyring:SERVICE/ACCOUNT reference
// reads it. The secret never comes from the command line.
func (a *app) secretCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Keep a secret in the OS keyring for keyring:SERVICE/ACCOUNT references",
	}
	// A secret typed as a flag's value by mistake (--stdin=SECRET) is not
	// echoed in the usage error.
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return core.Errorf(core.KindConfig, "a flag of %q was given a value it does not take (not shown: it may be the secret); see '%s --help'", c.CommandPath(), c.CommandPath())
	})
	var fromStdin bool
	set := &cobra.Command{
		Use:   "set SERVICE/ACCOUNT",
		Short: "Store a secret in the OS keyring, typed at the terminal without echo (or --stdin)",
		Long: `Store a secret in the OS keyring (Secret Service, macOS Keychain, Windows
Credential Manager) under SERVICE and ACCOUNT, for a profile's
keyring:SERVICE/ACCOUNT reference. The secret is typed at the terminal,
twice, without echo; with --stdin it is read from standard input (one
trailing newline removed), for scripts. It is never taken from the
command line. An existing item is replaced.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return core.Errorf(core.KindConfig, "authx secret set takes SERVICE/ACCOUNT only: the secret is never taken from the command line (type it, or pipe it with --stdin)")
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			service, account, err := secret.KeyringName(args[0])
			if err != nil {
				return core.Prefix(args[0], err, core.KindConfig)
			}
			value, err := a.readSecret(cmd, args[0], fromStdin)
			if err != nil {
				return err
			}
			if err := keystore.New(service).Set(account, value); err != nil {
				return keyringErr(err)
			}
			a.notice("stored keyring:%s", args[0])
			return nil
		},
	}
	set.Flags().BoolVar(&fromStdin, "stdin", false, "read the secret from standard input instead of the terminal")
	del := &cobra.Command{
		Use:   "delete SERVICE/ACCOUNT",
		Short: "Remove a secret from the OS keyring",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			service, account, err := secret.KeyringName(args[0])
			if err != nil {
				return core.Prefix(args[0], err, core.KindConfig)
			}
			k := keystore.New(service)
			if _, err := k.Get(account); errors.Is(err, keystore.ErrNotFound) {
				a.notice("keyring:%s was not in the keyring", args[0])
				return nil
			}
			if err := k.Delete(account); err != nil {
				return keyringErr(err)
			}
			a.notice("removed keyring:%s", args[0])
			return nil
		},
	}
	cmd.AddCommand(set, del)
	return cmd
}

// readSecret reads the secret for name from stdin (fromStdin) or the
// terminal, typed twice.
func (a *app) readSecret(cmd *cobra.Command, name string, fromStdin bool) ([]byte, error) {
	if fromStdin {
		data, err := io.ReadAll(io.LimitReader(a.stdin, secret.MaxSize+3))
		if err != nil {
			return nil, core.Wrap(core.KindConfig, err, "reading the secret from stdin")
		}
		data = bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r"))
		return checkSecret(data)
	}
	if !a.interactive() {
		return nil, core.Errorf(core.KindLoginRequired, "authx secret set reads the secret from the terminal, and this run has none (or --no-input, CI=true); pipe it with --stdin")
	}
	first, err := secret.TTYPrompt(cmd.Context(), "Secret for "+name+": ")
	if err != nil {
		return nil, err
	}
	again, err := secret.TTYPrompt(cmd.Context(), "Again: ")
	if err != nil {
		return nil, err
	}
	if first != again {
		return nil, core.Errorf(core.KindConfig, "the two secrets differ; nothing stored")
	}
	return checkSecret([]byte(first))
}

func checkSecret(b []byte) ([]byte, error) {
	switch {
	case len(b) == 0:
		return nil, core.Errorf(core.KindConfig, "the secret is empty; nothing stored")
	case len(b) > secret.MaxSize:
		return nil, core.Errorf(core.KindConfig, "the secret is larger than 64 KiB; nothing stored")
	}
	return b, nil
}

// keyringErr classifies an error of the keyring: KindKeyring.
func keyringErr(err error) error {
	return core.Errorf(core.KindKeyring, "%s", oneLine(err.Error()))
}
