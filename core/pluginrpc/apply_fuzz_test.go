package pluginrpc

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/authx/authx/core"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// FuzzApplyResponse: whatever bytes a plugin answers Apply with, the host
// either refuses them (a bad message, or a KindPlugin error) or gets
// headers it may send and a state within bounds, nil exactly when the
// plugin sent none, and equal to what it sent.
func FuzzApplyResponse(f *testing.F) {
	for _, r := range []*pluginv1.ApplyResponse{
		{},
		{Headers: []*pluginv1.Header{{Name: "Authorization", Value: `Digest username="u", nc=00000002`}}, State: []byte("nc=2")},
		{State: []byte{}},
		{Headers: []*pluginv1.Header{{Name: "X Bad", Value: "v"}}},
		{Headers: []*pluginv1.Header{{Name: "X", Value: "a\r\nb"}}, State: []byte("s")},
	} {
		b, _ := proto.Marshal(r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		var r pluginv1.ApplyResponse
		if proto.Unmarshal(wire, &r) != nil {
			return
		}
		res, err := applyResult(&r)
		if err != nil {
			if core.KindOf(err) != core.KindPlugin {
				t.Fatalf("refusal of kind %v: %v", core.KindOf(err), err)
			}
			return
		}
		if (res.State == nil) != (r.State == nil) || !bytes.Equal(res.State, r.State) {
			t.Fatalf("state %q (nil %v), sent %q (nil %v)", res.State, res.State == nil, r.State, r.State == nil)
		}
		if len(res.State) > core.MaxCredentialSize {
			t.Fatalf("a state of %d bytes passed", len(res.State))
		}
		if err := (&core.Credential{Headers: res.Headers, PerRequest: true}).Validate(); err != nil {
			t.Fatalf("headers the host would send: %v", err)
		}
	})
}
