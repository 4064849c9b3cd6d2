package session

import (
	"context"
	"errors"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
)

// The session's side of the authx agent (docs/agent.md): with Agent set,
// a session of a profile from a config file asks the agent for the
// credential when its file cache has no fresh one (at once for a store:
// memory profile), and for signatures before its plugin. When
// no agent runs it goes on silently as without one; when the socket is
// not this user's agent's, it warns once and goes on without it.

// agentRequest names the session's profile to the agent.
func (s *Session) agentRequest(op string) *agent.Request {
	return &agent.Request{Op: op, Config: s.ConfigFile, Profile: s.Profile.Name, Identity: agent.IdentityDigest(s.Profile.Identity())}
}

// askAgent sends req when the session has an agent; ok is false when the
// session must do without (no agent, an untrusted one, a miss), and err is
// an error the agent reported, which the caller returns as its own.
func (s *Session) askAgent(ctx context.Context, req *agent.Request) (resp *agent.Response, ok bool, err error) {
	if s.Agent == nil || s.ConfigFile == "" {
		return nil, false, nil
	}
	defer func() {
		if !ok && err == nil && s.inMemory() && !s.memNoticed.Swap(true) {
			s.log().Debug("store: memory without an agent: the credential is not cached, this process logs in", "profile", s.Profile.Name)
		}
	}()
	resp, err = s.Agent.Do(ctx, req)
	var untrusted *agent.UntrustedError
	switch {
	case errors.Is(err, agent.ErrNoAgent):
		s.log().Debug("no agent at "+agent.EnvSock+"; going on without it", "socket", s.Agent.Socket)
		return nil, false, nil
	case errors.As(err, &untrusted):
		if !s.agentWarned.Swap(true) {
			s.warn("%s; going on without it", err)
		}
		return nil, false, nil
	case err != nil:
		if !s.agentWarned.Swap(true) {
			s.warn("the authx agent did not answer (%s); going on without it", oneLine(err.Error()))
		}
		return nil, false, nil
	case resp.Miss != "":
		s.log().Debug("the agent cannot serve this; going on without it", "profile", s.Profile.Name, "reason", resp.Miss)
		return nil, false, nil
	case resp.Error != nil:
		return nil, false, resp.Error.Err()
	}
	return resp, true, nil
}

// fromAgent asks the agent for the profile's credential when m is
// modeUse (a renewal or a login is the caller's).
func (s *Session) fromAgent(ctx context.Context, m mode) (*Result, bool, error) {
	if m != modeUse {
		return nil, false, nil
	}
	resp, ok, err := s.askAgent(ctx, s.agentRequest(agent.OpCredential))
	if !ok || err != nil {
		return nil, ok, err
	}
	if resp.Credential == nil {
		return nil, false, core.Errorf(core.KindInternal, "the authx agent answered without a credential")
	}
	src := FromCache
	switch resp.Source {
	case Refreshed.String():
		src = Refreshed
	case LoggedIn.String():
		src = LoggedIn
	}
	s.log().Debug("credential served by the agent", "profile", s.Profile.Name, "source", src.String())
	return &Result{Credential: resp.Credential, Source: src}, true, nil
}

// signByAgent asks the agent to sign req.
func (s *Session) signByAgent(ctx context.Context, req core.HTTPRequest) ([]core.Header, bool, error) {
	ar := s.agentRequest(agent.OpApply)
	ar.Request = &agent.SignRequest{Method: req.Method, URL: req.URL, Header: req.Header, BodySHA256: req.BodySHA256}
	resp, ok, err := s.askAgent(ctx, ar)
	if !ok || err != nil {
		return nil, ok, err
	}
	return resp.Headers, true, nil
}

// putToAgent hands the agent a store: memory profile's credential this
// process obtained (an interactive login, a renewal after a refusal).
func (s *Session) putToAgent(ctx context.Context, cred *core.Credential) {
	req := s.agentRequest(agent.OpPut)
	req.Credential = cred
	if _, ok, err := s.askAgent(ctx, req); ok && err == nil {
		s.log().Debug("credential handed to the agent", "profile", s.Profile.Name)
	}
}

// StopPlugin makes the session forget its plugin process, so that the
// next call starts another, and returns the function that kills it,
// which the caller may run later, outside its own locks (go-plugin gives
// a plugin up to 2 s to exit). It returns a no-op when none runs.
func (s *Session) StopPlugin() (kill func()) {
	if p := s.plugin.Swap(nil); p != nil {
		return p.Kill
	}
	return func() {}
}
