package session

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/secret"
)

// fakeUI records what a login shows the user.
type fakeUI struct {
	mu            sync.Mutex
	notices, urls []string
}

func (u *fakeUI) Notify(_ context.Context, m string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.notices = append(u.notices, m)
	return nil
}

func (u *fakeUI) OpenURL(_ context.Context, m string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.urls = append(u.urls, m)
	return nil
}

// deviceSession is a session of the device test scheme, whose login shows
// a code and opens a URL through the session's UI.
func deviceSession(t *testing.T, dir string, interactive bool, ui core.UI) *Session {
	h := host.New(host.Options{SearchPath: []string{dir}})
	t.Cleanup(h.Close)
	s := &Session{
		Profile:    &config.Profile{Name: "dev", Scheme: "device", Config: map[string]any{"code": "ABCD-EFGH", "id_token": "eyJh.eyJz.c2ln"}},
		ConfigFile: "/etc/authx.yaml", Host: h, Store: cache.New(filepath.Join(dir, "cache")), Secrets: &secret.Resolver{},
		Skew: core.DefaultRefreshSkew, CallTimeout: 5 * time.Second, Interactive: interactive, UI: ui,
	}
	t.Cleanup(s.Close)
	return s
}

// Issue 11, point 5: an interactive session hands its UI to the plugin's
// login, which shows the device code and URL through it; the credential
// and its id token are cached and served from the cache.
func TestLoginThroughTheUI(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", dir, "../internal/testkit/cmd/authx-plugin-device").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ui := &fakeUI{}
	s := deviceSession(t, dir, true, ui)
	res, err := s.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != LoggedIn || res.Credential.Token != "device-ABCD-EFGH" || res.Credential.IDToken != "eyJh.eyJz.c2ln" {
		t.Errorf("login: %+v", res)
	}
	if !slices.Equal(ui.notices, []string{"To sign in, open https://idp.example.com/device\nand enter the code ABCD-EFGH"}) ||
		!slices.Equal(ui.urls, []string{"https://idp.example.com/device?user_code=ABCD-EFGH"}) {
		t.Errorf("shown: notices %q, URLs %q", ui.notices, ui.urls)
	}
	res, err = deviceSession(t, dir, false, nil).Get(context.Background())
	if err != nil || res.Source != FromCache || res.Credential.IDToken != "eyJh.eyJz.c2ln" {
		t.Errorf("from the cache: %+v, %v", res, err)
	}

	// Without a terminal, or without a UI, the plugin gets none and fails
	// at once; the UI is never used.
	for _, tt := range []struct {
		name        string
		interactive bool
		ui          *fakeUI
	}{{"non-interactive", false, &fakeUI{}}, {"no UI", true, nil}} {
		var ui core.UI
		if tt.ui != nil {
			ui = tt.ui
		}
		start := time.Now()
		_, err := deviceSession(t, dir, tt.interactive, ui).Login(context.Background())
		took := time.Since(start)
		want := "the device login needs a browser and this run is non-interactive; run: authx login dev"
		if core.KindOf(err) != core.KindLoginRequired || err == nil || err.Error() != want || took > 2*time.Second {
			t.Errorf("%s: %v (%v) after %s; want %q at once", tt.name, err, core.KindOf(err), took, want)
		}
		if tt.ui != nil && (len(tt.ui.notices) > 0 || len(tt.ui.urls) > 0) {
			t.Errorf("%s: the UI was used: %q %q", tt.name, tt.ui.notices, tt.ui.urls)
		}
	}
}

func TestLoginHint(t *testing.T) {
	s := &Session{Profile: &config.Profile{Name: "work"}, ConfigFile: "/c.yaml"}
	tests := []struct {
		err  error
		want string
	}{
		{core.Errorf(core.KindLoginRequired, "the browser login needs a terminal; run: authx login"), "the browser login needs a terminal; run: authx login work"},
		{core.Errorf(core.KindLoginRequired, "refresh token expired."), "refresh token expired; run: authx login work"},
		{core.Errorf(core.KindLoginRequired, "x; run: authx login work"), "x; run: authx login work"},
		{core.Errorf(core.KindRejected, "bad password"), "bad password"},
	}
	for _, tt := range tests {
		got := s.loginHint(tt.err)
		if got.Error() != tt.want || core.KindOf(got) != core.KindOf(tt.err) {
			t.Errorf("%q → %q (%v), want %q", tt.err, got, core.KindOf(got), tt.want)
		}
	}
	adhoc := &Session{Profile: &config.Profile{Name: "basic"}}
	if err := core.Errorf(core.KindLoginRequired, "needs input"); adhoc.loginHint(err) != err {
		t.Errorf("an ad-hoc profile has no name to log in to: %v", adhoc.loginHint(err))
	}
}

// A login with a UI waits for the user longer than call_timeout.
func TestUILoginTimeout(t *testing.T) {
	s := &Session{CallTimeout: time.Second}
	for _, ui := range []bool{false, true} {
		ctx, cancel := s.loginCtx(context.Background(), ui)
		d, _ := ctx.Deadline()
		cancel()
		if left := time.Until(d); ui && left < UILoginTimeout-time.Minute || !ui && left > time.Second {
			t.Errorf("ui %v: %s left", ui, left)
		}
	}
}
