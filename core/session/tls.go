package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/tlsconfig"
)

// TLS returns the profile's TLS settings for the requests authx itself
// makes for it (authx request, the wrappers' probe, curl's and wget's
// settings): the config fields ca_file, client_cert and client_key, read
// and parsed once per Session; nil when the profile sets none.
//
// The names are fixed: the host reads them from the profile's config
// whatever its scheme, without starting the plugin, so a cached credential
// costs no plugin process. A scheme opts in by declaring the three fields
// (client_key secret); one that does not refuses them as unknown keys when
// its plugin checks the config. client_key's secret reference is resolved
// by the session's Resolver once: ResolvedConfig reuses the value, so a
// cmd: runs and a prompt: asks only once.
func (s *Session) TLS(ctx context.Context) (*tlsconfig.Loaded, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsDone {
		return s.tls, s.tlsErr
	}
	s.tls, s.tlsErr = s.loadTLS(ctx)
	s.tlsDone = s.tlsErr == nil || core.KindOf(s.tlsErr) == core.KindConfig
	return s.tls, s.tlsErr
}

// loadTLS reads the three fields; s.mu is held.
func (s *Session) loadTLS(ctx context.Context) (*tlsconfig.Loaded, error) {
	raw := core.Config(s.Profile.Config)
	cfg := core.Config{}
	for _, k := range []string{tlsconfig.CAFileField, tlsconfig.ClientCertField, tlsconfig.ClientKeyField} {
		v, ok := raw[k]
		if !ok {
			continue
		}
		if _, isString := v.(string); !isString {
			return nil, s.tlsError(core.Errorf(core.KindConfig, "%s: must be a string", k))
		}
		cfg[k] = v
	}
	if len(cfg) == 0 {
		return nil, nil
	}
	if _, ok := cfg[tlsconfig.ClientKeyField]; ok {
		key, err := s.secretField(ctx, tlsconfig.ClientKeyField)
		if err != nil {
			return nil, err
		}
		cfg[tlsconfig.ClientKeyField] = key
	}
	st, err := tlsconfig.FromConfig(cfg)
	if err != nil {
		return nil, s.tlsError(err)
	}
	l, err := st.Load()
	if err != nil {
		return nil, s.tlsError(err)
	}
	return l, nil
}

// secretField resolves the secret reference of the profile's config field
// k: the value ResolvedConfig already resolved, else resolved now and kept
// for ResolvedConfig. The value joins the log's secrets. s.mu is held.
func (s *Session) secretField(ctx context.Context, k string) (any, error) {
	if s.resolved != nil {
		return s.resolved[k], nil
	}
	if v, ok := s.early[k]; ok {
		return v, nil
	}
	v, err := s.Secrets.ResolveTree(ctx, s.Profile.Config[k])
	if err != nil {
		return nil, core.Prefix(s.where("config."+k), err, core.KindConfig)
	}
	if s.early == nil {
		s.early = map[string]any{}
	}
	s.early[k] = v
	if str, ok := v.(string); ok {
		set := redact.New()
		set.Add(str)
		s.LogMask.Add(set)
	}
	return v, nil
}

// tlsError puts where the profile is before err's "field: message".
func (s *Session) tlsError(err error) error {
	var e *core.Error
	if !errors.As(err, &e) {
		return err
	}
	where := fmt.Sprintf("config %s: profiles.%s.config.", s.ConfigFile, s.Profile.Name)
	if s.ConfigFile == "" {
		where = "--set "
	}
	return &core.Error{Kind: e.Kind, Msg: where + e.Msg, Err: e.Err}
}
