package host

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A call that failed on a broken connection is reported as the plugin's
// crash only for authx's own methods. go-plugin's controller Shutdown, which
// Kill sends and which the stopping plugin may never answer, is not: it
// used to wait for the process to be reaped in 5 ms steps, which made every
// plugin stop, and so every cold `authx token`, 5 ms slower.
func TestCrashedOnlyForAuthxCalls(t *testing.T) {
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	broken := status.Error(codes.Unavailable, "error reading from server: EOF")
	tests := []struct {
		name      string
		method    string
		reapedIn  time.Duration // -1: never within the test
		err       error
		wantCrash bool
		within    time.Duration
	}{
		{"controller shutdown, plugin gone", "/plugin.GRPCController/Shutdown", 0, broken, false, 50 * time.Millisecond},
		{"controller shutdown, plugin still exiting", "/plugin.GRPCController/Shutdown", -1, broken, false, 50 * time.Millisecond},
		{"login, plugin gone", "/authx.plugin.v1.AuthScheme/Login", 0, broken, true, 50 * time.Millisecond},
		{"login, plugin reaped a little later", "/authx.plugin.v1.AuthScheme/Login", 20 * time.Millisecond, broken, true, 150 * time.Millisecond},
		{"login, plugin alive", "/authx.plugin.v1.AuthScheme/Login", -1, broken, false, time.Second},
		{"login, an ordinary error", "/authx.plugin.v1.AuthScheme/Login", -1, errors.New("rejected"), false, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newExitedRunner()
			if tt.reapedIn == 0 {
				r.reaped(done.ProcessState)
			} else if tt.reapedIn > 0 {
				time.AfterFunc(tt.reapedIn, func() { r.reaped(done.ProcessState) })
			}
			p := &Plugin{Path: "/x/authx-plugin-basic", runner: r}
			start := time.Now()
			got := p.crashed(tt.method, tt.err)
			took := time.Since(start)
			if crash := strings.Contains(got.Error(), "crashed during"); crash != tt.wantCrash {
				t.Errorf("crashed(%s, %v) = %v; want a crash report: %v", tt.method, tt.err, got, tt.wantCrash)
			}
			if took > tt.within {
				t.Errorf("crashed(%s) took %s; want at most %s", tt.method, took, tt.within)
			}
		})
	}
}

func newExitedRunner() *cmdRunner { return &cmdRunner{exited: make(chan struct{})} }
