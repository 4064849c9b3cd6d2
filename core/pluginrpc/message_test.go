package pluginrpc

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authx/authx/core"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// hostileRPC answers HandleChallenge with a diagnosis of its choice.
type hostileRPC struct {
	pluginv1.AuthSchemeClient
	diagnosis string
}

func (h hostileRPC) HandleChallenge(context.Context, *pluginv1.HandleChallengeRequest, ...grpc.CallOption) (*pluginv1.HandleChallengeResponse, error) {
	return &pluginv1.HandleChallengeResponse{Decision: pluginv1.HandleChallengeResponse_DECISION_FAIL, Diagnosis: h.diagnosis}, nil
}

// A plugin's error message and diagnosis reach the user's terminal as
// one line: like a notice (CheckNotice), they may not carry a terminal
// escape or be megabytes long, whatever the plugin, or the server it
// quotes (a WWW-Authenticate of a thousand challenges), says.
func TestPluginMessagesAreBounded(t *testing.T) {
	for _, raw := range []string{
		"refused \x1b]0;pwned\x07 by \x9b31m the server",
		"the server offers " + strings.Repeat("Foo, Bar, ", 100000),
		"bad UTF-8 \xff\xfe here\r\nsecond line",
	} {
		check := func(what, got string) {
			t.Helper()
			if len(got) > MaxMessageSize+100 || !utf8.ValidString(got) ||
				strings.ContainsFunc(got, func(r rune) bool { return isControl(r) && r != '\t' }) {
				t.Errorf("%s: %d bytes %q", what, len(got), got[:min(len(got), 80)])
			}
			if !strings.HasPrefix(got, strings.Fields(raw)[0]) && !strings.Contains(got, strings.Fields(raw)[0]) {
				t.Errorf("%s: %q lost the message", what, got[:min(len(got), 80)])
			}
		}
		for _, c := range []codes.Code{codes.Unauthenticated, codes.Internal, codes.Unavailable, codes.ResourceExhausted} {
			check("error "+c.String(), fromStatus(status.Error(c, raw), "login").Error())
		}
		res, err := NewClient(hostileRPC{diagnosis: raw}).HandleChallenge(context.Background(), core.ChallengeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		check("diagnosis", res.Diagnosis)
	}
}

// FuzzMessage: whatever a plugin says, the host passes on one line of
// valid UTF-8, without control characters but tab, at most MaxMessageSize
// bytes and "…", and a short clean first line unchanged.
func FuzzMessage(f *testing.F) {
	f.Add("credentials rejected: the server refused user \"alice\"")
	f.Add("a\x1b[2Jb\r\nc")
	f.Add("\xff\xfe\x9b31m")
	f.Add(strings.Repeat("é", MaxMessageSize))
	f.Fuzz(func(t *testing.T, s string) {
		got := message(s)
		if len(got) > MaxMessageSize+len("…") || !utf8.ValidString(got) || strings.ContainsAny(got, "\r\n") ||
			strings.ContainsFunc(got, func(r rune) bool { return r != '\t' && isControl(r) }) {
			t.Fatalf("message(%q) = %q", s, got)
		}
		first := firstLine(s)
		if len(first) <= MaxMessageSize && utf8.ValidString(first) && !strings.ContainsFunc(first, func(r rune) bool { return r != '\t' && isControl(r) }) && got != first {
			t.Fatalf("message(%q) = %q, want the clean first line unchanged", s, got)
		}
	})
}
