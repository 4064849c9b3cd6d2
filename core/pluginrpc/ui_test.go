package pluginrpc_test

import (
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/pluginrpc"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// recordingUI is a core.UI that records what it is asked to show.
type recordingUI struct {
	mu      sync.Mutex
	notices []string
	urls    []string
}

func (u *recordingUI) Notify(_ context.Context, msg string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.notices = append(u.notices, msg)
	return nil
}

func (u *recordingUI) OpenURL(_ context.Context, rawURL string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.urls = append(u.urls, rawURL)
	return nil
}

// streamRPC is a plugin speaking the wire directly: it describes minor,
// answers the unary Login with a credential and LoginStream with events.
type streamRPC struct {
	pluginv1.AuthSchemeClient
	minor  uint32
	events []*pluginv1.LoginEvent

	unary, streamed int
	ui              bool // LoginRequest.ui of the last LoginStream
}

func (r *streamRPC) Describe(context.Context, *pluginv1.DescribeRequest, ...grpc.CallOption) (*pluginv1.DescribeResponse, error) {
	return &pluginv1.DescribeResponse{Name: "raw", Version: "1", ProtocolMinor: r.minor}, nil
}

func (r *streamRPC) Login(context.Context, *pluginv1.LoginRequest, ...grpc.CallOption) (*pluginv1.LoginResponse, error) {
	r.unary++
	return result("unary").GetResult(), nil
}

func (r *streamRPC) LoginStream(_ context.Context, req *pluginv1.LoginRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[pluginv1.LoginEvent], error) {
	r.streamed++
	r.ui = req.GetUi()
	return &fakeStream{events: r.events}, nil
}

// fakeStream hands out its events, then io.EOF.
type fakeStream struct {
	grpc.ClientStream
	events []*pluginv1.LoginEvent
}

func (s *fakeStream) Recv() (*pluginv1.LoginEvent, error) {
	if len(s.events) == 0 {
		return nil, io.EOF
	}
	ev := s.events[0]
	s.events = s.events[1:]
	return ev, nil
}

func notice(m string) *pluginv1.LoginEvent {
	return &pluginv1.LoginEvent{Event: &pluginv1.LoginEvent_Notice{Notice: &pluginv1.Notice{Message: m}}}
}

func openURL(u string) *pluginv1.LoginEvent {
	return &pluginv1.LoginEvent{Event: &pluginv1.LoginEvent_OpenUrl{OpenUrl: &pluginv1.OpenURL{Url: u}}}
}

func result(token string) *pluginv1.LoginEvent {
	return &pluginv1.LoginEvent{Event: &pluginv1.LoginEvent_Result{Result: &pluginv1.LoginResponse{
		Result: &pluginv1.LoginResponse_Credential{Credential: &pluginv1.Credential{Token: token, IdToken: "id." + token}}}}}
}

// Issue 11, point 5: the host shows a plugin's notices and URLs only once
// checked: bounded, no control character in a notice but LF and tab, an
// absolute http(s) URL without whitespace or control characters.
func TestLoginStreamEventsAreChecked(t *testing.T) {
	many := make([]*pluginv1.LoginEvent, pluginrpc.MaxLoginEvents+1)
	for i := range many {
		many[i] = notice("still waiting")
	}
	tests := []struct {
		name    string
		events  []*pluginv1.LoginEvent
		noUI    bool
		want    string // "" when the login succeeds
		notices []string
		urls    []string
	}{
		{name: "notice, URL, result", events: []*pluginv1.LoginEvent{notice("Open https://idp/device\nand enter\tWDJB-MJHT ✓"), openURL("https://idp/device?user_code=WDJB-MJHT"), result("t")},
			notices: []string{"Open https://idp/device\nand enter\tWDJB-MJHT ✓"}, urls: []string{"https://idp/device?user_code=WDJB-MJHT"}},
		{name: "result alone", events: []*pluginv1.LoginEvent{result("t")}},
		{name: "result alone without a UI", events: []*pluginv1.LoginEvent{result("t")}, noUI: true},
		{name: "an unknown event is skipped", events: []*pluginv1.LoginEvent{{}, result("t")}},
		{name: "ESC in a notice", events: []*pluginv1.LoginEvent{notice("code \x1b]0;pwned\x07\x1b[2J"), result("t")}, want: "plugin login sent an unusable notice: the notice holds a control character"},
		{name: "CR in a notice", events: []*pluginv1.LoginEvent{notice("code\rpwned"), result("t")}, want: "the notice holds a control character"},
		{name: "C1 CSI in a notice", events: []*pluginv1.LoginEvent{notice("code \u009b2J"), result("t")}, want: "the notice holds a control character"},
		{name: "invalid UTF-8 in a notice", events: []*pluginv1.LoginEvent{notice("code \x9b2J"), result("t")}, want: "the notice is not valid UTF-8"},
		{name: "large notice", events: []*pluginv1.LoginEvent{notice(strings.Repeat("x", pluginrpc.MaxNoticeSize+1)), result("t")}, want: "the notice is larger than 4 KiB"},
		{name: "javascript URL", events: []*pluginv1.LoginEvent{openURL("javascript:alert(1)"), result("t")}, want: "plugin login sent an unusable URL: the URL to open is not an absolute http(s) URL"},
		{name: "file URL", events: []*pluginv1.LoginEvent{openURL("file:///etc/passwd"), result("t")}, want: "not an absolute http(s) URL"},
		{name: "relative URL", events: []*pluginv1.LoginEvent{openURL("/device"), result("t")}, want: "not an absolute http(s) URL"},
		{name: "URL without a host", events: []*pluginv1.LoginEvent{openURL("https:///device"), result("t")}, want: "not an absolute http(s) URL"},
		{name: "option as a URL", events: []*pluginv1.LoginEvent{openURL("--new-window=https://x"), result("t")}, want: "not an absolute http(s) URL"},
		{name: "newline in a URL", events: []*pluginv1.LoginEvent{openURL("https://idp/\nx"), result("t")}, want: "the URL to open holds whitespace"},
		{name: "space in a URL", events: []*pluginv1.LoginEvent{openURL("https://idp/ x"), result("t")}, want: "the URL to open holds whitespace"},
		{name: "large URL", events: []*pluginv1.LoginEvent{openURL("https://idp/?q=" + strings.Repeat("x", pluginrpc.MaxURLSize)), result("t")}, want: "the URL to open is larger than 8 KiB"},
		{name: "a notice without a UI", events: []*pluginv1.LoginEvent{notice("hi"), result("t")}, noUI: true, want: "plugin login sent a notice although the host offered no UI"},
		{name: "a URL without a UI", events: []*pluginv1.LoginEvent{openURL("https://idp/"), result("t")}, noUI: true, want: "plugin login sent a URL to open although the host offered no UI"},
		{name: "no result", events: []*pluginv1.LoginEvent{notice("hi")}, want: "plugin login stream ended without a result", notices: []string{"hi"}},
		{name: "endless notices", events: many, want: "plugin login sent more than 1024 notices and URLs", notices: slices.Repeat([]string{"still waiting"}, pluginrpc.MaxLoginEvents)},
		{name: "bad credential in the result", events: []*pluginv1.LoginEvent{{Event: &pluginv1.LoginEvent_Result{Result: &pluginv1.LoginResponse{
			Result: &pluginv1.LoginResponse_Credential{Credential: &pluginv1.Credential{Token: "t", IdToken: "a\r\nb"}}}}}}, want: "plugin login answered an unusable credential: the id token holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rpc := &streamRPC{minor: 3, events: tt.events}
			c := pluginrpc.NewClient(rpc)
			if _, err := c.Describe(context.Background()); err != nil {
				t.Fatal(err)
			}
			ui := &recordingUI{}
			req := core.LoginRequest{UI: ui}
			if tt.noUI {
				req.UI = nil
			}
			cred, err := c.Login(context.Background(), req)
			if rpc.streamed != 1 || rpc.unary != 0 || rpc.ui == tt.noUI {
				t.Errorf("LoginStream %d times (ui %v), Login %d times; want LoginStream once with ui %v", rpc.streamed, rpc.ui, rpc.unary, !tt.noUI)
			}
			if tt.want == "" {
				if err != nil || cred.Token != "t" || cred.IDToken != "id.t" {
					t.Fatalf("login: %+v, %v", cred, err)
				}
			} else {
				if err == nil || core.KindOf(err) != core.KindPlugin || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("login: %v (%v), want a plugin failure with %q", err, core.KindOf(err), tt.want)
				}
				if strings.ContainsAny(err.Error(), "\r\n\x1b\x00") || strings.Contains(err.Error(), "pwned") {
					t.Errorf("the error %q quotes what it refused", err)
				}
			}
			if !slices.Equal(ui.notices, tt.notices) || !slices.Equal(ui.urls, tt.urls) {
				t.Errorf("shown: %d notices %.200q, URLs %q; want %d, %.200q, %q", len(ui.notices), ui.notices, ui.urls, len(tt.notices), tt.notices, tt.urls)
			}
		})
	}
}

