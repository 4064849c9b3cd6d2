package plugintest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jenkins/jenkinstest"
)

// binDir holds the in-repo plugins and the broken ones, built once.
var binDir string

// broken are the test plugins under testdata, each breaking one rule, plus
// host's plugin that speaks protocol v2.
var broken = []string{"./testdata/noisy", "./testdata/rawnoisy", "./testdata/badschema", "./testdata/greedy", "./testdata/orphan", "./testdata/deaf", "./testdata/badstream", "../host/testdata/v2plugin"}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authx-plugintest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	err = build(dir)
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, "building test plugins:", err)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// build builds every plugin into dir as authx-plugin-<name>, and a shell
// script that is no plugin at all.
func build(dir string) error {
	args := append([]string{"build", "-o", dir + string(os.PathSeparator),
		"../../plugins/basic/cmd/authx-plugin-basic", "../../plugins/jwt/cmd/authx-plugin-jwt",
		"../../plugins/jenkins/cmd/authx-plugin-jenkins", "../internal/testkit/cmd/authx-plugin-testkit", "../internal/testkit/cmd/authx-plugin-device",
		"../session/testdata/authx-plugin-counter"}, broken...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	for _, pkg := range broken {
		name := filepath.Base(pkg)
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, "authx-plugin-"+name)); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "authx-plugin-chatty"), []byte("#!/bin/sh\necho 'hello, I am no plugin'\n"), 0o755)
}

type testCase struct {
	name    string
	plugin  string
	opts    Options
	fail    []string // exactly the checks that must fail
	pass    []string // checks that must pass, besides
	skip    []string // checks that must be skipped, besides
	details []string // substrings of the failures' details
	notes   []string // substrings of any check's details
}

