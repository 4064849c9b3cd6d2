package hmacsigner_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/authx/authx/core/plugintest"
)

// TestConformance runs authx's conformance kit on the built plugin: the
// handshake, Describe, Configure's diagnostics, Login, Apply, a challenge,
// the calls it does not offer, a clean stdout, and its exit when its host
// dies.
func TestConformance(t *testing.T) {
	srv := newOrderServer(t)
	plugintest.Test(t, plugintest.Options{
		Path:    filepath.Join(binDir, "authx-plugin-hmac"),
		URL:     srv.URL,
		Config:  map[string]any{"key_id": "orders-client-1", "secret": e2eSecret},
		Timeout: 30 * time.Second,
	})
}
