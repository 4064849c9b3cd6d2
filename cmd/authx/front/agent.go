package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/authx/authx/cmd/authx/internal/render"
	"github.com/authx/authx/core/agent"
	"github.com/authx/authx/core/config"
)

// serveAgent answers r from the agent at $AUTHX_AGENT_SOCK when one runs:
// the profile is store: memory, or the file cache has no fresh credential.
// It reports whether it printed; anything short of an answer to print (no
// agent, a socket that is not this user's agent's, a miss, an error) is
// the full CLI's, which asks the agent again and explains.
func serveAgent(r request, cfg *config.File, p *config.Profile, stdout io.Writer, getenv func(string) string) bool {
	sock := getenv(agent.EnvSock)
	if sock == "" || cfg.Path == "" {
		return false
	}
	req := &agent.Request{Op: agent.OpCredential, Config: cfg.Path, Profile: p.Name, Identity: agent.IdentityDigest(p.Identity())}
	resp, err := (&agent.Client{Socket: sock}).Do(context.Background(), req)
	if err != nil || resp.Error != nil || resp.Miss != "" || resp.Credential == nil {
		return false
	}
	c := resp.Credential
	if c.PerRequest || !inCredentialScope(r.url, c) {
		return false
	}
	switch {
	case r.idToken && c.IDToken != "":
		fmt.Fprintln(stdout, c.IDToken)
	case r.idToken:
		return false
	case r.command == "token" && c.Token != "":
		fmt.Fprintln(stdout, c.Token)
	case r.command == "header" && slices.Contains(render.Formats, r.format):
		render.Headers(stdout, r.format, p.Name, p.Scheme, c, resp.Source == "cache")
	default:
		return false
	}
	return true
}
