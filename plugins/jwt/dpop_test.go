package jwt

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// Every algorithm's proof passes the strict checker: typ, jwk, signature,
// htm, htu without query, fragment and user info, iat, ath, nonce; two
// proofs never share a jti; the thumbprint is RFC 7638's.
func TestDPoPProof(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		alg, method, target, token, nonce, htu string
	}{
		{"ES256", "GET", "https://api.example/v1/items?page=2#top", "at-1", "", "https://api.example/v1/items"},
		{"EdDSA", "POST", "https://user:pw@api.example:8443/x", "at-2", "n0nce", "https://api.example:8443/x"},
		{"RS256", "DELETE", "http://127.0.0.1:9/a/b?", "", "abc", "http://127.0.0.1:9/a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			k, err := newDPoPKey(tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for range 3 {
				proof, err := k.proof(tt.method, tt.target, tt.token, tt.nonce, now)
				if err != nil {
					t.Fatal(err)
				}
				p, err := jwttest.CheckDPoPProof(proof, jwttest.DPoPCheck{Method: tt.method, URL: tt.htu, AccessToken: tt.token, Nonce: tt.nonce, Now: now})
				if err != nil {
					t.Fatalf("the proof does not pass: %v", err)
				}
				if p.Alg != tt.alg || p.Htu != tt.htu || p.JKT != k.jkt || p.Iat != now.Unix() || seen[p.Jti] {
					t.Errorf("proof %+v; want alg %s, htu %s, jkt %s, a new jti", p, tt.alg, tt.htu, k.jkt)
				}
				seen[p.Jti] = true
				if strings.Contains(proof, "user") || strings.Contains(proof, "page=2") {
					t.Errorf("the proof carries the URL's user info or query")
				}
			}
			// Round trip through the state: the same key.
			again, err := parseDPoPKey(tt.alg, k.der)
			if err != nil || again.jkt != k.jkt {
				t.Fatalf("parseDPoPKey: %v, jkt %s want %s", err, again.jkt, k.jkt)
			}
		})
	}
	// RFC 7638 §3.1's example key.
	rfc := map[string]any{"kty": "RSA", "e": "AQAB", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	if got := jwkThumbprint(rfc); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("thumbprint %s, want RFC 7638's", got)
	}
}

// dpopAS is a token endpoint that wants DPoP: a proof on every request
// (checked by jwttest.CheckDPoPProof), its nonce in it (400 use_dpop_nonce
// with DPoP-Nonce otherwise), and it answers a JWT access token bound to
// the proof's key (cnf.jkt) with token_type DPoP.
type dpopAS struct {
	mu        sync.Mutex
	nonce     string
	tokenType string // "" means DPoP
	wrongJKT  bool   // cnf.jkt of another key
	noHeader  bool   // use_dpop_nonce without a DPoP-Nonce header
	always    bool   // use_dpop_nonce every time
	requests  []url.Values
	proofs    []jwttest.DPoPProof
}

func (a *dpopAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r.ParseForm()
	a.requests = append(a.requests, r.PostForm)
	fail := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	p, err := jwttest.CheckDPoPProof(r.Header.Get("DPoP"), jwttest.DPoPCheck{Method: r.Method, URL: "http://" + r.Host + r.URL.Path, Nonce: a.nonce, Now: time.Now()})
	if de := (*jwttest.DPoPError)(nil); errors.As(err, &de) && de.Code == "use_dpop_nonce" || a.always {
		if !a.noHeader {
			w.Header().Set("DPoP-Nonce", a.nonce)
		}
		fail(http.StatusBadRequest, "use_dpop_nonce", "nonce required")
		return
	}
	if err != nil {
		fail(http.StatusBadRequest, "invalid_dpop_proof", err.Error())
		return
	}
	a.proofs = append(a.proofs, p)
	jkt := p.JKT
	if a.wrongJKT {
		jkt = "not-" + jkt
	}
	at, _ := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims{"sub": "s", "exp": time.Now().Add(time.Hour).Unix(), "cnf": map[string]any{"jkt": jkt}}).
		SignedString([]byte("an-as-secret-of-at-least-32-bytes!!"))
	tt := a.tokenType
	if tt == "" {
		tt = "DPoP"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": tt, "expires_in": 3600, "refresh_token": "rt-" + fmt.Sprint(len(a.proofs))})
}

