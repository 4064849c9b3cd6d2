package jwt

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// runAction runs RunAction at decodeNow without a JWKS cache.
func runAction(t *testing.T, req core.ActionRequest) (core.ActionResult, error) {
	t.Helper()
	return RunAction(context.Background(), req, fixedClock(decodeNow), nil, "")
}

func TestActionsDescribe(t *testing.T) {
	want := map[string]string{"decode": "TOKEN|-", "verify": "TOKEN|-", "sign": ""}
	d := core.Description{Actions: Actions}
	for name, usage := range want {
		a, ok := d.Action(name)
		if !ok || a.Usage != usage || a.Summary == "" || a.NeedsProfile || a.AcceptsProfile != (name == "sign") {
			t.Errorf("action %s: %+v", name, a)
		}
		for _, f := range a.Flags {
			if f.Type != core.TypeString || f.Help == "" || f.Secret != (f.Name == "key") {
				t.Errorf("%s --%s: %+v", name, f.Name, f)
			}
		}
	}
	if len(Actions) != len(want) {
		t.Errorf("%d actions", len(Actions))
	}
}

func TestRunActionVerifyRFCVectors(t *testing.T) {
	for _, v := range rfcVectors(t) {
		t.Run(v.file, func(t *testing.T) {
			flags := map[string]string{"key": string(v.Key)}
			if v.At != 0 {
				// Both forms of --at: unix seconds and RFC 3339.
				flags["at"] = strconv.FormatInt(v.At, 10)
				if v.Alg == "ES256" {
					flags["at"] = time.Unix(v.At, 0).UTC().Format(time.RFC3339)
				}
			}
			res, err := runAction(t, core.ActionRequest{Action: "verify", Args: []string{v.Token}, Flags: flags})
			if err != nil {
				t.Fatal(err)
			}
			if !v.Valid {
				if res.ExitCode != ExitInvalid || string(res.Stderr) != "authx: jwt verify: token is invalid: alg none (an unsecured JWT) is never accepted\n" || len(res.Stdout) != 0 {
					t.Fatalf("exit %d stderr %q", res.ExitCode, res.Stderr)
				}
				return
			}
			if res.ExitCode != 0 || len(res.Stderr) != 0 {
				t.Fatalf("exit %d stderr %q", res.ExitCode, res.Stderr)
			}
			var out map[string]any
			if err := json.Unmarshal(res.Stdout, &out); err != nil {
				t.Fatalf("%v: %s", err, res.Stdout)
			}
			if out["signature_verified"] != true || out["header"].(map[string]any)["alg"] != v.Alg {
				t.Fatalf("%s", res.Stdout)
			}
			if _, isClaims := out["claims"]; !isClaims && out["payload"] != v.Payload {
				t.Fatalf("payload %q", out["payload"])
			}
		})
	}
}

