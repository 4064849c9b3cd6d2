package agent

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	core "github.com/authx/authx/core/base"
)

func TestDecodeRequest(t *testing.T) {
	good := `{"op":"credential","config":"/c.yaml","profile":"p","identity":"ab"}`
	tests := []struct {
		name, json, err string
	}{
		{"credential", good, ""},
		{"ping", `{"op":"ping"}`, ""},
		{"unknown field ignored", `{"op":"ping","future":1}`, ""},
		{"unknown op", `{"op":"exec"}`, `unknown op "exec"`},
		{"no profile", `{"op":"credential","config":"/c.yaml","identity":"ab"}`, "required"},
		{"apply without request", `{"op":"apply","config":"/c","profile":"p","identity":"ab"}`, "apply needs a request"},
		{"apply", `{"op":"apply","config":"/c","profile":"p","identity":"ab","request":{"Method":"GET","URL":"http://x/","BodySHA256":"AAAA"}}`, ""},
		{"put without credential", `{"op":"put","config":"/c","profile":"p","identity":"ab"}`, "put needs a credential"},
		{"not an object", `["op"]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"wrong type", `{"op":1}`, "malformed message"},
		{"trailing garbage", `{"op":"ping"} x`, "malformed message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeRequest([]byte(tt.json))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want %q", err, tt.err)
			case tt.err == "" && req == nil:
				t.Fatal("nil request")
			}
		})
	}
}

func TestFraming(t *testing.T) {
	var buf bytes.Buffer
	req := &Request{Op: OpApply, Config: "/c", Profile: "p", Identity: "ab", Request: &SignRequest{Method: "POST", URL: "https://x/", BodySHA256: []byte{1, 2}}}
	if err := Write(&buf, req); err != nil {
		t.Fatal(err)
	}
	data, err := ReadFrame(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRequest(data)
	if err != nil || !reflect.DeepEqual(got, req) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// A length above MaxMessage is refused before reading the body.
	var head [4]byte
	binary.BigEndian.PutUint32(head[:], MaxMessage+1)
	if _, err := ReadFrame(bytes.NewReader(head[:])); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("oversized: %v", err)
	}
	if err := Write(&buf, &Request{Op: OpPut, Credential: &core.Credential{Token: strings.Repeat("x", MaxMessage)}}); err == nil {
		t.Error("wrote an oversized message")
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 9, '{'})); err == nil {
		t.Error("short body accepted")
	}
}

func TestDecodeResponseKind(t *testing.T) {
	for _, tt := range []struct {
		kind int
		want core.Kind
	}{{4, core.KindNetwork}, {99, core.KindInternal}, {-3, core.KindInternal}} {
		data, _ := json.Marshal(map[string]any{"error": map[string]any{"kind": tt.kind, "message": "m"}})
		resp, err := DecodeResponse(data)
		if err != nil || core.KindOf(resp.Error.Err()) != tt.want {
			t.Errorf("kind %d: %v %v; want %v", tt.kind, resp, err, tt.want)
		}
	}
}

// FuzzDecodeRequest: whatever the bytes of a frame, reading and decoding
// never panics, never accepts a frame over MaxMessage, and what it accepts
// is a request of a known op with the fields its op needs, which encodes
// and decodes to itself.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"op":"credential","config":"/c.yaml","profile":"p","identity":"ab"}`))
	f.Add([]byte(`{"op":"apply","config":"/c","profile":"p","identity":"ab","request":{"Method":"GET","URL":"http://x/","Header":{"A":["b"]},"BodySHA256":"AAAA"}}`))
	f.Add([]byte(`{"op":"put","config":"/c","profile":"p","identity":"ab","credential":{"token":"t","expires_at":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"op":"ping"}`))
	f.Add([]byte("\x00\x00\x00\x02{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// As a frame's body...
		var framed bytes.Buffer
		binary.Write(&framed, binary.BigEndian, uint32(len(data)))
		framed.Write(data)
		body, err := ReadFrame(&framed)
		if err != nil || !bytes.Equal(body, data) {
			if len(data) <= MaxMessage {
				t.Fatalf("frame of %d bytes: %v", len(data), err)
			}
			return
		}
		// ...and as raw bytes on the socket.
		if b, err := ReadFrame(bytes.NewReader(data)); err == nil && len(b) > MaxMessage {
			t.Fatalf("frame of %d bytes accepted", len(b))
		}
		req, err := DecodeRequest(body)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if !ops[req.Op] {
			t.Fatalf("op %q accepted", req.Op)
		}
		if (req.Op == OpCredential || req.Op == OpApply || req.Op == OpPut) && (req.Config == "" || req.Profile == "" || req.Identity == "") {
			t.Fatalf("%s without its profile: %+v", req.Op, req)
		}
		if req.Op == OpApply && (req.Request == nil || req.Request.Method == "") || req.Op == OpPut && req.Credential == nil {
			t.Fatalf("%s without its argument: %+v", req.Op, req)
		}
		var again bytes.Buffer
		if err := Write(&again, req); err != nil {
			return // re-encoding may grow past MaxMessage (escapes)
		}
		b, _ := ReadFrame(&again)
		req2, err := DecodeRequest(b)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		b2, _ := json.Marshal(req2)
		b1, _ := json.Marshal(req)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("not stable:\n%s\n%s", b1, b2)
		}
	})
}

// FuzzDecodeResponse: an answer decodes or fails with one line, and an
// error it carries always has a kind this build knows.
func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"credential":{"token":"t","headers":[{"name":"A","value":"b"}]},"source":"cache"}`))
	f.Add([]byte(`{"error":{"kind":3,"message":"refused"}}`))
	f.Add([]byte(`{"miss":"login needs the user"}`))
	f.Add([]byte(`{"status":{"pid":1,"profiles":[{"profile":"p","plugin_pid":2}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := DecodeResponse(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if e := resp.Error; e != nil && (e.Kind < core.KindInternal || e.Kind > core.KindInterrupted || core.KindOf(e.Err()) != e.Kind) {
			t.Fatalf("kind %d", e.Kind)
		}
	})
}