func TestRun(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the test plugins and the shell script need a Unix system")
	}
	jenkins := jenkinstest.Start(jenkinstest.Options{})
	defer jenkins.Close()
	tokens := newTokenServer(t)
	tests := []testCase{
		{name: "basic", plugin: "basic", opts: Options{Config: map[string]any{"username": "alice", "password": "pw"}},
			pass: []string{"login", "handle challenge", "refresh", "apply", "logout", "run action", "shutdown", "exits when its host dies"},
			skip: []string{"input required"}},
		{name: "basic prompts", plugin: "basic", opts: Options{Config: map[string]any{"username": "alice"}, Answers: map[string]string{"password": "pw"}},
			pass: []string{"login", "input required", "login stream", "login without a UI"}},
		{name: "basic without the answer", plugin: "basic", opts: Options{Config: map[string]any{"username": "alice"}},
			fail: []string{"login", "input required", "login stream"}, skip: []string{"handle challenge"}, pass: []string{"login without a UI"},
			details: []string{`Login asks for "password"`, `LoginStream asks for "password"`}},
		{name: "basic without config", plugin: "basic",
			pass: []string{"configure rejects an unknown key", "configure rejects a wrong type", "refresh"},
			skip: []string{"configure accepts the config", "login", "input required", "handle challenge", "login stream", "login without a UI"}},
		{name: "device", plugin: "device", opts: Options{Config: map[string]any{"code": "ABCD-EFGH"}},
			pass: []string{"login", "login stream", "login without a UI", "refresh", "exits when its host dies"}},
		{name: "device waiting without a UI", plugin: "device", opts: Options{Config: map[string]any{"misbehave": "hang"}, Timeout: 2 * time.Second},
			fail: []string{"login without a UI"}, pass: []string{"login", "login stream"},
			details: []string{"no answer within 2s without a UI: a non-interactive run would hang"}},
		{name: "bad events", plugin: "badstream", opts: Options{Config: map[string]any{"user": "u"}, Timeout: 3 * time.Second},
			fail: []string{"login", "login rejects a bad config", "login stream", "login without a UI"}, pass: []string{"refresh", "run action"},
			details: []string{"plugin login sent an unusable notice: the notice holds a control character", "event 1: the notice holds a control character",
				"event 2: the URL to open is not an absolute http(s) URL", "event 4 follows the result", "no answer within 3s without a UI"}},
		{name: "jwt static", plugin: "jwt", opts: Options{Config: map[string]any{"mode": "static", "token": testJWT(t, time.Hour)}},
			pass: []string{"login", "refresh", "handle challenge", "apply", "logout", "run action"}},
		{name: "jenkins", plugin: "jenkins", opts: Options{URL: jenkins.URL, Config: map[string]any{"user": "admin", "password": "admin-pw"}},
			pass: []string{"login", "handle challenge", "run action"}},
		{name: "testkit", plugin: "testkit", opts: Options{Config: map[string]any{"server": tokens.URL, "user": "u", "secret": "right", "ask": true},
			Answers: map[string]string{"otp": "123456"}},
			pass: []string{"login", "input required", "refresh", "handle challenge", "logout", "run action"}},
		// Issue 12, point 4: a minor-4 plugin gets --challenge as its login's
		// challenge (login_challenge) and in HandleChallenge, its Apply state
		// round-trips, and a second refusal is diagnosed.
		{name: "counter with a challenge", plugin: "counter", opts: Options{Config: map[string]any{},
			Challenge: http.Header{"Www-Authenticate": {`Digest realm="r", nonce="n"`}}},
			pass: []string{"login", "login rejects a bad config", "login stream", "apply", "handle challenge", "second refusal"},
			notes: []string{"a token, headers: X-Challenge, per request", "a state of 1 bytes, which a second Apply took (returning 1 bytes)",
				"decision RETRY with a token", `diagnosis: counter: refused again with token "challenged-401" (HTTP 401)`}},
		{name: "counter without a challenge", plugin: "counter", opts: Options{Config: map[string]any{"stateless": true}},
			pass:  []string{"login", "apply", "second refusal"},
			notes: []string{"a token, per request, no expiry", "headers: X-Count and X-Token; no state"}},
		// The error class of a login that must fail.
		{name: "testkit rejected", plugin: "testkit", opts: Options{Config: map[string]any{"server": tokens.URL, "user": "u", "secret": "wrong"},
			LoginError: core.KindRejected},
			pass: []string{"login", "login stream", "login rejects a bad config"}, skip: []string{"refresh", "handle challenge", "second refusal", "logout"}},
		{name: "testkit wrong class", plugin: "testkit", opts: Options{Config: map[string]any{"server": tokens.URL, "user": "u", "secret": "wrong"},
			LoginError: core.KindLoginRequired},
			fail:    []string{"login", "login stream", "login without a UI"},
			details: []string{`Login failed with class "credentials rejected" (exit 4), want "login required" (exit 3)`}},
		{name: "noisy", plugin: "noisy", opts: Options{Config: map[string]any{"username": "alice", "password": "pw"}},
			fail: []string{"stdout stays clean"}, details: []string{`"DEBUG: logging in as alice\n`}},
		{name: "raw stdout", plugin: "rawnoisy", opts: Options{Config: map[string]any{"username": "alice", "password": "pw"}},
			fail: []string{"stdout stays clean"}, details: []string{`"raw debug line\n`}},
		{name: "badschema", plugin: "badschema", opts: Options{Config: map[string]any{"username": "alice", "password": "pw"}},
			fail: []string{"config schema"}, details: []string{`config field "username" is declared twice`, `config field "speed": default: "fast" is not one of slow, careful`}},
		{name: "greedy", plugin: "greedy", opts: Options{Config: map[string]any{"user": "g"}},
			fail: []string{"refresh"}, pass: []string{"apply", "logout", "handle challenge", "login rejects a bad config"}, skip: []string{"second refusal"},
			details: []string{"capability refresh is not claimed, but Refresh answered instead of refusing with UNIMPLEMENTED"}},
		{name: "orphan", plugin: "orphan", opts: Options{Config: map[string]any{"username": "alice", "password": "pw"}},
			pass: []string{"shutdown"}, fail: []string{"exits when its host dies"}, details: []string{"still running 5s after its host was killed"}},
		{name: "deaf to Shutdown", plugin: "deaf", opts: Options{Config: map[string]any{"username": "alice", "password": "pw"}},
			fail: []string{"shutdown", "exits when its host dies"}, details: []string{"still running 2s after Shutdown"}},
		{name: "not a plugin", plugin: "chatty", fail: []string{"handshake"}, details: []string{"is not an authx plugin"}},
		{name: "another protocol major", plugin: "v2plugin", fail: []string{"handshake"}, details: []string{"speaks plugin protocol v2 but this authx speaks v1"}},
	}
	if runtime.GOOS != "linux" {
		for i := range tests {
			tests[i].fail = slices.DeleteFunc(tests[i].fail, func(c string) bool { return c == "exits when its host dies" })
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // where go-plugin and the kit make their directories
			tt.opts.Path = filepath.Join(binDir, "authx-plugin-"+tt.plugin)
			report := Run(t.Context(), tt.opts)
			var table bytes.Buffer
			report.WriteTable(&table)
			t.Log("\n" + table.String())
			checkReport(t, tt, report)
			noProcessesLeft(t)
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("left in TMPDIR: %v", left)
			}
		})
	}
}