func TestRunActionVerify(t *testing.T) {
	hs := keyOf(t, "HS256")
	exp := decodeNow.Add(time.Hour)
	tok := tokenFor(t, "HS256", hs.priv, map[string]any{"iss": "me", "aud": "api", "exp": exp.Unix()}, nil)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	tests := []struct {
		name   string
		args   []string
		stdin  string
		flags  map[string]string
		exit   int
		stderr string    // for exit 13
		kind   core.Kind // for errors
		err    string
	}{
		{"valid", []string{tok}, "", map[string]string{"key": string(hs.pub), "iss": "me", "aud": "api", "alg": "HS256, HS512"}, 0, "", 0, ""},
		{"stdin", []string{"-"}, "\n  " + tok + "\r\n", map[string]string{"key": string(hs.pub)}, 0, "", 0, ""},
		{"expired at --at", []string{tok}, "", map[string]string{"key": string(hs.pub), "at": strconv.FormatInt(exp.Unix(), 10)}, ExitInvalid,
			"authx: jwt verify: token is invalid: token expired 0s ago\n", 0, ""},
		{"leeway", []string{tok}, "", map[string]string{"key": string(hs.pub), "at": exp.Format(time.RFC3339), "leeway": "1s"}, 0, "", 0, ""},
		{"wrong aud", []string{tok}, "", map[string]string{"key": string(hs.pub), "aud": "web"}, ExitInvalid,
			"authx: jwt verify: token is invalid: aud does not contain \"web\"\n", 0, ""},
		{"alg not allowed", []string{tok}, "", map[string]string{"key": string(hs.pub), "alg": "HS512"}, ExitInvalid,
			"authx: jwt verify: token is invalid: algorithm HS256 is not allowed (allowed: HS512)\n", 0, ""},
		{"garbage token", []string{"abc"}, "", map[string]string{"key": string(hs.pub)}, ExitInvalid,
			"authx: jwt verify: token is invalid: not a JWT: it has 1 parts separated by dots, a signed JWT has 3\n", 0, ""},
		{"no key", []string{tok}, "", nil, 0, "", core.KindConfig, "verify needs --key, --jwks or --issuer"},
		{"key and jwks", []string{tok}, "", map[string]string{"key": "k", "jwks": "https://example.com"}, 0, "", core.KindConfig, "only one of --key, --jwks and --issuer"},
		{"no token", nil, "", map[string]string{"key": string(hs.pub)}, 0, "", core.KindConfig, "usage: authx jwt verify TOKEN|-"},
		{"two tokens", []string{tok, tok}, "", map[string]string{"key": string(hs.pub)}, 0, "", core.KindConfig, "usage:"},
		{"empty stdin", []string{"-"}, " \n", map[string]string{"key": string(hs.pub)}, 0, "", core.KindConfig, "the token is empty"},
		{"bad --at", []string{tok}, "", map[string]string{"key": string(hs.pub), "at": "yesterday"}, 0, "", core.KindConfig, `--at: "yesterday" is neither`},
		{"bad --leeway", []string{tok}, "", map[string]string{"key": string(hs.pub), "leeway": "-1s"}, 0, "", core.KindConfig, "--leeway"},
		{"short key", []string{tok}, "", map[string]string{"key": "short"}, 0, "", core.KindConfig, "the HMAC key is 5 bytes"},
		{"unknown alg", []string{tok}, "", map[string]string{"key": string(hs.pub), "alg": "HS256,none"}, 0, "", core.KindConfig, `unknown algorithm "none"`},
		{"JWKS unreachable", []string{tok}, "", map[string]string{"jwks": dead.URL}, 0, "", core.KindNetwork, "JWKS " + dead.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runAction(t, core.ActionRequest{Action: "verify", Args: tt.args, Flags: tt.flags, Stdin: []byte(tt.stdin)})
			if tt.kind != 0 {
				requireKind(t, err, tt.kind, tt.err, hs.pub)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.exit || string(res.Stderr) != tt.stderr {
				t.Fatalf("exit %d stderr %q", res.ExitCode, res.Stderr)
			}
			if tt.exit == 0 && !strings.Contains(string(res.Stdout), `"signature_verified": true`) {
				t.Fatalf("stdout %s", res.Stdout)
			}
			if tt.exit != 0 && len(res.Stdout) != 0 {
				t.Fatalf("stdout %s", res.Stdout)
			}
		})
	}
}

func TestRunActionVerifyJWKS(t *testing.T) {
	srv := newJWKSServer(t, jwksDoc(t, []string{"ES256"}, []string{"k1"}))
	tok := tokenFor(t, "ES256", keyOf(t, "ES256").priv, map[string]any{"sub": "x"}, map[string]any{"kid": "k1"})
	dir := t.TempDir()
	for range 2 {
		res, err := RunAction(context.Background(), core.ActionRequest{Action: "verify", Args: []string{tok}, Flags: map[string]string{"jwks": srv.URL}},
			nil, srv.Client(), dir)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%v exit %d %s", err, res.ExitCode, res.Stderr)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d requests, want 1 (cached in cacheDir)", n)
	}
}

func TestRunActionDecode(t *testing.T) {
	const warning = "authx jwt decode: the signature was NOT verified (use 'authx jwt verify')\n"
	golden, err := Decode(goldenToken(), decodeNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []core.ActionRequest{
		{Action: "decode", Args: []string{goldenToken()}},
		{Action: "decode", Args: []string{"-"}, Stdin: []byte("\t" + goldenToken() + "\n")},
	} {
		res, err := runAction(t, req)
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Stdout) != string(golden)+"\n" || string(res.Stderr) != warning || res.ExitCode != 0 {
			t.Fatalf("stdout %s stderr %q exit %d", res.Stdout, res.Stderr, res.ExitCode)
		}
	}
	_, err = runAction(t, core.ActionRequest{Action: "decode", Args: []string{"a.b"}})
	requireKind(t, err, core.KindConfig, "not a JWT: it has 2 parts")
	_, err = runAction(t, core.ActionRequest{Action: "decode"})
	requireKind(t, err, core.KindConfig, "usage: authx jwt decode TOKEN|-")
}

