package main

import (
	"context"

	"github.com/authx/authx/core/agent"
	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/config"
)

// fromAgent asks the agent at $AUTHX_AGENT_SOCK, when one runs, for p's
// credential (the profile is store: memory, or the file cache has no fresh
// credential) and reports whether the agent served it from what it held.
// Anything short of a credential (no agent, a socket that is not this
// user's agent's, a miss, an error) gives nil: the full CLI's, which asks
// the agent again and explains.
func fromAgent(cfg *config.File, p *config.Profile, getenv func(string) string) (*core.Credential, bool) {
	sock := getenv(agent.EnvSock)
	if sock == "" || cfg.Path == "" {
		return nil, false
	}
	req := &agent.Request{Op: agent.OpCredential, Config: cfg.Path, Profile: p.Name, Identity: agent.IdentityDigest(p.Identity())}
	resp, err := (&agent.Client{Socket: sock}).Do(context.Background(), req)
	if err != nil || resp.Error != nil || resp.Miss != "" || resp.Credential == nil {
		return nil, false
	}
	return resp.Credential, resp.Source == "cache"
}
