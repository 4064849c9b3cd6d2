package plugintest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginrpc"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// noUILimit bounds a login without a UI: one that needs the user must fail
// at once, and one that does not is a token request or two.
const noUILimit = 5 * time.Second

// kitUI is the UI the kit's logins get: it records how many notices and
// URLs it was asked to show and opens nothing.
type kitUI struct {
	mu            sync.Mutex
	notices, urls int
}

func (u *kitUI) Notify(context.Context, string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.notices++
	return nil
}

func (u *kitUI) OpenURL(context.Context, string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.urls++
	return nil
}

// streams says why the LoginStream checks cannot run, or "".
func (r *runner) streams() string {
	switch {
	case !r.described:
		return "Describe failed"
	case r.desc.ProtocolMinor < pluginrpc.StreamMinor:
		return fmt.Sprintf("protocol v%d.%d has no LoginStream (v%d.%d): authx calls Login, without a UI", pluginrpc.ProtocolMajor, r.desc.ProtocolMinor, pluginrpc.ProtocolMajor, pluginrpc.StreamMinor)
	case r.o.Config == nil:
		return "no Config given"
	}
	return ""
}

// loginStream calls LoginStream with a UI, answering prompts from
// Options.Answers, and checks every event: notices and URLs the host would
// show (pluginrpc.CheckNotice, CheckURL), then exactly one result, the
// last event, with a well-formed credential.
func (r *runner) loginStream(ctx context.Context) (Status, string) {
	if why := r.streams(); why != "" {
		return Skip, why
	}
	req := &pluginv1.LoginRequest{Config: r.wire(), Url: r.o.URL, Interactive: true, Ui: true, Challenge: r.wireLoginChallenge()}
	notices, urls := 0, 0
	for range maxRounds {
		events, err := r.stream(ctx, req)
		if want := r.o.LoginError; want != 0 && (err != nil || !hasCredential(events)) {
			if err != nil {
				err = pluginrpc.FromStatus(err, "login")
			}
			return loginFailed(want, err)
		}
		if err != nil {
			return Fail, "LoginStream failed: " + errLine(err)
		}
		res, problems := eventProblems(events)
		if len(problems) > 0 {
			return Fail, strings.Join(problems, "; ")
		}
		for _, ev := range events {
			if ev.GetNotice() != nil {
				notices++
			} else if ev.GetOpenUrl() != nil {
				urls++
			}
		}
		shown := plural(notices, "notice", "notices") + " and " + plural(urls, "URL", "URLs")
		if ir := res.GetInputRequired(); ir != nil {
			var ps []core.Prompt
			for _, p := range ir.GetPrompts() {
				ps = append(ps, core.Prompt{ID: p.GetId()})
			}
			answers, missing := r.answer(ps)
			if len(missing) > 0 || len(ps) == 0 {
				return Fail, fmt.Sprintf("LoginStream asks for %s: give the answers (Options.Answers, or --answers FILE)", list(missing))
			}
			req.Answers, req.Continuation = answers, ir.GetContinuation()
			continue
		}
		cred := pluginrpc.FromCredential(res.GetCredential())
		if err := cred.Validate(); err != nil {
			return Fail, "the result's credential: " + err.Error()
		}
		return failures(credentialProblems(cred), shown+", then a credential: "+shape(cred))
	}
	return Fail, fmt.Sprintf("LoginStream still asked for input after %d rounds", maxRounds)
}