func TestRunActionSign(t *testing.T) {
	hs := keyOf(t, "HS256")
	es := keyOf(t, "ES256")
	profile := core.Config{"mode": "sign", "algorithm": "ES256", "key": string(es.priv), "issuer": "profile-iss", "subject": "svc",
		"audience": []any{"a", "b"}, "claims": map[string]any{"scope": "read", "tenant": "t1"}, "ttl": "10m"}
	tests := []struct {
		name   string
		config core.Config
		flags  map[string]string
		pub    []byte
		claims map[string]string // raw JSON per claim; "" = absent
		kind   core.Kind
		err    string
	}{
		{"flags only", nil, map[string]string{"key": string(hs.priv), "iss": "me", "aud": "api", "kid": "k1", "claims": `{"n":12345678901234567890}`},
			hs.pub, map[string]string{"iss": `"me"`, "aud": `"api"`, "n": "12345678901234567890", "exp": strconv.FormatInt(decodeNow.Add(DefaultTTL).Unix(), 10)}, 0, ""},
		{"several audiences, no exp", nil, map[string]string{"key": string(hs.priv), "aud": "api, web,", "ttl": "0s"},
			hs.pub, map[string]string{"aud": `["api","web"]`, "exp": ""}, 0, ""},
		{"profile", profile, nil, es.pub,
			map[string]string{"iss": `"profile-iss"`, "sub": `"svc"`, "aud": `["a","b"]`, "scope": `"read"`, "exp": strconv.FormatInt(decodeNow.Add(10*time.Minute).Unix(), 10)}, 0, ""},
		{"flags override the profile", profile, map[string]string{"iss": "flag-iss", "aud": "c", "ttl": "1m", "claims": `{"scope":"write"}`}, es.pub,
			map[string]string{"iss": `"flag-iss"`, "sub": `"svc"`, "aud": `"c"`, "scope": `"write"`, "tenant": `"t1"`, "exp": strconv.FormatInt(decodeNow.Add(time.Minute).Unix(), 10)}, 0, ""},
		{"flag key and alg over the profile", profile, map[string]string{"alg": "HS512", "key": string(hs.priv)}, hs.pub, map[string]string{"iss": `"profile-iss"`}, 0, ""},
		{"no key", nil, map[string]string{"iss": "me"}, nil, nil, core.KindConfig, "sign needs --key"},
		{"short key", nil, map[string]string{"key": "short"}, nil, nil, core.KindConfig, "the HMAC key is 5 bytes"},
		{"bad claims", nil, map[string]string{"key": string(hs.priv), "claims": `["x"]`}, nil, nil, core.KindConfig, "--claims: expected a JSON object"},
		{"bad ttl", nil, map[string]string{"key": string(hs.priv), "ttl": "long"}, nil, nil, core.KindConfig, "--ttl: expected a non-negative duration"},
		{"unknown alg", nil, map[string]string{"key": string(hs.priv), "alg": "HS999"}, nil, nil, core.KindConfig, `unknown algorithm "HS999"`},
		{"bad profile", core.Config{"ttl": "x"}, map[string]string{"key": string(hs.priv)}, nil, nil, core.KindConfig, "ttl:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runAction(t, core.ActionRequest{Action: "sign", Flags: tt.flags, Config: tt.config})
			if tt.kind != 0 {
				requireKind(t, err, tt.kind, tt.err, hs.priv, es.priv)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tok := strings.TrimSuffix(string(res.Stdout), "\n")
			if !strings.HasSuffix(string(res.Stdout), "\n") || strings.Count(tok, ".") != 2 || len(res.Stderr) != 0 {
				t.Fatalf("stdout %q stderr %q", res.Stdout, res.Stderr)
			}
			if _, err := Verify(context.Background(), tok, VerifyOptions{Key: tt.pub, Now: fixedClock(decodeNow)}); err != nil {
				t.Fatal(err)
			}
			got := payloadOf(t, tok)
			for name, want := range tt.claims {
				if string(got[name]) != want {
					t.Errorf("%s = %s, want %q", name, got[name], want)
				}
			}
		})
	}
	_, err := runAction(t, core.ActionRequest{Action: "sign", Args: []string{"x"}, Flags: map[string]string{"key": string(hs.priv)}})
	requireKind(t, err, core.KindConfig, "sign takes no arguments")
}

func TestRunActionUnknown(t *testing.T) {
	_, err := runAction(t, core.ActionRequest{Action: "inspect"})
	requireKind(t, err, core.KindUnsupported, `no action "inspect"`)
}