// A plugin older than minor 3 gets the unary Login, and the host's UI is
// not used.
func TestOldPluginGetsUnaryLogin(t *testing.T) {
	for _, minor := range []uint32{0, 1, 2} {
		rpc := &streamRPC{minor: minor, events: []*pluginv1.LoginEvent{notice("hi"), result("t")}}
		c := pluginrpc.NewClient(rpc)
		if _, err := c.Describe(context.Background()); err != nil {
			t.Fatal(err)
		}
		ui := &recordingUI{}
		cred, err := c.Login(context.Background(), core.LoginRequest{UI: ui})
		if err != nil || cred.Token != "unary" || rpc.unary != 1 || rpc.streamed != 0 || len(ui.notices) != 0 {
			t.Errorf("minor %d: %+v, %v; Login %d, LoginStream %d, notices %q", minor, cred, err, rpc.unary, rpc.streamed, ui.notices)
		}
	}
}

// buildDevice builds the device test plugin once.
var buildDevice = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "authx-pluginrpc-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "authx-plugin-device")
	out, err := exec.Command("go", "build", "-o", bin, "../internal/testkit/cmd/authx-plugin-device").CombinedOutput()
	if err != nil {
		return "", &exec.Error{Name: string(out), Err: err}
	}
	return bin, nil
})