// loginWithoutUI calls LoginStream without a UI, as a non-interactive host
// does: the plugin must send no notice or URL and answer within noUILimit,
// with a credential, input required (which such a host refuses at once)
// or FAILED_PRECONDITION, never wait for a user who is not there.
func (r *runner) loginWithoutUI(ctx context.Context) (Status, string) {
	if why := r.streams(); why != "" {
		return Skip, why
	}
	limit := min(noUILimit, r.o.Timeout)
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	events, err := r.stream(cctx, &pluginv1.LoginRequest{Config: r.wire(), Url: r.o.URL, Challenge: r.wireLoginChallenge()})
	took := time.Since(start).Round(time.Millisecond)
	for _, ev := range events {
		switch {
		case ev.GetNotice() != nil:
			return Fail, "sent a notice although LoginRequest.ui is false (the host shows nothing then)"
		case ev.GetOpenUrl() != nil:
			return Fail, "sent a URL to open although LoginRequest.ui is false (the host opens nothing then)"
		}
	}
	want := r.o.LoginError
	switch {
	case want != 0 && err != nil && cctx.Err() == nil && core.KindOf(pluginrpc.FromStatus(err, "login")) == want:
		return Pass, fmt.Sprintf("fails in %s as expected, class %q: %s", took, want, errLine(err))
	case cctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded:
		return Fail, fmt.Sprintf("no answer within %s without a UI: a non-interactive run would hang; fail at once with FAILED_PRECONDITION", limit)
	case status.Code(err) == codes.FailedPrecondition:
		return Pass, fmt.Sprintf("fails in %s with FAILED_PRECONDITION: %s", took, status.Convert(err).Message())
	case err != nil:
		return Fail, "LoginStream without a UI failed with " + errLine(err) + " (a login that needs the user fails with FAILED_PRECONDITION)"
	}
	res, problems := eventProblems(events)
	switch {
	case len(problems) > 0:
		return Fail, strings.Join(problems, "; ")
	case res.GetInputRequired() != nil:
		return Pass, "asks for input, which a non-interactive host refuses at once"
	}
	return Pass, "logs in without the user, in " + took.String()
}

// wireLoginChallenge is loginChallenge on the wire.
func (r *runner) wireLoginChallenge() *pluginv1.HTTPResponse {
	if r.loginChallenge() == nil {
		return nil
	}
	return r.wireChallenge()
}

// hasCredential reports whether a stream's events end in a credential.
func hasCredential(events []*pluginv1.LoginEvent) bool {
	return len(events) > 0 && events[len(events)-1].GetResult().GetCredential() != nil
}

// stream runs one LoginStream to its end and returns its events.
func (r *runner) stream(ctx context.Context, req *pluginv1.LoginRequest) ([]*pluginv1.LoginEvent, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := r.raw.LoginStream(ctx, req)
	if err != nil {
		return nil, err
	}
	var events []*pluginv1.LoginEvent
	for len(events) <= pluginrpc.MaxLoginEvents {
		ev, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// eventProblems checks a LoginStream's events: known kinds, notices and
// URLs the host would show, one result as the last event. It returns the
// result.
func eventProblems(events []*pluginv1.LoginEvent) (*pluginv1.LoginResponse, []string) {
	var res *pluginv1.LoginResponse
	var problems []string
	if len(events) > pluginrpc.MaxLoginEvents {
		problems = append(problems, fmt.Sprintf("more than %d events", pluginrpc.MaxLoginEvents))
	}
	for i, ev := range events {
		n := i + 1
		switch e := ev.GetEvent().(type) {
		case *pluginv1.LoginEvent_Notice:
			if err := pluginrpc.CheckNotice(e.Notice.GetMessage()); err != nil {
				problems = append(problems, fmt.Sprintf("event %d: %v", n, err))
			}
		case *pluginv1.LoginEvent_OpenUrl:
			if err := pluginrpc.CheckURL(e.OpenUrl.GetUrl()); err != nil {
				problems = append(problems, fmt.Sprintf("event %d: %v", n, err))
			}
		case *pluginv1.LoginEvent_Result:
			if res != nil {
				problems = append(problems, fmt.Sprintf("event %d: a second result", n))
			}
			res = e.Result
			if e.Result.GetCredential() == nil && e.Result.GetInputRequired() == nil {
				problems = append(problems, fmt.Sprintf("event %d: a result with neither a credential nor input required", n))
			}
		default:
			problems = append(problems, fmt.Sprintf("event %d: neither a notice, a URL nor a result", n))
		}
		if res != nil && ev.GetResult() == nil {
			problems = append(problems, fmt.Sprintf("event %d follows the result (the result ends the stream)", n))
		}
	}
	if res == nil {
		problems = append(problems, "the stream ended without a result")
	}
	return res, problems
}