// A DPoP login: the nonce challenge answered with one retry (with a fresh
// client assertion), the credential per request with no header of its own
// and the key in its state; a refresh proves with the same key and the
// nonce kept, so no second challenge.
func TestDPoPTokenEndpoint(t *testing.T) {
	as := &dpopAS{nonce: "as-nonce-1"}
	srv := httptest.NewServer(as)
	defer srv.Close()
	s := New()
	cfg := core.Config{"client_id": "cli", "client_secret": "a-client-secret-of-32-bytes-or-more!", "client_auth": "client_secret_jwt", "dpop": true}
	c, err := oauth2Login(t, s, srv.URL+"/token", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(as.requests) != 2 || len(as.proofs) != 1 {
		t.Fatalf("%d token requests, %d accepted proofs; want 2 (the nonce challenge, the retry) and 1", len(as.requests), len(as.proofs))
	}
	if as.requests[0].Get("client_assertion") == as.requests[1].Get("client_assertion") {
		t.Errorf("the retry replayed the client assertion, whose jti is single-use")
	}
	if !c.PerRequest || len(c.Headers) != 0 || c.Token == "" {
		t.Fatalf("credential %+v; want per request, no headers, the token", c)
	}
	st, err := decodeState(c.State)
	if err != nil || st.DPoP == nil || st.DPoP.key.jkt != as.proofs[0].JKT || st.RefreshToken != "rt-1" || st.DPoP.TokenNonce != "as-nonce-1" || st.V != stateVersion {
		t.Fatalf("state %+v, %v; want the key that proved, the refresh token and the nonce", st, err)
	}

	full := core.Config{"mode": "oauth2", "token_url": srv.URL + "/token"}
	for k, v := range cfg {
		full[k] = v
	}
	r, err := s.Refresh(context.Background(), core.RefreshRequest{Config: full, Credential: c})
	if err != nil {
		t.Fatal(err)
	}
	if len(as.requests) != 3 || as.proofs[1].JKT != as.proofs[0].JKT || as.proofs[1].Nonce != "as-nonce-1" {
		t.Fatalf("the refresh: %d requests, proof %+v; want one more, same key, the kept nonce", len(as.requests), as.proofs[1])
	}
	if rs, _ := decodeState(r.State); rs.RefreshToken != "rt-2" || rs.DPoP.key.jkt != st.DPoP.key.jkt {
		t.Errorf("refreshed state %+v: want the new refresh token and the same key", rs)
	}
	// A credential without the key cannot be refreshed: only a login helps.
	c.State = state{RefreshToken: "rt-1"}.encode()
	if _, err := s.Refresh(context.Background(), core.RefreshRequest{Config: full, Credential: c}); core.KindOf(err) != core.KindLoginRequired {
		t.Errorf("refresh without the key: %v, want KindLoginRequired", err)
	}
}

// What a DPoP token endpoint may do wrong, and the errors.
func TestDPoPTokenEndpointRefusals(t *testing.T) {
	tests := []struct {
		name     string
		as       *dpopAS
		kind     core.Kind
		msg      string
		requests int
	}{
		{"bearer token", &dpopAS{tokenType: "Bearer"}, core.KindBadAnswer, "token_type is \"Bearer\", not DPoP", 1},
		{"bound to another key", &dpopAS{wrongJKT: true}, core.KindBadAnswer, "bound to another key", 1},
		{"nonce challenge without a nonce", &dpopAS{nonce: "x", noHeader: true}, core.KindBadAnswer, "sends no valid DPoP-Nonce header", 1},
		{"nonce challenge twice", &dpopAS{nonce: "x", always: true}, core.KindRejected, "use_dpop_nonce", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.as)
			defer srv.Close()
			_, err := oauth2Login(t, New(), srv.URL+"/token", core.Config{"client_id": "cli", "client_secret": "sec-ret-value", "dpop": true})
			if core.KindOf(err) != tt.kind || err == nil || !strings.Contains(err.Error(), tt.msg) || len(tt.as.requests) != tt.requests {
				t.Fatalf("err %v (kind %v) after %d requests; want kind %v with %q after %d", err, core.KindOf(err), len(tt.as.requests), tt.kind, tt.msg, tt.requests)
			}
		})
	}
}

