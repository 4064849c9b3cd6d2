package pluginrpc

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authx/authx/core"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// Issue 14, point 3: what the author docs and the .proto's comments say
// each status code exits with is what the host does with it. Each claim,
// a status code (with its ErrorInfo reason, if any) and an exit code, is
// decoded as the host decodes a plugin's failure.
func TestDocsAgreeWithErrorMapping(t *testing.T) {
	check := func(where, code, reason string, exit int) {
		t.Helper()
		c, ok := codeByName[code]
		if !ok {
			t.Errorf("%s: %s is no status code", where, code)
			return
		}
		st := status.New(c, "the plugin's message")
		if reason != "" {
			st, _ = st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain})
		}
		if got := core.KindOf(fromStatus(st.Err(), "login")).ExitCode(); got != exit {
			t.Errorf("%s: %s %s says exit %d; the host exits %d", where, code, reason, exit, got)
		}
	}

	// docs/plugin-lifecycle.md: | `KindX` | `CODE` (`REASON`) | class | exit |
	doc := section(t, "../../docs/plugin-lifecycle.md", "### What every answer exits with", "The host adds its own")
	row := regexp.MustCompile("(?m)^\\| `(Kind\\w+)` \\| `([A-Z_]+)`(?: \\(`([A-Z_]+)`\\))? \\|[^|]*\\| (\\d+)")
	rows := row.FindAllStringSubmatch(doc, -1)
	if len(rows) < 11 {
		t.Fatalf("plugin-lifecycle.md: %d rows of the exit table found, want 11", len(rows))
	}
	for _, m := range rows {
		exit, _ := strconv.Atoi(m[4])
		check("plugin-lifecycle.md", m[2], m[3], exit)
		// and a scheme's error of that kind is sent with that code
		kind, ok := kindByName[m[1]]
		if !ok {
			t.Errorf("plugin-lifecycle.md: %s is no kind this test knows", m[1])
			continue
		}
		if got := status.Code(toStatus(core.Errorf(kind, "x"))); got.String() != codeName(m[2]) {
			t.Errorf("plugin-lifecycle.md: %s is sent as %v, the doc says %s", m[1], got, m[2])
		}
	}
	check("plugin-lifecycle.md", "INTERNAL", "", 6) // "any other code"

	// docs/plugin-protocol.md, "Errors": | `CODE` | meaning | exit | and
	// | `CODE` | `REASON` | meaning | exit |
	wire := section(t, "../../docs/plugin-protocol.md", "### Errors", "## Versioning")
	plain := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| [^|`]* \\| (\\d+)")
	reasoned := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| `([A-Z_]+)` \\| [^|]* \\| +(\\d+)")
	n := 0
	for _, m := range plain.FindAllStringSubmatch(wire, -1) {
		exit, _ := strconv.Atoi(m[2])
		check("plugin-protocol.md", m[1], "", exit)
		n++
	}
	for _, m := range reasoned.FindAllStringSubmatch(wire, -1) {
		exit, _ := strconv.Atoi(m[3])
		check("plugin-protocol.md", m[1], m[2], exit)
		n++
	}
	if n < 11 {
		t.Fatalf("plugin-protocol.md: %d rows of the error tables found, want 11", n)
	}

	// plugin.proto's conventions: "CODE = meaning (exit)", "REASON with CODE = meaning (exit)".
	proto := comment(section(t, "../proto/authx/plugin/v1/plugin.proto", "Failures are gRPC status errors", "syntax ="))
	claim := regexp.MustCompile(`([A-Z_]{4,})(?: with ([A-Z_]+))? = [^()=]*?\((\d+)`)
	claims := claim.FindAllStringSubmatch(proto, -1)
	if len(claims) < 11 {
		t.Fatalf("plugin.proto: %d status code claims found, want 11:\n%s", len(claims), proto)
	}
	for _, m := range claims {
		exit, _ := strconv.Atoi(m[3])
		if m[2] != "" { // a reason with its code
			check("plugin.proto", m[2], m[1], exit)
		} else {
			check("plugin.proto", m[1], "", exit)
		}
	}
}

var kindByName = map[string]core.Kind{
	"KindConfig": core.KindConfig, "KindLoginRequired": core.KindLoginRequired, "KindRejected": core.KindRejected,
	"KindNetwork": core.KindNetwork, "KindHTTP": core.KindHTTP, "KindHTTPServer": core.KindHTTPServer,
	"KindUnsupported": core.KindUnsupported, "KindTokenInvalid": core.KindTokenInvalid, "KindForbidden": core.KindForbidden,
	"KindTimeout": core.KindTimeout, "KindBadAnswer": core.KindBadAnswer,
}

// codeByName maps the protocol's spelling of a status code (DATA_LOSS).
var codeByName = func() map[string]codes.Code {
	m := map[string]codes.Code{}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		m[codeName(c.String())] = c
	}
	return m
}()

// codeName spells a code as gRPC's String does ("DataLoss") in the
// protocol's upper case ("DATA_LOSS"), and the other way round.
func codeName(s string) string {
	if strings.ToUpper(s) == s { // DATA_LOSS → DataLoss
		var b strings.Builder
		for _, w := range strings.Split(strings.ToLower(s), "_") {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
		return b.String()
	}
	return strings.ToUpper(regexp.MustCompile(`([a-z])([A-Z])`).ReplaceAllString(s, "${1}_${2}"))
}

// section returns the text of file from the line holding from to the one
// holding to.
func section(t *testing.T, file, from, to string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("%s: no %q", file, from)
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		t.Fatalf("%s: no %q after %q", file, to, from)
	}
	return s[i : i+j]
}

// comment joins the lines of a // comment into one line of text.
func comment(s string) string {
	var words []string
	for _, l := range strings.Split(s, "\n") {
		words = append(words, strings.Fields(strings.TrimLeft(strings.TrimSpace(l), "/-"))...)
	}
	return strings.Join(words, " ")
}

// decisionRPC answers HandleChallenge with a decision of its choice.
type decisionRPC struct {
	pluginv1.AuthSchemeClient
	res *pluginv1.HandleChallengeResponse
}

func (d decisionRPC) HandleChallenge(context.Context, *pluginv1.HandleChallengeRequest, ...grpc.CallOption) (*pluginv1.HandleChallengeResponse, error) {
	return d.res, nil
}

// The decisions table of plugin-lifecycle.md and the .proto's comments:
// UNSPECIFIED and a value the host does not know are taken as FAIL (the
// diagnosis kept); RETRY without a credential is a plugin failure (6).
func TestDecisionsAsDocumented(t *testing.T) {
	for _, d := range []pluginv1.HandleChallengeResponse_Decision{pluginv1.HandleChallengeResponse_DECISION_UNSPECIFIED, 7} {
		res, err := NewClient(decisionRPC{res: &pluginv1.HandleChallengeResponse{Decision: d, Diagnosis: "why"}}).HandleChallenge(context.Background(), core.ChallengeRequest{})
		if err != nil || res.Decision != core.DecisionFail || res.Diagnosis != "why" {
			t.Errorf("decision %d: %+v, %v; want fail with the diagnosis", d, res, err)
		}
	}
	_, err := NewClient(decisionRPC{res: &pluginv1.HandleChallengeResponse{Decision: pluginv1.HandleChallengeResponse_DECISION_RETRY}}).HandleChallenge(context.Background(), core.ChallengeRequest{})
	if core.KindOf(err).ExitCode() != 6 {
		t.Errorf("RETRY without a credential: %v (exit %d), want exit 6", err, core.KindOf(err).ExitCode())
	}
}
