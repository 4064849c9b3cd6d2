// Package plugintest is the conformance kit for authx plugins: it starts a
// plugin binary, written in any language, exactly as authx does (core/host:
// the go-plugin handshake, a Unix socket in a private directory) and checks
// that it keeps the protocol of docs/plugin-protocol.md, call by call.
//
// `authx plugins test PATH` runs it from the command line; Go plugin authors
// run it from their own tests:
//
//	func TestConformance(t *testing.T) {
//		plugintest.Test(t, plugintest.Options{Path: bin, Config: map[string]any{"user": "alice"}})
//	}
//
// Every check is a Result in a fixed order, so reports compare line by line.
// A check that cannot run (no Config given, no credential, an earlier step
// failed) is a Skip, never a silent Pass. The checks, in order:
//
//   - handshake: the binary starts through core/host within the timeout.
//   - health: grpc.health.v1 answers SERVING for service "plugin".
//   - describe: a valid name, equal to <scheme> for a file named
//     authx-plugin-<scheme>; a version; capabilities.login. A protocol_minor
//     newer than this kit's is a warning, not a failure.
//   - describe is cheap: a second Describe answers within 100 ms.
//   - config schema: field and flag names present and unique, known types,
//     enums on strings only, defaults of their field's type and inside its
//     enum; action names valid and unique.
//   - configure rejects an unknown key, configure rejects a wrong type: an
//     error diagnostic whose field is the culprit.
//   - configure accepts the config: Options.Config draws no error.
//   - login: a credential with a token or a header (or marked per_request),
//     header names that are HTTP tokens, no CR or LF in values, no past
//     expiry. Prompts are answered from Options.Answers, for at most 8
//     rounds. A plugin that declares login_challenge (minor 4) gets
//     Options.Challenge as the server's first 401. With
//     Options.LoginError, the login must instead fail with an error of
//     that class (its gRPC code, docs/plugin-protocol.md).
//   - login rejects a bad config: Login with an unknown config key fails
//     with INVALID_ARGUMENT (exit 2), before any network call.
//   - input required: Login asked and its continuation completed.
//   - login stream (protocol minor 3): LoginStream with a UI sends notices
//     and URLs the host would show (no control character in a notice but
//     line feed and tab, absolute http(s) URLs, both bounded), then exactly
//     one result, the last event, with a well-formed credential. The login
//     check above goes through it too, with a UI that opens nothing.
//   - login without a UI (minor 3): LoginStream without a UI, as in a
//     non-interactive run, sends no notice or URL and answers within 5 s
//     (or the timeout, when shorter): a credential, input required, or
//     FAILED_PRECONDITION; a login that waits for the user fails.
//   - refresh, apply, handle challenge, logout: when claimed, a well-formed
//     answer to a call with the login's credential; when not, UNIMPLEMENTED.
//     Apply's state (minor 4), when it returns one, round-trips: a second
//     Apply carrying it answers well-formed headers too. HandleChallenge
//     gets a 401 with Options.Challenge's headers.
//   - second refusal (minor 4, handle_challenge): HandleChallenge with
//     retried set answers a decision (which the host ignores) with a
//     diagnosis, or a classified error.
//   - run action: an action no plugin has is refused with UNIMPLEMENTED.
//   - stdout stays clean: nothing on stdout after the handshake.
//   - shutdown: go-plugin's controller (plugin.GRPCController/Shutdown,
//     how authx stops a plugin) is served, and the plugin exits within 2 s
//     of it, before go-plugin would kill it.
//   - exits when its host dies: under a /bin/sh host killed with SIGKILL,
//     the plugin exits within 5 s (Linux only).
package plugintest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/authx/authx/core"
)

// DefaultTimeout bounds each check when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultURL is the profile url of the calls when Options.URL is empty: a
// name under .test (RFC 6761), which no server answers.
const DefaultURL = "https://api.example.test/"

// DefaultChallenge is the WWW-Authenticate of the synthetic 401 given to
// HandleChallenge when Options.Challenge is nil.
const DefaultChallenge = `Bearer error="invalid_token"`

// Options says which plugin to check and with what.
type Options struct {
	// Path is the plugin executable. When its file name is
	// authx-plugin-<scheme>, the plugin must describe itself as <scheme>.
	Path string
	// URL is the profile url sent with every call; empty means DefaultURL.
	URL string
	// Challenge holds the headers of the synthetic 401 the kit shows the
	// plugin (e.g. WWW-Authenticate: Digest realm="x", nonce="y"): as
	// LoginRequest.Challenge in every login, for a plugin that declares
	// login_challenge, and in HandleChallenge. Nil: logins get no
	// challenge (as when the server could not be probed) and
	// HandleChallenge gets DefaultChallenge.
	Challenge http.Header
	// LoginError, when set, is the class of error the login must fail with
	// (a wrong password given on purpose: core.KindRejected); the login
	// check then passes only on such an error, and the calls that need its
	// credential are skipped.
	LoginError core.Kind
	// Config is a valid profile config, with secret references already
	// resolved. Nil skips the checks that need one (login, and every call
	// that needs the login's credential); they are reported as Skip.
	Config map[string]any
	// Answers answers the plugin's prompts (Login's input-required flow),
	// by prompt id.
	Answers map[string]string
	// Timeout bounds each check; zero means DefaultTimeout.
	Timeout time.Duration
	// Logger receives the host's log and the plugin's own log lines (its
	// stderr, parsed as authx parses it), as core/host.Options.Logger
	// does; nil discards them.
	Logger hclog.Logger
}

// Status is the outcome of one check.
type Status int

// The outcomes of a check.
const (
	Pass Status = iota + 1
	Fail
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "FAIL"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Result is the outcome of one check. Detail is one line that never holds a
// secret: credentials are described by their shape (header names, expiry),
// never by their values.
type Result struct {
	Check    string
	Status   Status
	Detail   string
	Duration time.Duration
}

// Report is every check's result, in the kit's fixed order.
type Report []Result

// Failed reports whether at least one check failed.
func (r Report) Failed() bool {
	for _, res := range r {
		if res.Status == Fail {
			return true
		}
	}
	return false
}

// WriteTable writes r as an aligned table, one line per check (check,
// status, detail), then a line "N passed, N failed, N skipped".
func (r Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
	counts := map[Status]int{}
	for _, res := range r {
		counts[res.Status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\n", res.Check, res.Status, oneLine(res.Detail))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", counts[Pass], counts[Fail], counts[Skip])
}

// Test runs the kit against o.Path from a Go test: it logs the table and
// reports every failed check with t.Errorf.
func Test(t testing.TB, o Options) {
	t.Helper()
	r := Run(t.Context(), o)
	var b strings.Builder
	r.WriteTable(&b)
	t.Log("authx plugin conformance, " + o.Path + ":\n" + b.String())
	for _, res := range r {
		if res.Status == Fail {
			t.Errorf("%s: %s", res.Check, oneLine(res.Detail))
		}
	}
}

// maxDetail bounds a Detail, which may quote the plugin.
const maxDetail = 200

// oneLine keeps s to one short line for the table.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxDetail {
		cut := maxDetail
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
