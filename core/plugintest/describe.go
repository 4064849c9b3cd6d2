package plugintest

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/pluginrpc"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// cheapDescribe bounds a second Describe: the host calls it on every plugin
// start, so it must answer from memory.
const cheapDescribe = 100 * time.Millisecond

// handshake starts the plugin through the real host: go-plugin's handshake
// line, protocol negotiation, the Unix socket. A failure is the host's own
// one-line error.
func (r *runner) handshake(ctx context.Context) (Status, string) {
	p, err := r.host.Start(ctx, host.Spec{Scheme: hostScheme(r.o.Path), Path: r.o.Path})
	if err != nil {
		return Fail, err.Error()
	}
	if p.Conn() == nil {
		p.Kill()
		return Fail, "started, but there is no gRPC connection to it"
	}
	r.plugin, r.raw = p, pluginv1.NewAuthSchemeClient(p.Conn())
	return Pass, "started as pid " + p.PID()
}

// health asks the gRPC health service about go-plugin's service "plugin".
func (r *runner) health(ctx context.Context) (Status, string) {
	res, err := grpc_health_v1.NewHealthClient(r.plugin.Conn()).Check(ctx,
		&grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		return Fail, "the health service does not answer: " + errLine(err)
	}
	if res.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		return Fail, fmt.Sprintf("service %q is %s, not SERVING", plugin.GRPCServiceName, res.GetStatus())
	}
	return Pass, fmt.Sprintf("service %q is SERVING", plugin.GRPCServiceName)
}

// describe checks the description's metadata; the schema is checked apart.
func (r *runner) describe(ctx context.Context) (Status, string) {
	d, err := r.plugin.Describe(ctx)
	if err != nil {
		return Fail, "Describe failed: " + errLine(err)
	}
	r.desc, r.described = d, true
	var problems []string
	if !host.ValidSchemeName(d.Name) {
		problems = append(problems, fmt.Sprintf("name %q is not lowercase letters, digits and '-'", d.Name))
	}
	if want := schemeOf(r.o.Path); want != "" && d.Name != want {
		problems = append(problems, fmt.Sprintf("name %q, but the file is %s%s", d.Name, host.BinaryPrefix, want))
	}
	if d.Version == "" {
		problems = append(problems, "no version")
	}
	if !d.Capabilities.Login {
		problems = append(problems, "capabilities.login is false (every scheme logs in)")
	}
	ok := fmt.Sprintf("%s %s, protocol v%d.%d", d.Name, d.Version, pluginrpc.ProtocolMajor, d.ProtocolMinor)
	if d.ProtocolMinor > pluginrpc.ProtocolMinor {
		ok += fmt.Sprintf(" (warning: newer than this kit's v%d.%d; the newer additions are not checked)", pluginrpc.ProtocolMajor, pluginrpc.ProtocolMinor)
	}
	return failures(problems, ok)
}

// describeIsCheap times a second Describe.
func (r *runner) describeIsCheap(ctx context.Context) (Status, string) {
	start := time.Now()
	_, err := r.plugin.Describe(ctx)
	took := time.Since(start).Round(time.Microsecond)
	switch {
	case err != nil:
		return Fail, "Describe failed: " + errLine(err)
	case took > cheapDescribe:
		return Fail, fmt.Sprintf("a second Describe took %s (limit %s): Describe must answer from memory, without I/O", took, cheapDescribe)
	}
	return Pass, fmt.Sprintf("a second Describe took %s", took)
}

// configSchema checks the config fields, the actions and their flags.
func (r *runner) configSchema(context.Context) (Status, string) {
	if !r.described {
		return Skip, "Describe failed"
	}
	problems := fieldProblems("config field", r.desc.Config)
	seen := map[string]bool{}
	for _, a := range r.desc.Actions {
		switch {
		case !host.ValidSchemeName(a.Name):
			problems = append(problems, fmt.Sprintf("action name %q is not lowercase letters, digits and '-'", a.Name))
		case seen[a.Name]:
			problems = append(problems, fmt.Sprintf("action %q is declared twice", a.Name))
		}
		seen[a.Name] = true
		problems = append(problems, fieldProblems(fmt.Sprintf("action %q flag", a.Name), a.Flags)...)
	}
	return failures(problems, fmt.Sprintf("%s, %s",
		plural(len(r.desc.Config), "config field", "config fields"), plural(len(r.desc.Actions), "action", "actions")))
}

// fieldProblems checks a list of fields (a config schema or an action's
// flags): names present and unique, each field well-formed.
func fieldProblems(what string, fs []core.Field) []string {
	var problems []string
	seen := map[string]bool{}
	for i, f := range fs {
		if f.Name == "" {
			problems = append(problems, fmt.Sprintf("%s #%d has no name", what, i+1))
			continue
		}
		if seen[f.Name] {
			problems = append(problems, fmt.Sprintf("%s %q is declared twice", what, f.Name))
		}
		seen[f.Name] = true
		for _, p := range fieldProblem(f) {
			problems = append(problems, fmt.Sprintf("%s %q: %s", what, f.Name, p))
		}
	}
	return problems
}

// fieldProblem checks one field: a known type, an enum only on a string, a
// default of the field's type and inside its enum.
func fieldProblem(f core.Field) []string {
	var problems []string
	if f.Type.String() == "unknown" { // the wire's unspecified or a newer type
		problems = append(problems, "unknown type")
	}
	if len(f.Enum) > 0 && f.Type != core.TypeString {
		problems = append(problems, fmt.Sprintf("an enum on a %s field (enums are for strings)", f.Type))
	}
	if f.Default != nil {
		// The host's own check of a config value, applied to the default.
		if ds := core.CheckConfig(core.Config{f.Name: f.Default}, []core.Field{f}); len(ds) > 0 {
			problems = append(problems, "default: "+ds[0].Message)
		}
	}
	return problems
}
