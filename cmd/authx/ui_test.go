package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authx/authx/core/browser"
)

// The terminal UI prints every line of a notice with the "authx: " prefix,
// and the URL whether the browser opened, could not, or was not to be.
func TestTerminalUI(t *testing.T) {
	const u = "https://idp.example.com/device?user_code=WDJB-MJHT"
	tests := []struct {
		name      string
		noBrowser bool
		open      error
		want      string
		opened    bool
	}{
		{"opened", false, nil, "authx: opening your browser at " + u + "\n", true},
		{"no browser", false, browser.ErrNoBrowser, "authx: open this URL in your browser: " + u + "\n", true},
		{"browser fails", false, errors.New("the browser firefox cannot be run: permission denied"),
			"authx: the browser firefox cannot be run: permission denied; open this URL in your browser: " + u + "\n", true},
		{"--no-browser", true, nil, "authx: open this URL in your browser: " + u + "\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			var opened []string
			var logged []string
			ui := &terminalUI{stderr: &out, noBrowser: tt.noBrowser,
				open:  func(url string) error { opened = append(opened, url); return tt.open },
				debug: func(msg string, args ...any) { logged = append(logged, msg) }}
			if err := ui.Notify(context.Background(), "To sign in, open https://idp.example.com/device\n\tand enter WDJB-MJHT\n"); err != nil {
				t.Fatal(err)
			}
			if err := ui.OpenURL(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			want := "authx: To sign in, open https://idp.example.com/device\nauthx: \tand enter WDJB-MJHT\n" + tt.want
			if out.String() != want {
				t.Errorf("stderr %q, want %q", out.String(), want)
			}
			if (len(opened) == 1) != tt.opened {
				t.Errorf("opened %q, want opened %v", opened, tt.opened)
			}
			if strings.Contains(strings.Join(logged, " "), "idp.example.com") {
				t.Errorf("the log holds the URL: %q", logged)
			}
		})
	}
}