// Issue 11, point 5: a real plugin process (the SDK's server adapter, the
// host's client adapter) streams its notice and URL, then the credential
// with its id token; without a UI its login fails at once.
func TestLoginStreamThroughAPluginProcess(t *testing.T) {
	bin, err := buildDevice()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(bin)) })
	t.Setenv("TMPDIR", t.TempDir())
	h := host.New(host.Options{})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := h.Start(ctx, host.Spec{Scheme: "device", Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Describe(ctx)
	if err != nil || d.ProtocolMinor != pluginrpc.ProtocolMinor || d.ProtocolMinor < pluginrpc.StreamMinor {
		t.Fatalf("describe: %+v, %v", d, err)
	}
	cfg := core.Config{"code": "ABCD-EFGH", "id_token": "eyJh.eyJz.c2ln"}
	ui := &recordingUI{}
	cred, err := p.Login(ctx, core.LoginRequest{Config: cfg, UI: ui})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Token != "device-ABCD-EFGH" || cred.IDToken != "eyJh.eyJz.c2ln" {
		t.Errorf("credential: token %q, id token %q", cred.Token, cred.IDToken)
	}
	wantNotice := "To sign in, open https://idp.example.com/device\nand enter the code ABCD-EFGH"
	if len(ui.notices) != 1 || ui.notices[0] != wantNotice || len(ui.urls) != 1 || ui.urls[0] != "https://idp.example.com/device?user_code=ABCD-EFGH" {
		t.Errorf("shown: notices %q, URLs %q", ui.notices, ui.urls)
	}
	start := time.Now()
	_, err = p.Login(ctx, core.LoginRequest{Config: cfg})
	if core.KindOf(err) != core.KindLoginRequired || !strings.HasSuffix(err.Error(), "run: authx login") || time.Since(start) > time.Second {
		t.Errorf("without a UI: %v (%v) after %s, want login required at once", err, core.KindOf(err), time.Since(start))
	}
}

// FuzzCheckNotice: a notice CheckNotice accepts is valid UTF-8 of at most
// MaxNoticeSize bytes with no control character but LF and tab; the error
// never quotes the notice.
func FuzzCheckNotice(f *testing.F) {
	for _, s := range []string{"Open https://idp/device\nand enter WDJB-MJHT", "\x1b[2J\x1b]0;pwned\x07", "a\rb", "\u009b2J", "\x9b", "\x00", "\x7f", "tab\there ✓"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		err := pluginrpc.CheckNotice(msg)
		if err != nil {
			if core.KindOf(err) != core.KindPlugin || strings.ContainsAny(err.Error(), "\r\n\x1b\x00") || len(msg) >= 8 && strings.Contains(err.Error(), msg) {
				t.Fatalf("error %q (%v)", err, core.KindOf(err))
			}
			return
		}
		if len(msg) > pluginrpc.MaxNoticeSize || !utf8.ValidString(msg) {
			t.Fatalf("accepted %q", msg)
		}
		for _, r := range msg {
			if r != '\n' && r != '\t' && (r < 0x20 || r >= 0x7f && r <= 0x9f) {
				t.Fatalf("accepted the control character %U in %q", r, msg)
			}
		}
	})
}

