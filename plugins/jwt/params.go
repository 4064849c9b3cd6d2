package jwt

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/authx/authx/core"
)

// reservedParams are the parameters authx sets itself in token and
// authorization requests: extra_params may not name them, so that no
// profile can replace the grant, the client's authentication or the PKCE
// verifier by accident. Each has a key of its own where it is configurable.
var reservedParams = []string{
	"grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type",
	"username", "password", "refresh_token", "scope", "audience", "resource",
	"code", "code_verifier", "code_challenge", "code_challenge_method", "redirect_uri",
	"response_type", "state", "nonce", "device_code", "prompt", "dpop_jkt",
	"subject_token", "subject_token_type", "actor_token", "actor_token_type", "requested_token_type",
}

// readParams reads resource (RFC 8707: absolute URIs without a fragment)
// and extra_params (each a string or a list of strings).
func (st *settings) readParams(cfg core.Config) []core.Diagnostic {
	var ds []core.Diagnostic
	st.resources = cfg.StringList("resource")
	for _, r := range st.resources {
		if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(r, "#") {
			ds = append(ds, core.DiagError("resource", "%s is not an absolute URI without a fragment (RFC 8707 §2)", printable(r)))
		}
	}
	obj := cfg.Object("extra_params")
	st.extraParams = url.Values{}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		key := "extra_params." + k
		switch {
		case k == "" || strings.ContainsFunc(k, unicode.IsControl):
			ds = append(ds, core.DiagError(key, "is not a parameter name"))
			continue
		case slices.Contains(reservedParams, k):
			ds = append(ds, core.DiagError(key, "authx sets %s itself; %s", k, ownKey(k)))
			continue
		}
		switch v := obj[k].(type) {
		case string:
			st.extraParams.Add(k, v)
		case []any:
			for i, e := range v {
				s, ok := e.(string)
				if !ok {
					ds = append(ds, core.DiagError(fmt.Sprintf("%s.%d", key, i), "expected a string"))
					continue
				}
				st.extraParams.Add(k, s)
			}
		default:
			ds = append(ds, core.DiagError(key, "expected a string or a list of strings"))
		}
	}
	return ds
}

// ownKey says where a reserved parameter is configured instead.
func ownKey(param string) string {
	switch param {
	case "scope", "audience", "resource", "prompt", "username", "password", "client_id", "client_secret",
		"subject_token", "subject_token_type", "actor_token", "actor_token_type", "requested_token_type":
		return "use the " + param + " key"
	case "client_assertion", "client_assertion_type":
		return "use client_auth: private_key_jwt or client_secret_jwt"
	case "dpop_jkt":
		return "use dpop: true"
	}
	return "it belongs to the grant"
}

// addTokenParams adds the profile's resource indicators (one resource
// parameter each, RFC 8707 §2.2) and extra_params to a token request: every
// grant's, the refresh's, the token exchange's.
func (st *settings) addTokenParams(form url.Values) {
	for k, vs := range st.authorizationParams() {
		form[k] = append(form[k], vs...)
	}
}

// authorizationParams returns the parameters the profile adds to an
// authorization request (RFC 6749 §4.1.1; RFC 8628 §3.1): one resource
// parameter per resource indicator (RFC 8707 §2.1) and extra_params. The
// authorization_code and device_code flows add them to their requests.
func (st *settings) authorizationParams() url.Values {
	out := url.Values{}
	for _, r := range st.resources {
		out.Add("resource", r)
	}
	for k, vs := range st.extraParams {
		out[k] = append(out[k], vs...)
	}
	return out
}
