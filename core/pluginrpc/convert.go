package pluginrpc

import (
	"fmt"
	"net/http"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/authx/authx/core"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// toStruct encodes a config for the wire.
func toStruct(cfg core.Config) (*structpb.Struct, error) {
	if cfg == nil {
		return nil, nil
	}
	m, _ := normalize(map[string]any(cfg)).(map[string]any)
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil, core.Wrap(core.KindConfig, err, "encoding the profile config")
	}
	return s, nil
}

// normalize turns the shapes YAML, TOML and flags produce into the ones
// structpb accepts.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalize(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = e
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = e
		}
		return out
	case []map[string]any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e)
		}
		return out
	case time.Duration:
		return t.String()
	case time.Time:
		return t.Format(time.RFC3339Nano)
	default:
		return v
	}
}

func fromStruct(s *structpb.Struct) core.Config {
	if s == nil {
		return core.Config{}
	}
	return core.Config(s.AsMap())
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func toHeaders(hs []core.Header) []*pluginv1.Header {
	out := make([]*pluginv1.Header, len(hs))
	for i, h := range hs {
		out[i] = &pluginv1.Header{Name: h.Name, Value: h.Value}
	}
	return out
}

func fromHeaders(hs []*pluginv1.Header) []core.Header {
	if len(hs) == 0 {
		return nil
	}
	out := make([]core.Header, len(hs))
	for i, h := range hs {
		out[i] = core.Header{Name: h.GetName(), Value: h.GetValue()}
	}
	return out
}

func toHTTPHeader(h http.Header) []*pluginv1.Header {
	var out []*pluginv1.Header
	for name, vs := range h {
		for _, v := range vs {
			out = append(out, &pluginv1.Header{Name: name, Value: v})
		}
	}
	return out
}

func fromHTTPHeader(hs []*pluginv1.Header) http.Header {
	out := make(http.Header, len(hs))
	for _, h := range hs {
		out.Add(h.GetName(), h.GetValue())
	}
	return out
}

// ToCredential encodes c for the wire.
func ToCredential(c *core.Credential) *pluginv1.Credential {
	if c == nil {
		return nil
	}
	out := &pluginv1.Credential{
		Token: c.Token, Headers: toHeaders(c.Headers), ExpiresAt: ts(c.ExpiresAt),
		Scope: c.Scope, State: c.State, PerRequest: c.PerRequest, IdToken: c.IDToken,
	}
	for _, k := range c.Cookies {
		out.Cookies = append(out.Cookies, &pluginv1.Cookie{Name: k.Name, Value: k.Value, Domain: k.Domain,
			Path: k.Path, Expires: ts(k.Expires), Secure: k.Secure, HttpOnly: k.HTTPOnly})
	}
	return out
}

// FromCredential decodes a wire credential.
func FromCredential(c *pluginv1.Credential) *core.Credential {
	if c == nil {
		return nil
	}
	out := &core.Credential{
		Token: c.GetToken(), Headers: fromHeaders(c.GetHeaders()), ExpiresAt: fromTS(c.GetExpiresAt()),
		Scope: c.GetScope(), State: c.GetState(), PerRequest: c.GetPerRequest(), IDToken: c.GetIdToken(),
	}
	for _, k := range c.GetCookies() {
		out.Cookies = append(out.Cookies, core.Cookie{Name: k.GetName(), Value: k.GetValue(), Domain: k.GetDomain(),
			Path: k.GetPath(), Expires: fromTS(k.GetExpires()), Secure: k.GetSecure(), HTTPOnly: k.GetHttpOnly()})
	}
	return out
}

func toHTTPRequest(r core.HTTPRequest) *pluginv1.HTTPRequest {
	return &pluginv1.HTTPRequest{Method: r.Method, Url: r.URL, Headers: toHTTPHeader(r.Header), BodySha256: r.BodySHA256}
}

func fromHTTPRequest(r *pluginv1.HTTPRequest) core.HTTPRequest {
	return core.HTTPRequest{Method: r.GetMethod(), URL: r.GetUrl(), Header: fromHTTPHeader(r.GetHeaders()), BodySHA256: r.GetBodySha256()}
}

// MaxBodyPrefix is the most of a response body a challenge carries.
const MaxBodyPrefix = 4096

func toHTTPResponse(r core.HTTPResponse) *pluginv1.HTTPResponse {
	body := r.BodyPrefix
	if len(body) > MaxBodyPrefix {
		body = body[:MaxBodyPrefix]
	}
	return &pluginv1.HTTPResponse{Status: int32(r.Status), Headers: toHTTPHeader(r.Header), BodyPrefix: body}
}

func fromHTTPResponse(r *pluginv1.HTTPResponse) core.HTTPResponse {
	return core.HTTPResponse{Status: int(r.GetStatus()), Header: fromHTTPHeader(r.GetHeaders()), BodyPrefix: r.GetBodyPrefix()}
}

// toChallenge encodes a login's challenge; nil stays nil.
func toChallenge(r *core.HTTPResponse) *pluginv1.HTTPResponse {
	if r == nil {
		return nil
	}
	return toHTTPResponse(*r)
}

// fromChallenge decodes a login's challenge; nil stays nil.
func fromChallenge(r *pluginv1.HTTPResponse) *core.HTTPResponse {
	if r == nil {
		return nil
	}
	out := fromHTTPResponse(r)
	return &out
}

// toApplyResponse encodes an Apply's result: a nil State is sent as no
// state (unchanged), a non-nil one, even empty, as present.
func toApplyResponse(r *core.ApplyResult) *pluginv1.ApplyResponse {
	if r == nil {
		return &pluginv1.ApplyResponse{}
	}
	out := &pluginv1.ApplyResponse{Headers: toHeaders(r.Headers)}
	if r.State != nil {
		out.State = r.State
	}
	return out
}

// fromApplyResponse decodes an Apply's answer: absent state is nil
// (unchanged), present state is non-nil, even when empty.
func fromApplyResponse(r *pluginv1.ApplyResponse) *core.ApplyResult {
	out := &core.ApplyResult{Headers: fromHeaders(r.GetHeaders())}
	if r.State != nil {
		out.State = append([]byte{}, r.State...)
	}
	return out
}

var fieldTypes = map[core.FieldType]pluginv1.FieldType{
	core.TypeString: pluginv1.FieldType_FIELD_TYPE_STRING, core.TypeBool: pluginv1.FieldType_FIELD_TYPE_BOOL,
	core.TypeInt: pluginv1.FieldType_FIELD_TYPE_INT, core.TypeDuration: pluginv1.FieldType_FIELD_TYPE_DURATION,
	core.TypeStringList: pluginv1.FieldType_FIELD_TYPE_STRING_LIST, core.TypeObject: pluginv1.FieldType_FIELD_TYPE_OBJECT,
}

func toFields(fs []core.Field) ([]*pluginv1.Field, error) {
	out := make([]*pluginv1.Field, len(fs))
	for i, f := range fs {
		var def *structpb.Value
		if f.Default != nil {
			v, err := structpb.NewValue(normalize(f.Default))
			if err != nil {
				return nil, fmt.Errorf("field %q: default: %w", f.Name, err)
			}
			def = v
		}
		out[i] = &pluginv1.Field{Name: f.Name, Type: fieldTypes[f.Type], Required: f.Required, Secret: f.Secret,
			DefaultValue: def, Help: f.Help, Enum: f.Enum}
	}
	return out, nil
}

func fromFields(fs []*pluginv1.Field) []core.Field {
	out := make([]core.Field, len(fs))
	for i, f := range fs {
		t := core.FieldType(0)
		for ct, pt := range fieldTypes {
			if pt == f.GetType() {
				t = ct
			}
		}
		var def any
		if f.GetDefaultValue() != nil {
			def = f.GetDefaultValue().AsInterface()
		}
		out[i] = core.Field{Name: f.GetName(), Type: t, Required: f.GetRequired(), Secret: f.GetSecret(),
			Default: def, Help: f.GetHelp(), Enum: f.GetEnum()}
	}
	return out
}

func toDescription(d core.Description) (*pluginv1.DescribeResponse, error) {
	cfg, err := toFields(d.Config)
	if err != nil {
		return nil, err
	}
	c := d.Capabilities
	out := &pluginv1.DescribeResponse{
		Name: d.Name, Version: d.Version, ProtocolMinor: d.ProtocolMinor, Summary: d.Summary, Config: cfg,
		Capabilities: &pluginv1.Capabilities{Login: c.Login, Refresh: c.Refresh, Apply: c.Apply,
			HandleChallenge: c.HandleChallenge, Logout: c.Logout, Actions: c.Actions, LoginChallenge: c.LoginChallenge},
	}
	for _, a := range d.Actions {
		flags, err := toFields(a.Flags)
		if err != nil {
			return nil, fmt.Errorf("action %q: %w", a.Name, err)
		}
		out.Actions = append(out.Actions, &pluginv1.Action{Name: a.Name, Summary: a.Summary, Usage: a.Usage,
			Flags: flags, NeedsProfile: a.NeedsProfile, AcceptsProfile: a.AcceptsProfile})
	}
	return out, nil
}

func fromDescription(r *pluginv1.DescribeResponse) core.Description {
	c := r.GetCapabilities()
	d := core.Description{
		Name: r.GetName(), Version: r.GetVersion(), ProtocolMinor: r.GetProtocolMinor(), Summary: r.GetSummary(),
		Config: fromFields(r.GetConfig()),
		Capabilities: core.Capabilities{Login: c.GetLogin(), Refresh: c.GetRefresh(), Apply: c.GetApply(),
			HandleChallenge: c.GetHandleChallenge(), Logout: c.GetLogout(), Actions: c.GetActions(),
			LoginChallenge: c.GetLoginChallenge()},
	}
	for _, a := range r.GetActions() {
		d.Actions = append(d.Actions, core.Action{Name: a.GetName(), Summary: a.GetSummary(), Usage: a.GetUsage(),
			Flags: fromFields(a.GetFlags()), NeedsProfile: a.GetNeedsProfile(), AcceptsProfile: a.GetAcceptsProfile()})
	}
	return d
}

func toDiagnostics(ds []core.Diagnostic) []*pluginv1.Diagnostic {
	out := make([]*pluginv1.Diagnostic, len(ds))
	for i, d := range ds {
		sev := pluginv1.Diagnostic_SEVERITY_ERROR
		if d.Severity == core.SeverityWarning {
			sev = pluginv1.Diagnostic_SEVERITY_WARNING
		}
		out[i] = &pluginv1.Diagnostic{Severity: sev, Field: d.Field, Message: d.Message}
	}
	return out
}

func fromDiagnostics(ds []*pluginv1.Diagnostic) []core.Diagnostic {
	out := make([]core.Diagnostic, len(ds))
	for i, d := range ds {
		sev := core.SeverityError
		if d.GetSeverity() == pluginv1.Diagnostic_SEVERITY_WARNING {
			sev = core.SeverityWarning
		}
		out[i] = core.Diagnostic{Severity: sev, Field: d.GetField(), Message: d.GetMessage()}
	}
	return out
}