// Apply signs every request for the strict resource server; its nonce
// challenge is answered by a retry whose credential keeps the nonce, so
// the next request goes through at once; after a nonce rotation, once
// more. Proofs are never replayed.
func TestDPoPApplyAndNonceChallenge(t *testing.T) {
	as := &dpopAS{}
	asSrv := httptest.NewServer(as)
	defer asSrv.Close()
	rs := jwttest.NewDPoPResource()
	rsSrv := httptest.NewServer(rs)
	defer rsSrv.Close()
	s := New()
	cfg := core.Config{"mode": "oauth2", "token_url": asSrv.URL + "/token", "client_id": "cli", "client_secret": "sec-ret-value", "dpop": true}
	c, err := s.Login(context.Background(), core.LoginRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	// send is what the host does: Apply, send, on a refusal HandleChallenge
	// and at most one retry with the credential it returns.
	send := func(method, target string) (status int, retried bool) {
		t.Helper()
		for attempt := 0; ; attempt++ {
			hreq := core.HTTPRequest{Method: method, URL: target}
			res, err := s.Apply(context.Background(), core.ApplyRequest{Config: cfg, Credential: c, Request: hreq})
			if err != nil {
				t.Fatal(err)
			}
			if res.State != nil {
				t.Errorf("Apply changed the state")
			}
			hs := res.Headers
			req, _ := http.NewRequest(method, target, nil)
			for _, h := range hs {
				req.Header.Set(h.Name, h.Value)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || attempt == 1 {
				return resp.StatusCode, attempt == 1
			}
			ch, err := s.HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: c, Request: hreq,
				Response: core.HTTPResponse{Status: resp.StatusCode, Header: resp.Header}})
			if err != nil || ch.Decision != core.DecisionRetry || !ch.ReplaySafe {
				t.Fatalf("HandleChallenge: %+v %v; want a replay-safe retry", ch, err)
			}
			c = ch.Credential
		}
	}
	steps := []struct {
		method, path string
		rotate       bool
		retried      bool
	}{
		{"GET", "/items?q=1", false, true}, // no nonce yet: challenged once
		{"POST", "/items", false, false},   // the kept nonce
		{"GET", "/items/2", true, true},    // a new nonce
		{"DELETE", "/items/2", false, false},
	}
	for i, step := range steps {
		if step.rotate {
			rs.RotateNonce()
		}
		status, retried := send(step.method, rsSrv.URL+step.path)
		if status != http.StatusOK || retried != step.retried {
			t.Fatalf("step %d %s %s: HTTP %d, retried %v; want 200, retried %v (refusals %q)", i, step.method, step.path, status, retried, step.retried, rs.Refusals())
		}
	}
	if n := rs.NonceChallenges(); n != 2 {
		t.Errorf("%d nonce challenges, want 2", n)
	}
	proofs := rs.Proofs()
	if len(proofs) != len(steps) {
		t.Fatalf("%d requests served, want %d", len(proofs), len(steps))
	}
	for i, p := range proofs {
		if p.Htm != steps[i].method || p.Htu != rsSrv.URL+strings.Split(steps[i].path, "?")[0] || p.Ath == "" || p.Nonce == "" {
			t.Errorf("proof %d: %+v", i, p)
		}
	}
	if n := len(rs.Refusals()); n != 0 {
		t.Errorf("refusals: %q", rs.Refusals())
	}
}

// The resource server's other refusals keep the bearer rules: an
// invalid_token renews, a refused proof is a diagnosis, a nonce challenge
// without a nonce too.
func TestDPoPChallenges(t *testing.T) {
	k, _ := newDPoPKey(dpopES256)
	cred := &core.Credential{Token: "at", PerRequest: true, State: state{DPoP: &dpopState{Alg: k.alg, key: k}}.encode()}
	cfg := core.Config{"mode": "oauth2", "token_url": "https://as.example/token", "client_id": "c", "dpop": true}
	tests := []struct {
		name, challenge, nonce string
		decision               core.Decision
		diagnosis              string
	}{
		{"invalid_token", `DPoP error="invalid_token", algs="ES256"`, "", core.DecisionRefresh, "rejected"},
		{"invalid proof", `DPoP error="invalid_dpop_proof", error_description="iat too old"`, "", core.DecisionFail, "refused the DPoP proof"},
		{"nonce without DPoP-Nonce", `DPoP error="use_dpop_nonce"`, "", core.DecisionFail, "sends no valid DPoP-Nonce"},
		{"nonce with a bad DPoP-Nonce", `DPoP error="use_dpop_nonce"`, "a b", core.DecisionFail, "sends no valid DPoP-Nonce"},
		{"nonce", `DPoP error="use_dpop_nonce"`, "fresh", core.DecisionRetry, ""},
		{"nonce after the retry", `DPoP error="use_dpop_nonce"`, "fresher", core.DecisionFail, "refused the retry"},
		{"both schemes, no error", `Bearer realm="x", DPoP algs="ES256"`, "", core.DecisionRefresh, ""},
		{"nonce outside the scope", `DPoP error="use_dpop_nonce"`, "fresh", core.DecisionFail, "outside the credential's scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Www-Authenticate": {tt.challenge}}
			if tt.nonce != "" {
				h.Set("DPoP-Nonce", tt.nonce)
			}
			c := *cred
			if strings.Contains(tt.name, "outside the scope") {
				c.Scope = []string{"https://api.example/v2/"}
			}
			res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: &c, Retried: strings.Contains(tt.name, "after the retry"),
				Request: core.HTTPRequest{Method: "GET", URL: "https://api.example/x"}, Response: core.HTTPResponse{Status: 401, Header: h}})
			if err != nil || res.Decision != tt.decision || !strings.Contains(res.Diagnosis, tt.diagnosis) {
				t.Fatalf("%+v %v; want decision %v with %q", res, err, tt.decision, tt.diagnosis)
			}
			if tt.decision == core.DecisionRetry {
				st, err := decodeState(res.Credential.State)
				if err != nil || st.DPoP.nonceFor("https://api.example:443/y") != tt.nonce || st.DPoP.key.jkt != k.jkt {
					t.Errorf("retry credential's state %+v %v: want the nonce for the origin and the same key", st.DPoP, err)
				}
			}
		})
	}
}