// FuzzCheckURL: a URL CheckURL accepts parses as an absolute http(s) URL
// with a host and holds no whitespace, control or non-ASCII byte, so it
// cannot pass for a browser's option or break a line.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://idp.example.com/device?user_code=WDJB-MJHT", "javascript:alert(1)", "file:///etc/passwd", "--new-window", "https://idp/\nx", "HTTPS://IDP/", "http:idp", "https://user@idp/", "http://[::1]:8080/cb", "https://idp/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := pluginrpc.CheckURL(raw)
		if err != nil {
			if core.KindOf(err) != core.KindPlugin || strings.ContainsAny(err.Error(), "\r\n\x00") || len(raw) >= 8 && strings.Contains(err.Error(), raw) {
				t.Fatalf("error %q (%v)", err, core.KindOf(err))
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || strings.HasPrefix(raw, "-") || len(raw) > pluginrpc.MaxURLSize {
			t.Fatalf("accepted %q", raw)
		}
		if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			t.Fatalf("accepted %q", raw)
		}
	})
}

// uiProbe records whether its Login got a UI, and keeps it.
type uiProbe struct {
	mu   sync.Mutex
	ui   core.UI
	seen []bool
	bad  error // what Notify answered for a notice with an escape
}

func (*uiProbe) Describe() core.Description                               { return core.Description{Name: "probe", Version: "1"} }
func (*uiProbe) Configure(context.Context, core.Config) []core.Diagnostic { return nil }
func (p *uiProbe) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ui, p.seen = req.UI, append(p.seen, req.UI != nil)
	if req.UI != nil {
		p.bad = req.UI.Notify(ctx, "\x1b[2J")
		if err := req.UI.Notify(ctx, "hi"); err != nil {
			return nil, err
		}
	}
	return &core.Credential{Token: "t"}, nil
}

// The SDK's side: the unary Login, and a LoginStream without ui, give the
// scheme no UI; with ui, the scheme's UI checks what it sends as the host
// will, and refuses calls once the login has returned.
func TestServerUI(t *testing.T) {
	probe := &uiProbe{}
	c := connect(t, probe)
	ctx := context.Background()
	if _, err := c.Login(ctx, core.LoginRequest{UI: &recordingUI{}}); err != nil { // no Describe yet: the unary Login
		t.Fatal(err)
	}
	if _, err := c.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, core.LoginRequest{}); err != nil {
		t.Fatal(err)
	}
	ui := &recordingUI{}
	if _, err := c.Login(ctx, core.LoginRequest{UI: ui}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(probe.seen, []bool{false, false, true}) {
		t.Errorf("the scheme got a UI: %v, want only in the LoginStream with ui", probe.seen)
	}
	if !slices.Equal(ui.notices, []string{"hi"}) || probe.bad == nil || !strings.Contains(probe.bad.Error(), "control character") {
		t.Errorf("notices %q; the escape was answered %v", ui.notices, probe.bad)
	}
	if err := probe.ui.Notify(ctx, "late"); err == nil || len(ui.notices) != 1 {
		t.Errorf("a notice after the login returned: %v, notices %q", err, ui.notices)
	}
}
