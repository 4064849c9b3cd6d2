package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/net/http/httpguts"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginrpc"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// maxRounds bounds the input-required conversation, as the host does.
const maxRounds = 8

// unknownAction is an action no plugin declares.
const unknownAction = "authx-conformance-no-such-action"

// emptySHA256 is the digest of the empty body the synthetic requests have.
var emptySHA256 = sha256.Sum256(nil)

// classified are the status codes of the error table: a plugin may answer a
// challenge with one of them instead of a decision (docs/plugin-protocol.md).
var classified = []codes.Code{codes.InvalidArgument, codes.FailedPrecondition, codes.Unauthenticated,
	codes.Unavailable, codes.DeadlineExceeded, codes.DataLoss, codes.Aborted, codes.PermissionDenied}

// login logs in, answering prompts from Options.Answers, and keeps the
// credential for the calls that follow.
func (r *runner) login(ctx context.Context) (Status, string) {
	if r.o.Config == nil {
		return Skip, "no Config given"
	}
	r.noCred = "login failed"
	req := core.LoginRequest{Config: r.config(), URL: r.o.URL, Interactive: true, UI: &r.ui}
	for range maxRounds {
		cred, err := r.plugin.Login(ctx, req)
		var ir *core.InputRequired
		if !errors.As(err, &ir) {
			return r.loggedIn(cred, err)
		}
		if len(ir.Prompts) == 0 {
			return Fail, "Login asked for input without a prompt"
		}
		answers, missing := r.answer(ir.Prompts)
		if len(missing) > 0 {
			return Fail, fmt.Sprintf("Login asks for %s: give the answers (Options.Answers, or --answers FILE)", list(missing))
		}
		req.Answers, req.Continuation = answers, ir.Continuation
	}
	return Fail, fmt.Sprintf("Login still asked for input after %d rounds", maxRounds)
}

// answer answers prompts from Options.Answers and says which it cannot.
func (r *runner) answer(ps []core.Prompt) (answers map[string]string, missing []string) {
	answers = make(map[string]string, len(ps))
	for _, p := range ps {
		if !slices.Contains(r.asked, p.ID) {
			r.asked = append(r.asked, p.ID)
		}
		a, ok := r.o.Answers[p.ID]
		if !ok {
			missing = append(missing, fmt.Sprintf("%q", p.ID))
			continue
		}
		answers[p.ID] = a
	}
	return answers, missing
}

func (r *runner) loggedIn(cred *core.Credential, err error) (Status, string) {
	if err != nil {
		return Fail, "Login failed: " + errLine(err)
	}
	if problems := credentialProblems(cred); len(problems) > 0 {
		return Fail, strings.Join(problems, "; ")
	}
	r.cred, r.noCred = cred, ""
	return Pass, shape(cred)
}

// inputRequired reports on the input-required flow Login went through.
func (r *runner) inputRequired(context.Context) (Status, string) {
	switch {
	case r.o.Config == nil:
		return Skip, "no Config given"
	case len(r.asked) == 0:
		return Skip, "Login never asked for input"
	case r.cred == nil:
		return Fail, fmt.Sprintf("Login asked for %s but did not complete (see login)", list(r.asked))
	}
	return Pass, fmt.Sprintf("Login asked for %s; the continuation completed", list(r.asked))
}

// needsCredential says why a claimed call cannot be checked, or "".
func (r *runner) needsCredential() string {
	if r.cred == nil {
		return "needs the login's credential (" + r.noCred + ")"
	}
	return ""
}

func (r *runner) refresh(ctx context.Context) (Status, string) {
	if !r.described {
		return Skip, "Describe failed"
	}
	if !r.desc.Capabilities.Refresh {
		_, err := r.raw.Refresh(ctx, &pluginv1.RefreshRequest{Config: r.wire(), Url: r.o.URL, Credential: pluginrpc.ToCredential(r.cred)})
		return refuses("refresh", "Refresh", err)
	}
	if why := r.needsCredential(); why != "" {
		return Skip, why
	}
	cred, err := r.plugin.Refresh(ctx, core.RefreshRequest{Config: r.config(), URL: r.o.URL, Credential: r.cred})
	switch {
	case err == nil:
		return failures(credentialProblems(cred), "a new credential: "+shape(cred))
	case core.KindOf(err) == core.KindLoginRequired:
		return Pass, "answered FAILED_PRECONDITION (a new login is needed): " + err.Error()
	case core.KindOf(err) == core.KindRejected:
		return Pass, "answered UNAUTHENTICATED (the server refused): " + err.Error()
	}
	return Fail, "Refresh failed: " + errLine(err)
}

