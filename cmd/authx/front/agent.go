package main

import (
	"context"

	"github.com/authx/authx/core/agent"
	core "github.com/authx/authx/core/base"
	config "github.com/authx/authx/core/config/profiles" // the config's types, without its parsers
	"github.com/authx/authx/core/config/snapshot"
)

// fromAgent asks the agent at $AUTHX_AGENT_SOCK, when one runs, for p's
// credential (the profile is store: memory, or the file cache has no fresh
// credential) and reports whether the agent served it from what it held.
// Anything short of a credential (no agent, a socket that is not this
// user's agent's, a miss, an error) gives nil: the full CLI's, which asks
// the agent again and explains.
func fromAgent(cfg *snapshot.Snapshot, p *config.Profile, getenv func(string) string) (*core.Credential, bool) {
	sock := getenv(agent.EnvSock)
	sp := cfg.Profile(p.Name)
	if sock == "" || sp == nil {
		return nil, false
	}
	req := &agent.Request{Op: agent.OpCredential, Config: cfg.Key.Config, Profile: p.Name, Identity: sp.Agent} // the snapshot's digest of p.Identity()
	resp, err := (&agent.Client{Socket: sock}).Do(context.Background(), req)
	if err != nil || resp.Error != nil || resp.Miss != "" || resp.Credential == nil {
		return nil, false
	}
	return resp.Credential, resp.Source == "cache"
}