func checkReport(t *testing.T, tt testCase, report Report) {
	t.Helper()
	if len(report) != 22 || report[0].Check != "handshake" || report[21].Check != "exits when its host dies" {
		t.Fatalf("report has %d checks, want the 22 in their order", len(report))
	}
	var failed, details []string
	for _, res := range report {
		if res.Status == Fail {
			failed = append(failed, res.Check)
			details = append(details, res.Detail)
		}
		if strings.ContainsAny(res.Detail, "\n\r") {
			t.Errorf("%s: detail is not one line: %q", res.Check, res.Detail)
		}
	}
	if !slices.Equal(failed, tt.fail) {
		t.Errorf("failed checks %q, want %q", failed, tt.fail)
	}
	if report.Failed() != (len(tt.fail) > 0) {
		t.Errorf("Failed() = %v", report.Failed())
	}
	var every []string
	for _, res := range report {
		every = append(every, res.Detail)
	}
	for _, n := range tt.notes {
		if !strings.Contains(strings.Join(every, "\n"), n) {
			t.Errorf("no detail holds %q", n)
		}
	}
	all := strings.Join(details, "\n")
	for _, d := range tt.details {
		if !strings.Contains(all, d) {
			t.Errorf("no failure detail holds %q:\n%s", d, all)
		}
	}
	want := map[Status][]string{Pass: tt.pass, Skip: tt.skip}
	for status, checks := range want {
		for _, c := range checks {
			if got := statusOf(report, c); got != status {
				t.Errorf("%s: %v, want %v", c, got, status)
			}
		}
	}
	for _, secret := range []string{"pw", "right", "123456", "admin-pw"} {
		for _, res := range report {
			if slices.Contains(strings.Fields(res.Detail), secret) {
				t.Errorf("%s: detail shows a secret: %q", res.Check, res.Detail)
			}
		}
	}
}

func statusOf(r Report, check string) Status {
	for _, res := range r {
		if res.Check == check {
			return res.Status
		}
	}
	return 0
}

// noProcessesLeft fails when a process of one of the test plugins runs.
func noProcessesLeft(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A zombie has no exe: it is gone, its parent has yet to reap it.
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && strings.HasPrefix(exe, binDir) {
			t.Errorf("plugin process %d (%s) left running", pid, exe)
		}
	}
}

func TestWriteTable(t *testing.T) {
	r := Report{
		{Check: "handshake", Status: Pass, Detail: "started as pid 1"},
		{Check: "stdout stays clean", Status: Fail, Detail: "two\nlines"},
		{Check: "login", Status: Skip, Detail: "no Config given"},
	}
	var b strings.Builder
	r.WriteTable(&b)
	want := `CHECK               STATUS  DETAIL
handshake           pass    started as pid 1
stdout stays clean  FAIL    two lines
login               skip    no Config given
1 passed, 1 failed, 1 skipped
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	if !r.Failed() || r[:1].Failed() {
		t.Error("Failed")
	}
	if long := oneLine(strings.Repeat("é", 150)); len(long) > maxDetail+len("…") || !strings.HasSuffix(long, "…") {
		t.Errorf("oneLine did not cut a long detail on a rune: %q", long)
	}
}

// recorder is a testing.TB that records what Test reports.
type recorder struct {
	testing.TB
	errors []string
	logs   []string
}

func (r *recorder) Helper()         {}
func (r *recorder) Log(args ...any) { r.logs = append(r.logs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}

func TestTestReportsFailures(t *testing.T) {
	rec := &recorder{TB: t}
	Test(rec, Options{Path: filepath.Join(binDir, "authx-plugin-noisy"), Config: map[string]any{"username": "alice", "password": "pw"}})
	if len(rec.errors) != 1 || !strings.HasPrefix(rec.errors[0], "stdout stays clean: ") {
		t.Errorf("errors %q, want one for stdout", rec.errors)
	}
	if len(rec.logs) != 1 || !strings.Contains(rec.logs[0], "20 passed, 1 failed, 1 skipped") {
		t.Errorf("logs %q, want the table", rec.logs)
	}
}

// testJWT is an HS256 JWT that expires after ttl.
func testJWT(t *testing.T, ttl time.Duration) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc(map[string]any{"sub": "alice", "exp": time.Now().Add(ttl).Unix()})
	mac := hmac.New(sha256.New, []byte("conformance-test-key-0123456789ab"))
	mac.Write([]byte(head))
	return head + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// newTokenServer is the token endpoint the testkit scheme talks to.
func newTokenServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.URL.Path == "/login" && body["secret"] == "right" && body["otp"] == "123456":
			json.NewEncoder(w).Encode(map[string]any{"token": "t1", "refresh": "r1", "expires_in": 3600})
		case r.URL.Path == "/refresh" && body["refresh"] == "r1":
			json.NewEncoder(w).Encode(map[string]any{"token": "t2", "expires_in": 3600})
		case r.URL.Path == "/logout":
			json.NewEncoder(w).Encode(map[string]any{})
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