// dpop's keys are checked: only in oauth2 mode, dpop_alg only with dpop,
// the token always in Authorization: DPoP.
func TestDPoPSettings(t *testing.T) {
	base := core.Config{"mode": "oauth2", "token_url": "https://as.example/token", "client_id": "c", "client_secret": "sec-ret-value"}
	tests := []struct {
		name  string
		extra core.Config
		field string
	}{
		{"ok", core.Config{"dpop": true, "dpop_alg": "EdDSA"}, ""},
		{"prefix DPoP", core.Config{"dpop": true, "prefix": "DPoP"}, ""},
		{"alg without dpop", core.Config{"dpop_alg": "ES256"}, "dpop_alg"},
		{"another header", core.Config{"dpop": true, "header": "X-Token"}, "header"},
		{"another prefix", core.Config{"dpop": true, "prefix": "Bearer"}, "prefix"},
		{"dpop_jkt in extra_params", core.Config{"extra_params": map[string]any{"dpop_jkt": "x"}}, "extra_params.dpop_jkt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := core.Config{}
			for k, v := range base {
				cfg[k] = v
			}
			for k, v := range tt.extra {
				cfg[k] = v
			}
			ds := New().Configure(context.Background(), cfg)
			if tt.field == "" && len(ds) > 0 || tt.field != "" && (len(ds) != 1 || ds[0].Field != tt.field) {
				t.Fatalf("diagnostics %+v; want one for %q", ds, tt.field)
			}
		})
	}
	ds := New().Configure(context.Background(), core.Config{"mode": "static", "token": "t", "dpop": true})
	if len(ds) != 1 || ds[0].Field != "dpop" {
		t.Errorf("dpop in static mode: %+v", ds)
	}
}

