package python_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// fuzzPlugin is one test plugin per fuzzing process, started on first use:
// a Python start costs far more than a call. It exits when this process
// does (it watches its parent).
var fuzzPlugin struct {
	once   sync.Once
	client pluginv1.AuthSchemeClient
	err    string
}

// FuzzPythonContinuation sends a Login with arbitrary continuation bytes
// (what the host hands back) to a plugin on the SDK. Properties: the
// answer is a credential, or INVALID_ARGUMENT (not a continuation the
// plugin issued, an answer missing) or FAILED_PRECONDITION (one issued for
// another login), each with a one-line message; never INTERNAL (the SDK's
// own bug), a hang, or a dead plugin.
func FuzzPythonContinuation(f *testing.F) {
	f.Add([]byte(`{"v": 1, "state": {"asked": ["a"]}, "prompts": ["a"], "for": "0000"}`), "x")
	f.Add([]byte(`{"v": 1, "prompts": [["a"]], "for": null}`), "")
	f.Add([]byte(`{"v": true, "prompts": [{}], "state": 1}`), "a")
	f.Add([]byte("\xff\xfe{\x00"), "a")
	f.Add([]byte(`[1, 2]`), "a")
	f.Add([]byte(`{"v": 1e999}`), "a")
	f.Fuzz(func(t *testing.T, continuation []byte, answer string) {
		client := fuzzClient(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		answers := map[string]string{}
		if answer != "" {
			answers["a"] = strings.ToValidUTF8(answer, "?")
		}
		r, err := client.Login(ctx, &pluginv1.LoginRequest{Config: mustStruct(t, map[string]any{"ask": true}),
			Url: "https://a.test/", Answers: answers, Continuation: continuation})
		if err == nil {
			if r.GetCredential() == nil && len(continuation) > 0 {
				t.Fatalf("answered %v to a continuation", r)
			}
			return
		}
		st, _ := status.FromError(err)
		switch st.Code() {
		case codes.InvalidArgument, codes.FailedPrecondition:
			if strings.ContainsAny(st.Message(), "\r\n") {
				t.Fatalf("a message of more than one line: %q", st.Message())
			}
		default:
			t.Fatalf("continuation %q: %v", continuation, err)
		}
	})
}

func fuzzClient(t *testing.T) pluginv1.AuthSchemeClient {
	p := &fuzzPlugin
	p.once.Do(func() {
		_, path := pythonNoSkip()
		if path == "" {
			p.err = "no python3 with the grpc and protobuf modules (apt-get install python3-grpcio python3-protobuf)"
			return
		}
		dir, err := os.MkdirTemp("", "authx-fuzz-python")
		if err != nil {
			p.err = err.Error()
			return
		}
		defer os.RemoveAll(dir) // the connection outlives the socket's name
		plugin, _ := filepath.Abs(testPluginPath())
		_, socket, _, err := launch(path, dir, plugin)
		if err != nil {
			p.err = err.Error()
			return
		}
		conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			p.err = err.Error()
			return
		}
		p.client = pluginv1.NewAuthSchemeClient(conn)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := p.client.Describe(ctx, &pluginv1.DescribeRequest{}); err != nil { // connected before the name goes
			p.err = err.Error()
		}
	})
	if p.err != "" {
		if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
			t.Fatal(p.err)
		}
		t.Skip(p.err)
	}
	return p.client
}
