package jwt

import (
	"net/url"
	"strings"

	"github.com/authx/authx/core"
)

// The token exchange grant (RFC 8693).
const (
	grantExchange       = "token_exchange" // the grant key's value
	grantTypeExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccess     = "urn:ietf:params:oauth:token-type:access_token"
	exchangeOnlyMessage = "is for grant token_exchange, but grant is %s"
)

// exchangeKeys are the keys only the token_exchange grant reads.
var exchangeKeys = []string{"subject_token", "subject_token_type", "actor_token", "actor_token_type", "requested_token_type"}

// readExchange reads the token_exchange grant's keys: subject_token is
// required; actor_token_type goes with actor_token; token types are URIs.
func (st *settings) readExchange(cfg core.Config) []core.Diagnostic {
	var ds []core.Diagnostic
	if st.grant != grantExchange {
		for _, k := range exchangeKeys {
			if _, set := cfg[k]; set {
				ds = append(ds, core.DiagError(k, exchangeOnlyMessage, st.grant))
			}
		}
		return ds
	}
	st.subjectToken = strings.TrimSpace(cfg.String("subject_token", ""))
	st.subjectTokenType = cfg.String("subject_token_type", tokenTypeAccess)
	st.actorToken = strings.TrimSpace(cfg.String("actor_token", ""))
	st.actorTokenType = cfg.String("actor_token_type", "")
	st.requestedTokenType = cfg.String("requested_token_type", "")
	if st.subjectToken == "" {
		ds = append(ds, core.DiagError("subject_token", "the token_exchange grant needs subject_token, e.g. subject_token: profile:sso (another profile's token) or env:TOKEN"))
	}
	if st.actorToken != "" && st.actorTokenType == "" {
		st.actorTokenType = tokenTypeAccess
	}
	if st.actorToken == "" && st.actorTokenType != "" {
		ds = append(ds, core.DiagError("actor_token_type", "is set without actor_token"))
	}
	for _, k := range []string{"subject_token_type", "actor_token_type", "requested_token_type"} {
		if v := cfg.String(k, ""); v != "" {
			if u, err := url.Parse(v); err != nil || !u.IsAbs() {
				ds = append(ds, core.DiagError(k, "%s is not a token type URI such as %s", printable(v), tokenTypeAccess))
			}
		}
	}
	return ds
}

// exchangeForm is the token exchange request (RFC 8693 §2.1), every
// audience one parameter; resource and extra_params are added with every
// token request's.
func (st *settings) exchangeForm() url.Values {
	form := url.Values{
		"grant_type":         {grantTypeExchange},
		"subject_token":      {st.subjectToken},
		"subject_token_type": {st.subjectTokenType},
	}
	if st.actorToken != "" {
		form.Set("actor_token", st.actorToken)
		form.Set("actor_token_type", st.actorTokenType)
	}
	if st.requestedTokenType != "" {
		form.Set("requested_token_type", st.requestedTokenType)
	}
	for _, a := range st.audience {
		form.Add("audience", a)
	}
	st.addScope(form)
	return form
}