func (r *runner) apply(ctx context.Context) (Status, string) {
	if !r.described {
		return Skip, "Describe failed"
	}
	if !r.desc.Capabilities.Apply {
		_, err := r.raw.Apply(ctx, &pluginv1.ApplyRequest{Config: r.wire(), Url: r.o.URL, Credential: pluginrpc.ToCredential(r.cred), Request: r.wireRequest()})
		return refuses("apply", "Apply", err)
	}
	if why := r.needsCredential(); why != "" {
		return Skip, why
	}
	res, err := r.plugin.Apply(ctx, core.ApplyRequest{Config: r.config(), URL: r.o.URL, Credential: r.cred,
		Request: core.HTTPRequest{Method: http.MethodGet, URL: r.o.URL, Header: http.Header{}, BodySHA256: emptySHA256[:]}})
	if err != nil {
		return Fail, "Apply failed: " + errLine(err)
	}
	return failures(headerProblems(res.Headers), "headers: "+headerNames(res.Headers))
}

// handleChallenge sends a synthetic 401 for a GET of the profile's URL. It
// uses the raw client: the host's adapter would hide an unknown decision.
func (r *runner) handleChallenge(ctx context.Context) (Status, string) {
	if !r.described {
		return Skip, "Describe failed"
	}
	req := &pluginv1.HandleChallengeRequest{Config: r.wire(), Url: r.o.URL, Credential: pluginrpc.ToCredential(r.cred),
		Request: r.wireRequest(), Response: &pluginv1.HTTPResponse{Status: http.StatusUnauthorized,
			Headers: []*pluginv1.Header{{Name: "Www-Authenticate", Value: `Bearer error="invalid_token"`}}}}
	if !r.desc.Capabilities.HandleChallenge {
		_, err := r.raw.HandleChallenge(ctx, req)
		return refuses("handle_challenge", "HandleChallenge", err)
	}
	if why := r.needsCredential(); why != "" {
		return Skip, why
	}
	res, err := r.raw.HandleChallenge(ctx, req)
	if err != nil {
		if ctx.Err() == nil && slices.Contains(classified, status.Code(err)) {
			return Pass, "answered with a classified error, " + errLine(err)
		}
		return Fail, "HandleChallenge failed: " + errLine(err)
	}
	return decision(res)
}

// decision checks a challenge's answer: a known decision; RETRY with a
// well-formed credential.
func decision(res *pluginv1.HandleChallengeResponse) (Status, string) {
	name := strings.TrimPrefix(res.GetDecision().String(), "DECISION_")
	switch res.GetDecision() {
	case pluginv1.HandleChallengeResponse_DECISION_FAIL, pluginv1.HandleChallengeResponse_DECISION_REFRESH,
		pluginv1.HandleChallengeResponse_DECISION_LOGIN:
		return Pass, fmt.Sprintf("decision %s: %s", name, res.GetDiagnosis())
	case pluginv1.HandleChallengeResponse_DECISION_RETRY:
		cred := pluginrpc.FromCredential(res.GetCredential())
		if cred == nil {
			return Fail, "decision RETRY without a credential"
		}
		return failures(credentialProblems(cred), "decision RETRY with "+shape(cred))
	}
	return Fail, fmt.Sprintf("unknown decision %s (want FAIL, RETRY, REFRESH or LOGIN)", res.GetDecision())
}

func (r *runner) logout(ctx context.Context) (Status, string) {
	if !r.described {
		return Skip, "Describe failed"
	}
	if !r.desc.Capabilities.Logout {
		_, err := r.raw.Logout(ctx, &pluginv1.LogoutRequest{Config: r.wire(), Url: r.o.URL, Credential: pluginrpc.ToCredential(r.cred)})
		return refuses("logout", "Logout", err)
	}
	if why := r.needsCredential(); why != "" {
		return Skip, why
	}
	if err := r.plugin.Logout(ctx, core.LogoutRequest{Config: r.config(), URL: r.o.URL, Credential: r.cred}); err != nil {
		return Fail, "Logout failed: " + errLine(err)
	}
	return Pass, "the credential was revoked"
}