// The state: versions, strictness, and nothing of it in an error.
func TestDecodeState(t *testing.T) {
	k, _ := newDPoPKey(dpopES256)
	ed, _ := newDPoPKey(dpopEdDSA)
	key := base64.StdEncoding.EncodeToString(k.der)
	tests := []struct {
		name, raw, err string
	}{
		{"empty", ``, ""},
		{"version 0", `{"refresh_token":"rt-secret-value"}`, ""},
		{"version 1", `{"v":1,"refresh_token":"rt","dpop":{"alg":"ES256","key":"` + key + `","token_nonce":"n1","nonces":[{"origin":"https://api.example:443","nonce":"n2"}]}}`, ""},
		{"version 2", `{"v":2}`, "version 2"},
		{"negative version", `{"v":-1}`, "version -1"},
		{"DPoP in version 0", `{"dpop":{"alg":"ES256","key":"` + key + `"}}`, "version 0"},
		{"unknown member", `{"v":1,"refresh_token":"rt-secret-value","x":1}`, "not this plugin's JSON"},
		{"trailing data", `{"v":1} {}`, "after its JSON"},
		{"not JSON", `rt-secret-value`, "not this plugin's JSON"},
		{"control character", `{"refresh_token":"rt-secret\u0000value"}`, "control characters"},
		{"key of another alg", `{"v":1,"dpop":{"alg":"EdDSA","key":"` + key + `"}}`, "does not fit"},
		{"Ed25519 key as ES256", `{"v":1,"dpop":{"alg":"ES256","key":"` + base64.StdEncoding.EncodeToString(ed.der) + `"}}`, "does not fit"},
		{"unknown alg", `{"v":1,"dpop":{"alg":"none","key":"` + key + `"}}`, "does not fit"},
		{"garbage key", `{"v":1,"dpop":{"alg":"ES256","key":"AAAA"}}`, "not a PKCS #8"},
		{"bad token nonce", `{"v":1,"dpop":{"alg":"ES256","key":"` + key + `","token_nonce":"a\"b"}}`, "nonce is malformed"},
		{"origin not canonical", `{"v":1,"dpop":{"alg":"ES256","key":"` + key + `","nonces":[{"origin":"https://API.example","nonce":"n"}]}}`, "malformed nonce"},
		{"origin twice", `{"v":1,"dpop":{"alg":"ES256","key":"` + key + `","nonces":[{"origin":"https://a:443","nonce":"n"},{"origin":"https://a:443","nonce":"m"}]}}`, "malformed nonce"},
		{"huge", `{"refresh_token":"` + strings.Repeat("x", maxState) + `"}`, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := decodeState([]byte(tt.raw))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				again, err := decodeState(st.encode())
				if err != nil || again.RefreshToken != st.RefreshToken || (st.DPoP == nil) != (again.DPoP == nil) {
					t.Fatalf("round trip: %+v %v", again, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), key[:16]) {
				t.Errorf("the error quotes the state: %v", err)
			}
		})
	}
	// The nonces kept are bounded, the newest kept.
	d := &dpopState{}
	for i := range maxNonces + 3 {
		d.setNonce(fmt.Sprintf("https://h%d.example/", i), fmt.Sprint("n", i))
	}
	if len(d.Nonces) != maxNonces || d.nonceFor("https://h2.example/x") != "" || d.nonceFor(fmt.Sprintf("https://h%d.example", maxNonces+2)) != fmt.Sprint("n", maxNonces+2) {
		t.Errorf("nonces %+v", d.Nonces)
	}
}

// Every grant proves at the token endpoint (the emulator checks each
// proof, refuses a replayed one and binds the tokens): password,
// client_credentials, a browser login (whose authorization request names
// the key: dpop_jkt), a device login (every poll proves); the refresh
// proves with the login's key. The emulator's nonce challenge comes once
// per credential: the refresh carries the nonce kept.
func TestDPoPGrants(t *testing.T) {
	tests := []struct {
		grant   string
		extra   core.Config
		refresh bool
	}{
		{"password", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "username": "alice", "password": "wonderland"}, true},
		{"client_credentials", core.Config{"client_id": "cli", "client_secret": "s3cret-client"}, false},
		{"authorization_code", core.Config{"scope": []any{"offline_access"}}, true},
		{"device_code", core.Config{"scope": []any{"offline_access"}}, true},
		{"authorization_code EdDSA", core.Config{"scope": []any{"offline_access"}, "dpop_alg": "EdDSA"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.grant, func(t *testing.T) {
			clk := &fakeClock{t: time.Now()}
			s := startIdP(t, jwttest.Options{Now: clk.Now, DPoP: true, DPoPNonce: "emulator-nonce"})
			b := &fakeBrowser{}
			grant, _, _ := strings.Cut(tt.grant, " ")
			if grant == "device_code" {
				b.noOpen = true
				clk.onSleep = func(i int) {
					if i == 2 {
						b.mu.Lock()
						opened := b.opened[0]
						b.mu.Unlock()
						b.visit(opened)
					}
				}
			}
			cfg := oidcProfile(s, grant, tt.extra)
			cfg["dpop"] = true
			sch := &Scheme{Now: clk.Now, Sleep: clk.Sleep}
			c, err := sch.Login(context.Background(), core.LoginRequest{Config: cfg, UI: b})
			if err != nil {
				t.Fatal(err)
			}
			b.done()
			st, err := decodeState(c.State)
			if err != nil || st.DPoP == nil || !c.PerRequest {
				t.Fatalf("credential %+v, state %v", c, err)
			}
			jkt := st.DPoP.key.jkt
			if claims := claimsOf(t, c.Token); fmt.Sprint(claims["cnf"]) != fmt.Sprint(map[string]any{"jkt": jkt}) {
				t.Errorf("the access token's cnf %v, want jkt %s", claims["cnf"], jkt)
			}
			if grant == "authorization_code" {
				u, _ := url.Parse(b.opened[0])
				if u.Query().Get("dpop_jkt") != jkt {
					t.Errorf("the authorization request's dpop_jkt %q, want %s", u.Query().Get("dpop_jkt"), jkt)
				}
			}
			if tt.refresh {
				if _, err := sch.Refresh(context.Background(), core.RefreshRequest{Config: cfg, Credential: c}); err != nil {
					t.Fatalf("refresh: %v", err)
				}
			}
			proofs := s.DPoPProofs()
			if len(proofs) == 0 || s.DPoPNonceChallenges() != 1 {
				t.Fatalf("%d proofs accepted, %d nonce challenges; want some and 1", len(proofs), s.DPoPNonceChallenges())
			}
			for i, p := range proofs {
				if p.JKT != jkt || p.Htm != "POST" || p.Htu != s.URL+"/oauth/token" || p.Nonce != "emulator-nonce" || p.Ath != "" {
					t.Errorf("proof %d: %+v; want POST to the token endpoint with the nonce, no ath, key %s", i, p, jkt)
				}
			}
		})
	}
}

