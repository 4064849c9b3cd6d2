package jwt

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authx/authx/core"
)

// ExitInvalid is the exit code of `authx jwt verify` for a token that fails
// verification.
var ExitInvalid = core.KindTokenInvalid.ExitCode() // 13

// Actions are the jwt plugin's subcommands: decode, verify and sign. Their
// flags arrive as strings in core.ActionRequest.Flags, only when the user
// gave them; defaults are applied by RunAction.
var Actions = []core.Action{
	{
		Name:    "decode",
		Summary: "Print a JWT's header, claims and times WITHOUT verifying its signature",
		Usage:   "TOKEN|-",
	},
	{
		Name:    "verify",
		Summary: "Verify a JWT's signature and claims; exit 0 if valid, 13 if not",
		Usage:   "TOKEN|-",
		Flags: []core.Field{
			{Name: "key", Type: core.TypeString, Secret: true, Help: "verification key: an HMAC secret, a PEM public key or certificate, a JWK or a JWKS; usually env:NAME or file:PATH"},
			{Name: "jwks", Type: core.TypeString, Help: "`URL` of the issuer's JWKS (https), instead of --key"},
			{Name: "issuer", Type: core.TypeString, Help: "issuer `URL` whose discovery document names the JWKS, instead of --key or --jwks; the iss claim must be it unless --iss says otherwise"},
			{Name: "typ", Type: core.TypeString, Help: "require this typ header, e.g. at+jwt for an access token (RFC 9068), which refuses an id_token"},
			{Name: "alg", Type: core.TypeString, Help: "allowed algorithms, comma-separated, e.g. RS256,ES256 (default: those the key's type allows)"},
			{Name: "iss", Type: core.TypeString, Help: "require this issuer (iss claim)"},
			{Name: "aud", Type: core.TypeString, Help: "require this audience in the aud claim"},
			{Name: "sub", Type: core.TypeString, Help: "require this subject (sub claim)"},
			{Name: "leeway", Type: core.TypeString, Default: "0s", Help: "clock skew tolerated for exp, nbf and iat, e.g. 30s"},
			{Name: "at", Type: core.TypeString, Help: "verify as of this `TIME` (RFC 3339 or unix seconds) instead of now"},
		},
	},
	{
		Name:    "sign",
		Summary: "Sign a new JWT with a local key and print it",
		// With a sign-mode profile, its config is the starting point and
		// the flags override it.
		AcceptsProfile: true,
		Flags: []core.Field{
			{Name: "key", Type: core.TypeString, Secret: true, Help: "signing key: an HMAC secret (at least 32/48/64 bytes for HS256/384/512) or a PEM private key; usually env:NAME or file:PATH"},
			{Name: "alg", Type: core.TypeString, Help: "algorithm: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA (default HS256, or the profile's)"},
			{Name: "kid", Type: core.TypeString, Help: "key ID to put in the kid header"},
			{Name: "iss", Type: core.TypeString, Help: "issuer (iss claim)"},
			{Name: "sub", Type: core.TypeString, Help: "subject (sub claim)"},
			{Name: "aud", Type: core.TypeString, Help: "audience, comma-separated for several"},
			{Name: "claims", Type: core.TypeString, Help: `more claims as a JSON object, e.g. '{"scope":"read"}' (merged over the profile's)`},
			{Name: "ttl", Type: core.TypeString, Help: "lifetime: exp = now + TTL, e.g. 15m; 0s for no exp (default 5m, or the profile's)"},
		},
	},
}

// RunAction runs one of Actions. now is the clock (nil means time.Now);
// client and cacheDir serve verify --jwks. Usage errors are KindConfig, an
// unreachable JWKS KindNetwork, an unknown action KindUnsupported. A token
// that fails verify is not an error: the result has ExitCode ExitInvalid
// and the reason on Stderr.
func RunAction(ctx context.Context, req core.ActionRequest, now func() time.Time, client *http.Client, cacheDir string) (core.ActionResult, error) {
	if now == nil {
		now = time.Now
	}
	switch req.Action {
	case "decode":
		return runDecode(req, now())
	case "verify":
		return runVerify(ctx, req, now, client, cacheDir)
	case "sign":
		return runSign(req, now())
	}
	return core.ActionResult{}, core.Errorf(core.KindUnsupported, "the jwt plugin has no action %q (it has decode, verify and sign)", req.Action)
}

// tokenArg returns the action's one TOKEN argument, read from req.Stdin
// when it is "-".
func tokenArg(req core.ActionRequest) (string, error) {
	if len(req.Args) != 1 {
		return "", core.Errorf(core.KindConfig, "usage: authx jwt %s TOKEN|- (give one token, or - to read it from standard input)", req.Action)
	}
	tok := req.Args[0]
	if tok == "-" {
		tok = string(req.Stdin)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", core.Errorf(core.KindConfig, "not a JWT: the token is empty")
	}
	return tok, nil
}

func runDecode(req core.ActionRequest, now time.Time) (core.ActionResult, error) {
	tok, err := tokenArg(req)
	if err != nil {
		return core.ActionResult{}, err
	}
	out, err := Decode(tok, now)
	if err != nil {
		return core.ActionResult{}, err
	}
	return core.ActionResult{
		Stdout: append(out, '\n'),
		Stderr: []byte("authx jwt decode: the signature was NOT verified (use 'authx jwt verify')\n"),
	}, nil
}