// runAction asks for an action no plugin has: refused with UNIMPLEMENTED
// whether or not the plugin offers actions. Real actions are never run:
// they may have side effects (a new API token, a build).
func (r *runner) runAction(ctx context.Context) (Status, string) {
	if !r.described {
		return Skip, "Describe failed"
	}
	_, err := r.raw.RunAction(ctx, &pluginv1.RunActionRequest{Action: unknownAction})
	if !r.desc.Capabilities.Actions {
		return refuses("actions", "RunAction", err)
	}
	switch {
	case status.Code(err) == codes.Unimplemented:
		return Pass, fmt.Sprintf("%s declared; an unknown one is refused with UNIMPLEMENTED", plural(len(r.desc.Actions), "action", "actions"))
	case err == nil:
		return Fail, fmt.Sprintf("the unknown action %q ran instead of being refused with UNIMPLEMENTED", unknownAction)
	}
	return Fail, fmt.Sprintf("the unknown action %q failed with %s instead of UNIMPLEMENTED", unknownAction, errLine(err))
}

// refuses checks the answer to a call whose capability is not claimed: the
// plugin must refuse it cleanly with UNIMPLEMENTED.
func refuses(capability, call string, err error) (Status, string) {
	switch {
	case err == nil:
		return Fail, fmt.Sprintf("capability %s is not claimed, but %s answered instead of refusing with UNIMPLEMENTED", capability, call)
	case status.Code(err) == codes.Unimplemented:
		return Pass, fmt.Sprintf("not claimed; %s is refused with UNIMPLEMENTED", call)
	}
	return Fail, fmt.Sprintf("capability %s is not claimed, but %s failed with %s instead of UNIMPLEMENTED", capability, call, errLine(err))
}

// wire is the config as the raw calls send it; nil when there is none or
// it cannot be encoded (the checks through pluginrpc then report that).
func (r *runner) wire() *structpb.Struct {
	if r.o.Config == nil {
		return nil
	}
	b, err := json.Marshal(r.o.Config)
	if err != nil {
		return nil
	}
	s := &structpb.Struct{}
	if protojson.Unmarshal(b, s) != nil {
		return nil
	}
	return s
}

// wireRequest is the synthetic request: a GET of the profile's URL with an
// empty body.
func (r *runner) wireRequest() *pluginv1.HTTPRequest {
	return &pluginv1.HTTPRequest{Method: http.MethodGet, Url: r.o.URL, BodySha256: emptySHA256[:]}
}

// credentialProblems checks what the host needs of a credential: something
// to send (or per-request signing, which holds nothing fixed), valid
// headers, an expiry not already past.
func credentialProblems(c *core.Credential) []string {
	if c == nil {
		return []string{"no credential"}
	}
	var problems []string
	if c.Token == "" && len(c.Headers) == 0 && !c.PerRequest {
		problems = append(problems, "the credential has neither a token nor a header, and is not per-request")
	}
	problems = append(problems, headerProblems(c.Headers)...)
	if !c.ExpiresAt.IsZero() && c.ExpiresAt.Before(time.Now()) {
		problems = append(problems, fmt.Sprintf("expires_at %s is in the past", c.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	return problems
}

// headerProblems checks header names (RFC 9110 tokens) and values (no CR or
// LF, which would split the header). Values are never quoted: they may be
// secrets.
func headerProblems(hs []core.Header) []string {
	var problems []string
	for _, h := range hs {
		if !httpguts.ValidHeaderFieldName(h.Name) {
			problems = append(problems, fmt.Sprintf("header name %q is not a valid HTTP token", h.Name))
		}
		if strings.ContainsAny(h.Value, "\r\n") {
			problems = append(problems, fmt.Sprintf("header %q has a CR or LF in its value", h.Name))
		}
	}
	return problems
}

// shape describes a credential without a secret: what it carries, not the
// values.
func shape(c *core.Credential) string {
	var parts []string
	if c.Token != "" {
		parts = append(parts, "a token")
	}
	if len(c.Headers) > 0 {
		parts = append(parts, "headers: "+headerNames(c.Headers))
	}
	if len(c.Cookies) > 0 {
		parts = append(parts, plural(len(c.Cookies), "cookie", "cookies"))
	}
	if c.PerRequest {
		parts = append(parts, "per request")
	}
	if c.ExpiresAt.IsZero() {
		parts = append(parts, "no expiry")
	} else {
		parts = append(parts, "expires in "+time.Until(c.ExpiresAt).Round(time.Second).String())
	}
	return strings.Join(parts, ", ")
}

func headerNames(hs []core.Header) string {
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Name
	}
	return list(names)
}

// errLine renders an error on one line; a gRPC status as "CODE: message".
func errLine(err error) string {
	if st, ok := status.FromError(err); ok {
		return codeName(st.Code()) + ": " + st.Message()
	}
	return err.Error()
}

// codeName spells a code as the protocol's documentation does:
// FailedPrecondition is FAILED_PRECONDITION.
func codeName(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