// Apply gives a bearer credential its own headers (the host never asks; a
// conformance run does), and refuses a per-request credential without a
// DPoP key: only a new login helps.
func TestDPoPApplyOtherCredentials(t *testing.T) {
	bearer := &core.Credential{Token: "t", Headers: []core.Header{{Name: "Authorization", Value: "Bearer t"}}}
	res, err := New().Apply(context.Background(), core.ApplyRequest{Credential: bearer, Request: core.HTTPRequest{Method: "GET", URL: "https://a.example/"}})
	if err != nil || len(res.Headers) != 1 || res.Headers[0].Value != "Bearer t" || res.State != nil {
		t.Errorf("bearer: %+v %v", res, err)
	}
	for _, st := range [][]byte{nil, []byte(`{"refresh_token":"rt-secret-value"}`), []byte(`garbage-secret-value`)} {
		_, err := New().Apply(context.Background(), core.ApplyRequest{Credential: &core.Credential{Token: "t", PerRequest: true, State: st},
			Request: core.HTTPRequest{Method: "GET", URL: "https://a.example/"}})
		if core.KindOf(err) != core.KindLoginRequired || strings.Contains(err.Error(), "secret-value") {
			t.Errorf("state %q: %v, want KindLoginRequired quoting nothing", st, err)
		}
	}
}

// BenchmarkDPoPApply is the plugin's cost of one signed request: the
// state decoded and a proof signed, per algorithm.
func BenchmarkDPoPApply(b *testing.B) {
	for _, alg := range dpopAlgs {
		b.Run(alg, func(b *testing.B) {
			k, err := newDPoPKey(alg)
			if err != nil {
				b.Fatal(err)
			}
			c := &core.Credential{Token: strings.Repeat("t", 800), PerRequest: true, State: state{RefreshToken: "rt", DPoP: &dpopState{Alg: alg, key: k}}.encode()}
			s := New()
			req := core.ApplyRequest{Credential: c, Request: core.HTTPRequest{Method: "GET", URL: "https://api.example/items?page=2"}}
			for b.Loop() {
				if _, err := s.Apply(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The parsed-key cache holds the last maxParsedKeys keys and returns the
// same key for the same bytes only.
func TestDPoPKeyCache(t *testing.T) {
	var ders [][]byte
	for range maxParsedKeys + 2 {
		k, err := newDPoPKey(dpopEdDSA)
		if err != nil {
			t.Fatal(err)
		}
		ders = append(ders, k.der)
		if got, err := parseDPoPKey(dpopEdDSA, k.der); err != nil || got.jkt != k.jkt {
			t.Fatalf("parse: %v", err)
		}
	}
	if _, err := parseDPoPKey(dpopES256, ders[len(ders)-1]); err == nil {
		t.Errorf("a cached key was accepted for another algorithm")
	}
	parsedKeys.mu.Lock()
	n := len(parsedKeys.keys)
	parsedKeys.mu.Unlock()
	if n > maxParsedKeys {
		t.Errorf("%d keys cached, at most %d", n, maxParsedKeys)
	}
	first := sha256.Sum256(append([]byte(dpopEdDSA+"\x00"), ders[0]...))
	if parsedKeys.get(first) != nil {
		t.Errorf("the oldest key is still cached")
	}
}