func runVerify(ctx context.Context, req core.ActionRequest, now func() time.Time, client *http.Client, cacheDir string) (core.ActionResult, error) {
	tok, err := tokenArg(req)
	if err != nil {
		return core.ActionResult{}, err
	}
	o, err := verifyOptions(req.Flags, now, client, cacheDir)
	if err != nil {
		return core.ActionResult{}, err
	}
	v, err := Verify(ctx, tok, o)
	if errors.Is(err, ErrInvalid) {
		return core.ActionResult{ExitCode: ExitInvalid, Stderr: []byte("authx: jwt verify: " + err.Error() + "\n")}, nil
	}
	if err != nil {
		return core.ActionResult{}, err
	}
	t := &jws{header: v.Header, claims: v.Claims, payload: v.Payload}
	out, err := marshal(newReport(t, o.Now(), true))
	if err != nil {
		return core.ActionResult{}, core.Errorf(core.KindInternal, "encoding the verified token: %v", err)
	}
	return core.ActionResult{Stdout: append(out, '\n')}, nil
}

// verifyOptions turns verify's flags into VerifyOptions.
func verifyOptions(flags map[string]string, now func() time.Time, client *http.Client, cacheDir string) (VerifyOptions, error) {
	o := VerifyOptions{
		Algs:      splitList(flags["alg"]),
		Key:       []byte(flags["key"]),
		JWKSURL:   flags["jwks"],
		IssuerURL: flags["issuer"],
		Type:      flags["typ"],
		Issuer:    flags["iss"],
		Audience:  flags["aud"],
		Subject:   flags["sub"],
		Now:       now,
		Client:    client,
		CacheDir:  cacheDir,
	}
	given := 0
	for _, f := range []string{"key", "jwks", "issuer"} {
		if flags[f] != "" {
			given++
		}
	}
	switch {
	case given == 0:
		return o, core.Errorf(core.KindConfig, "verify needs --key, --jwks or --issuer")
	case given > 1:
		return o, core.Errorf(core.KindConfig, "give only one of --key, --jwks and --issuer")
	}
	if s := flags["leeway"]; s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return o, core.Errorf(core.KindConfig, "--leeway: expected a non-negative duration such as 30s")
		}
		o.Leeway = d
	}
	if s := flags["at"]; s != "" {
		at, err := parseTime(s)
		if err != nil {
			return o, err
		}
		o.Now = func() time.Time { return at }
	}
	return o, nil
}

// parseTime reads --at: an RFC 3339 time or unix seconds (fractions
// allowed).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if t, ok := unixTime(f); ok {
			return t, nil
		}
	}
	return time.Time{}, core.Errorf(core.KindConfig, "--at: %s is neither an RFC 3339 time nor unix seconds", printable(s))
}

func runSign(req core.ActionRequest, now time.Time) (core.ActionResult, error) {
	if len(req.Args) > 0 {
		return core.ActionResult{}, core.Errorf(core.KindConfig, "sign takes no arguments, only flags")
	}
	o := MintOptions{Alg: "HS256", TTL: DefaultTTL, Now: now}
	if len(req.Config) > 0 {
		var err error
		if o, err = MintOptionsFromConfig(req.Config, now); err != nil {
			return core.ActionResult{}, err
		}
	}
	if err := applySignFlags(&o, req.Flags); err != nil {
		return core.ActionResult{}, err
	}
	if len(o.Key) == 0 {
		return core.ActionResult{}, core.Errorf(core.KindConfig, "sign needs --key (or a profile with a key)")
	}
	tok, _, err := Mint(o)
	if err != nil {
		return core.ActionResult{}, err
	}
	return core.ActionResult{Stdout: []byte(tok + "\n")}, nil
}

// applySignFlags lets the flags the user gave override o. --claims is
// merged over o.Claims.
func applySignFlags(o *MintOptions, flags map[string]string) error {
	set := func(name string, dst *string) {
		if v, ok := flags[name]; ok {
			*dst = v
		}
	}
	set("alg", &o.Alg)
	set("kid", &o.KeyID)
	set("iss", &o.Issuer)
	set("sub", &o.Subject)
	if v, ok := flags["key"]; ok {
		o.Key = []byte(v)
	}
	if v, ok := flags["aud"]; ok {
		o.Audience = splitList(v)
	}
	if v, ok := flags["ttl"]; ok {
		ttl, err := parseTTL(v)
		if err != nil {
			return core.Errorf(core.KindConfig, "--%s", message(err))
		}
		o.TTL = ttl
	}
	if v, ok := flags["claims"]; ok {
		extra := jsonObject([]byte(v))
		if extra == nil {
			return core.Errorf(core.KindConfig, "--claims: expected a JSON object such as '{\"scope\":\"read\"}'")
		}
		merged := maps.Clone(o.Claims)
		if merged == nil {
			merged = map[string]any{}
		}
		maps.Copy(merged, extra)
		o.Claims = merged
	}
	return nil
}

// splitList splits a comma-separated flag, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
