package plugintest

import (
	"context"
	"fmt"
	"strings"

	"github.com/authx/authx/core"
)

// unknownKey is a config key no plugin declares.
const unknownKey = "authx_conformance_unknown_key"

// rejectsUnknownKey: Configure must name an unknown key, so that a typo in
// a profile is reported where it is.
func (r *runner) rejectsUnknownKey(ctx context.Context) (Status, string) {
	return r.rejects(ctx, r.configWith(unknownKey, "x"), unknownKey)
}

// rejectsWrongType: Configure must name a field holding the wrong type; the
// first declared string field gets a number.
func (r *runner) rejectsWrongType(ctx context.Context) (Status, string) {
	if !r.described {
		return Skip, "Describe failed"
	}
	for _, f := range r.desc.Config {
		if f.Type == core.TypeString {
			return r.rejects(ctx, r.configWith(f.Name, 42), f.Name)
		}
	}
	return Skip, "the schema declares no string field"
}

// rejects calls Configure with cfg and wants an error diagnostic on field.
func (r *runner) rejects(ctx context.Context, cfg core.Config, field string) (Status, string) {
	ds, err := r.plugin.Configure(ctx, cfg)
	if err != nil {
		return Fail, "Configure failed: " + errLine(err)
	}
	for _, d := range ds {
		if d.Severity != core.SeverityWarning && d.Field == field {
			return Pass, diagList([]core.Diagnostic{d})
		}
	}
	return Fail, fmt.Sprintf("no error diagnostic with field %q; got: %s", field, diagList(ds))
}

// acceptsConfig: the given (valid) config draws no error diagnostic.
func (r *runner) acceptsConfig(ctx context.Context) (Status, string) {
	if r.o.Config == nil {
		return Skip, "no Config given"
	}
	ds, err := r.plugin.Configure(ctx, r.config())
	switch {
	case err != nil:
		return Fail, "Configure failed: " + errLine(err)
	case core.HasErrors(ds):
		return Fail, "the config is refused: " + diagList(ds)
	case len(ds) > 0:
		return Pass, "accepted with warnings: " + diagList(ds)
	}
	return Pass, "no diagnostics"
}

// diagList renders diagnostics as "field: message; ...".
func diagList(ds []core.Diagnostic) string {
	if len(ds) == 0 {
		return "no diagnostics"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Message
		if d.Field != "" {
			parts[i] = d.Field + ": " + d.Message
		}
		if d.Severity == core.SeverityWarning {
			parts[i] = "warning: " + parts[i]
		}
	}
	return strings.Join(parts, "; ")
}
