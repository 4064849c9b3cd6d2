package redisvault

import (
	"bytes"
	"testing"

	"github.com/authx/authx/core/cache/redisvault/redistest"
	"github.com/authx/authx/core/sealed"
)

// The tests' Redis servers (core/cache/redisvault/redistest).
type server = redistest.Server

var (
	startRedis  = redistest.Start
	runRedis    = redistest.Run
	requireTool = redistest.Require
	freePort    = redistest.FreePort
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, sealed.KeySize) }

func newVault(t testing.TB, s *server, o Options) *Vault {
	t.Helper()
	if o.URL == "" {
		o.URL = s.URL()
	}
	if o.Box == nil {
		box, err := sealed.New(testKey(7))
		if err != nil {
			t.Fatal(err)
		}
		o.Box = box
	}
	v, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
