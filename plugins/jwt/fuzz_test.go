package jwt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// FuzzDotPath: the dot paths of token_path, refresh_token_path and
// expires_in_path never panic on any answer; a path finds what a document
// built along it holds; every path leafPaths lists is found by lookup.
func FuzzDotPath(f *testing.F) {
	seeds := [][2]string{
		{`{"data":{"token":"abc"}}`, "data.token"},
		{`{"success":true,"data":{"token":"t","id":1}}`, "data.token"},
		{`{"access_token":"a","expires_in":"3600"}`, "expires_in"},
		{`{"a.b":{"c":1}}`, "a.b.c"},
		{`{"":{"":{"x":"y"}}}`, ".."},
		{`{"data":["token"]}`, "data.0"},
		{`"just a string"`, "token"},
		{`null`, ""},
		{`{"expires_in":1e308}`, "expires_in"},
		{`{"expires_in":-1}`, "expires_in"},
		{`{"expires_in":"NaN"}`, "expires_in"},
		{`{"token":"a\r\nX-Evil: 1"}`, "token"},
		{`{"a":{"a":{"a":{"a":{"a":{"a":{"a":"deep"}}}}}}}`, "a.a.a.a.a.a.a"},
		{"{\"t\\u0000\":\"nul\"}", "t\x00"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, path string) {
		var doc any
		if json.Unmarshal([]byte(raw), &doc) != nil {
			doc = raw
		}
		v, ok := lookup(doc, path)
		_, _ = firstString(doc, path)
		_ = lifetime(doc, path)
		if ok { // every proper prefix is an object
			parts := strings.Split(path, ".")
			for i := 1; i < len(parts); i++ {
				if m, isMap := lookupOK(doc, strings.Join(parts[:i], ".")); !isMap {
					t.Fatalf("lookup(%s) found %v but its prefix %q is %v", path, v, strings.Join(parts[:i], "."), m)
				}
			}
		}
		// A document built along the path holds the leaf there.
		var built any = "leaf"
		parts := strings.Split(path, ".")
		for i := len(parts) - 1; i >= 0; i-- {
			built = map[string]any{parts[i]: built}
		}
		if got, ok := lookup(built, path); !ok || got != "leaf" {
			t.Fatalf("lookup(%q) in %v = %v, %v", path, built, got, ok)
		}
		if s, ok := firstString(built, path); !ok || s != "leaf" {
			t.Fatalf("firstString(%q) = %q, %v", path, s, ok)
		}
		// leafPaths lists paths lookup finds, unless a key holds a dot.
		paths := leafPaths(doc)
		if len(paths) <= 20 && !dottedKey(doc) {
			for _, p := range paths {
				if _, ok := lookup(doc, p); !ok {
					t.Fatalf("leafPaths(%s) lists %q, which lookup does not find", raw, p)
				}
			}
		}
	})
}

// lookupOK returns what lookup finds at path and whether it is an object.
func lookupOK(doc any, path string) (any, bool) {
	v, _ := lookup(doc, path)
	_, isMap := v.(map[string]any)
	return v, isMap
}

// dottedKey reports whether an object of doc has a key with a dot.
func dottedKey(doc any) bool {
	m, ok := doc.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range m {
		if strings.Contains(k, ".") || dottedKey(v) {
			return true
		}
	}
	return false
}

// FuzzDecode: decoding any token never panics; a refusal is one line that
// does not quote the token; what decodes re-encodes to a token that
// decodes to the same header, claims, payload and signature; a token with a
// character outside base64url and the dots is refused.
func FuzzDecode(f *testing.F) {
	hs, _, err := Mint(MintOptions{Alg: "HS256", Key: []byte(strings.Repeat("k", 32)), TTL: time.Minute, Now: time.Unix(1700000000, 0)})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		hs,
		"eyJhbGciOiJIUzI1NiJ9.%%%.x",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.",
		"a.b.c.d.e",
		"..",
		"",
		hs + "\r\nX-Evil: 1",
		"eyJhbGciOiJIUzI1NiJ9\n.e30.",
		"e30.e30.e30",
		"W10.e30.",
		"eyJhbGciOiJIUzI1NiIsImFsZyI6Im5vbmUifQ.e30.",
		"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjFlMzA4fQ.",
		"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiItMSJ9.",
		"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjEuNX0.AAAA",
		"eyJhbGciOiJIUzI1NiJ9.AP8.",
	} {
		f.Add(s)
	}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, token string) {
		out, err := Decode(token, now)
		_, _ = ExpiryOf(token)
		_ = checkJWTShape(token)
		if err != nil {
			msg := err.Error()
			if core.KindOf(err) != core.KindConfig || strings.ContainsAny(msg, "\r\n") || len(token) >= 12 && strings.Contains(msg, token) {
				t.Fatalf("Decode(%q): %v (%v)", token, err, core.KindOf(err))
			}
			return
		}
		if strings.ContainsFunc(token, func(r rune) bool { return !strings.ContainsRune(b64urlAlphabet+".", r) }) {
			t.Fatalf("Decode accepted %q, which holds a character of no JWS", token)
		}
		var rep map[string]any
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber() // a claim may be a number no float64 holds (6e308): still JSON
		if dec.Decode(&rep) != nil || rep["header"] == nil {
			t.Fatalf("Decode(%q) printed %s", token, out)
		}
		j, err := parseJWS(token)
		if err != nil {
			t.Fatalf("Decode accepted %q but parseJWS refuses it: %v", token, err)
		}
		h, err := json.Marshal(j.header)
		if err != nil {
			t.Fatalf("header %v does not re-encode: %v", j.header, err)
		}
		enc := base64.RawURLEncoding.EncodeToString
		again, err := parseJWS(enc(h) + "." + enc(j.payload) + "." + enc(j.signature))
		if err != nil {
			t.Fatalf("re-encoded %q: %v", token, err)
		}
		if !reflect.DeepEqual(again.header, j.header) || !reflect.DeepEqual(again.claims, j.claims) ||
			string(again.payload) != string(j.payload) || string(again.signature) != string(j.signature) {
			t.Fatalf("%q re-encodes to another token: %#v vs %#v", token, again, j)
		}
	})
}

// b64urlAlphabet is base64url's alphabet (RFC 4648 §5).
const b64urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// FuzzAssertionKey: the PEM private key loader of private_key_jwt never
// panics; its error is one line of kind config that quotes no part of the
// key; a key it accepts gets a known asymmetric algorithm that signs a
// client assertion the key's public half verifies.
func FuzzAssertionKey(f *testing.F) {
	// Not keysFor: its RSA keys take long to generate in every worker.
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ed, ec := string(pemPKCS8(edPriv)), string(pemPKCS8(ecPriv))
	for _, s := range [][2]string{
		{ed, ""}, {ed, "EdDSA"}, {ed, "RS256"},
		{ec, ""}, {ec, "ES384"},
		{"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", ""},
		{"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n", ""},
		{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", ""},
		{"-----BEGIN X\r\nEvil: 1-----\nAAAA\n-----END X\r\nEvil: 1-----\n", ""},
		{"hunter2", ""}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, material, alg string) {
		got, err := assertionAlg(material, alg)
		if err != nil {
			msg := err.Error()
			if core.KindOf(err) != core.KindConfig || strings.ContainsAny(msg, "\r\n\x00") {
				t.Fatalf("error %q (kind %v): want one line of kind config", msg, core.KindOf(err))
			}
			if _, body, ok := strings.Cut(material, "-----\n"); ok && len(body) >= 12 && strings.Contains(msg, body[:12]) {
				t.Fatalf("error %q quotes the key", msg)
			}
			return
		}
		if !knownAlg(got) || strings.HasPrefix(got, "HS") || alg != "" && got != alg {
			t.Fatalf("assertionAlg(…, %q) = %q", alg, got)
		}
		st := &settings{clientID: "c", clientAuth: authPrivateKeyJWT, assertionKey: material, assertionAlg: alg}
		a, err := New().clientAssertion(st, "https://idp.example.com/token")
		if err != nil {
			t.Fatalf("the key was accepted but cannot sign: %v", err)
		}
		if _, err := Verify(t.Context(), a, VerifyOptions{Key: []byte(material), Algs: []string{got}, Audience: "https://idp.example.com/token", Issuer: "c", Subject: "c"}); err != nil {
			t.Fatalf("the assertion does not verify with the key: %v", err)
		}
	})
}

// FuzzMetadata: parseMetadata never panics; what it accepts is for the
// configured issuer exactly, and every endpoint it returns is an absolute
// http(s) URL that may carry secrets (https, or http to a loopback host)
// with no fragment and no control character; its errors are one line.
func FuzzMetadata(f *testing.F) {
	const iss = "https://idp.example.com/realms/main"
	for _, s := range []string{
		`{"issuer":"https://idp.example.com/realms/main","token_endpoint":"https://idp.example.com/realms/main/protocol/openid-connect/token","jwks_uri":"https://idp.example.com/certs"}`,
		`{"issuer":"https://idp.example.com/realms/main/"}`,
		`{"issuer":"https://evil.example"}`,
		`{"issuer":"https://idp.example.com/realms/main","token_endpoint":"http://idp.example.com/token"}`,
		`{"issuer":"https://idp.example.com/realms/main","token_endpoint":"http://127.0.0.1:8080/token"}`,
		`{"issuer":"https://idp.example.com/realms/main","authorization_endpoint":"https://idp.example.com/auth#frag"}`,
		`{"issuer":"https://idp.example.com/realms/main","revocation_endpoint":"https://idp.example.com/r\r\nX-Evil: 1"}`,
		`{"issuer":"https://idp.example.com/realms/main","device_authorization_endpoint":"javascript:alert(1)"}`,
		`{"issuer":"https://idp.example.com/realms/main","jwks_uri":"https://user:pw@idp.example.com/certs"}`,
		`{"issuer":"https://idp.example.com/realms/main","token_endpoint":"https://idp.example.com/\u0000"}`,
		`{"issuer":null}`, `[]`, `null`, `"x"`, `{"issuer":1}`,
	} {
		f.Add(s, iss)
	}
	f.Fuzz(func(t *testing.T, raw, issuer string) {
		md, err := parseMetadata([]byte(raw), issuer)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Fatalf("error not one line: %q", err)
			}
			return
		}
		if md.Issuer != issuer {
			t.Fatalf("accepted the metadata of %q for %q", md.Issuer, issuer)
		}
		for _, e := range []string{md.TokenEndpoint, md.AuthorizationEndpoint, md.DeviceAuthorizationEndpoint, md.JWKSURI, md.RevocationEndpoint} {
			if e == "" {
				continue
			}
			u, err := url.Parse(e)
			if err != nil || !u.IsAbs() || !secureTransport(u) || u.Fragment != "" || strings.ContainsAny(e, "\r\n\x00 ") {
				t.Fatalf("endpoint %q accepted", e)
			}
		}
	})
}

// FuzzExtraParams: extra_params never lets a reserved parameter through,
// and every accepted parameter reaches the token request as given.
func FuzzExtraParams(f *testing.F) {
	for _, s := range [][2]string{{"acr_values", "mfa"}, {"grant_type", "password"}, {"client_assertion", "x"},
		{"code_verifier", "v"}, {"", "x"}, {"a\r\nb", "c"}, {"resource", "https://x/"}, {"ui_locales", "de en"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		st := &settings{}
		ds := st.readParams(core.Config{"extra_params": map[string]any{key: value, "also": []any{value, "2"}}})
		reserved := slices.Contains(reservedParams, key)
		if reserved || key == "" || strings.ContainsFunc(key, unicode.IsControl) {
			if len(ds) == 0 || st.extraParams.Has(key) {
				t.Fatalf("extra_params %q accepted", key)
			}
		} else if len(ds) != 0 {
			t.Fatalf("extra_params %q refused: %+v", key, ds)
		}
		form := url.Values{}
		st.addTokenParams(form)
		for _, r := range reservedParams {
			if form.Has(r) {
				t.Fatalf("the token request got reserved parameter %q", r)
			}
		}
		if !reserved && len(ds) == 0 && (form.Get(key) != value || !slices.Equal(form["also"], []string{value, "2"})) {
			t.Fatalf("form %v lacks %q=%q", form, key, value)
		}
	})
}

// FuzzCallback: a loopback redirect's query never panics the parser; a
// code comes back only with the exact state and issuer (when the query
// names one) and no error; every error is one short printable line.
func FuzzCallback(f *testing.F) {
	for _, s := range []string{
		"code=abc&state=S&iss=https%3A%2F%2Fidp.example",
		"code=abc&state=s",
		"code=abc&state=S&state=S",
		"code=a&code=b&state=S",
		"error=access_denied&error_description=no%0D%0ASet-Cookie:%20x&state=S",
		"error=%00%1b[31m&state=S",
		"error=invalid_request&error_description=" + strings.Repeat("A", 1000),
		"code=abc&state=S&iss=https%3A%2F%2Fidp.example%2F",
		"%zz", ";;;", "code=%E2%80%AE&state=S",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		const state, iss = "S", "https://idp.example"
		q, _ := url.ParseQuery(raw)
		code, err := parseCallback(q, state, iss, false)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n\x00\x1b") || !utf8.ValidString(msg) || len([]rune(msg)) > 400 {
				t.Fatalf("error not one short printable line: %q", msg)
			}
			if code != "" {
				t.Fatalf("a code with an error")
			}
			return
		}
		if code == "" || q.Get("state") != state || q.Has("iss") && q.Get("iss") != iss || q.Get("error") != "" {
			t.Fatalf("accepted %q", raw)
		}
	})
}

// FuzzDecodeState: a credential's state is untrusted bytes. decodeState
// never panics; what it accepts encodes and decodes again to the same
// state, with a key that signs a proof the strict checker accepts; what it
// refuses it says in one of its own sentences, quoting nothing of the
// state.
func FuzzDecodeState(f *testing.F) {
	k, _ := newDPoPKey(dpopES256)
	key := base64.StdEncoding.EncodeToString(k.der)
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"refresh_token":"rt"}`, `{"v":1}`, `{"v":2}`, `{"v":1e3}`, `{"v":1,"dpop":null}`,
		`{"v":1,"refresh_token":"rt","dpop":{"alg":"ES256","key":"` + key + `","token_nonce":"n1","nonces":[{"origin":"https://a.example:443","nonce":"n2"}]}}`,
		`{"v":1,"dpop":{"alg":"RS256","key":"` + key + `"}}`,
		`{"v":1,"dpop":{"alg":"ES256","key":"` + key + `","nonces":[{"origin":"http://x:80","nonce":"\u0000"}]}}`,
		`{"v":1,"refresh_token":"a\u007fb"}`, `{"v":1}{"v":1}`, `{"V":1,"Refresh_Token":"x"}`,
	} {
		f.Add([]byte(s))
	}
	known := regexp.MustCompile(`^(the state is larger than N bytes|the state is not this plugin's JSON|the state has data after its JSON|` +
		`the state's version -?N is not one this plugin reads \(a newer authx wrote it\?\)|a state of version N holds no DPoP key|` +
		`the state's refresh token holds control characters|the DPoP key is not a PKCS #N private key|the DPoP key does not fit algorithm .{0,40}|` +
		`the DPoP key is not a valid P-N key|the DPoP key is of an unsupported type|the state's token endpoint nonce is malformed|` +
		`the state holds more than N nonces|the state holds a malformed nonce)$`)
	digits := regexp.MustCompile(`[0-9]+`)
	f.Fuzz(func(t *testing.T, raw []byte) {
		st, err := decodeState(raw)
		if err != nil {
			msg := err.Error()
			if strings.ContainsFunc(msg, unicode.IsControl) || !utf8.ValidString(msg) {
				t.Fatalf("unprintable error text %q", msg)
			}
			if !known.MatchString(digits.ReplaceAllString(msg, "N")) {
				t.Fatalf("unexpected error text %q", msg)
			}
			return
		}
		again, err := decodeState(st.encode())
		if err != nil {
			t.Fatalf("an accepted state does not decode after encode: %v", err)
		}
		if again.RefreshToken != st.RefreshToken || (again.DPoP == nil) != (st.DPoP == nil) {
			t.Fatalf("round trip changed the state: %+v → %+v", st, again)
		}
		if d := st.DPoP; d != nil {
			a := again.DPoP
			if a.key.jkt != d.key.jkt || a.TokenNonce != d.TokenNonce || !slices.Equal(a.Nonces, d.Nonces) {
				t.Fatalf("round trip changed the DPoP state")
			}
			now := time.Unix(1_800_000_000, 0)
			proof, err := d.key.proof("GET", "https://api.example/x", "at", d.TokenNonce, now)
			if err != nil {
				t.Fatalf("an accepted key does not sign: %v", err)
			}
			if _, err := jwttest.CheckDPoPProof(proof, jwttest.DPoPCheck{Method: "GET", URL: "https://api.example/x", AccessToken: "at", Nonce: d.TokenNonce, Now: now}); err != nil {
				t.Fatalf("an accepted key's proof is refused: %v", err)
			}
		}
	})
}

// FuzzDPoPChallenge: a resource server's challenge and DPoP-Nonce header
// are untrusted. HandleChallenge never panics on them; a retry's
// credential keeps the same token and key and a nonce that is exactly the
// header's, well-formed, in a state that decodes; a diagnosis is one
// printable line.
func FuzzDPoPChallenge(f *testing.F) {
	k, _ := newDPoPKey(dpopES256)
	cred := &core.Credential{Token: "at-token-value", PerRequest: true, State: state{DPoP: &dpopState{Alg: k.alg, key: k}}.encode()}
	for _, s := range [][3]string{
		{`DPoP error="use_dpop_nonce"`, "n1", "https://api.example/x"},
		{`DPoP error="use_dpop_nonce", algs="ES256"`, "", "https://api.example/x"},
		{`Bearer realm="r", DPoP error="use_dpop_nonce"`, `a"b`, "http://[::1]:8080/"},
		{`DPoP error="invalid_dpop_proof", error_description="x\x01"`, "n", "https://a/"},
		{`DPoP error=use_dpop_nonce`, strings.Repeat("n", 2000), "https://a/"},
		{`dpop ERROR="use_dpop_nonce"`, "n\r\nX: y", "ftp://a/"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	cfg := core.Config{"mode": "oauth2", "token_url": "https://as.example/token", "client_id": "c", "dpop": true}
	f.Fuzz(func(t *testing.T, challenge, nonce, target string) {
		h := http.Header{"Www-Authenticate": {challenge}, "Dpop-Nonce": {nonce}}
		res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Credential: cred,
			Request: core.HTTPRequest{Method: "GET", URL: target}, Response: core.HTTPResponse{Status: 401, Header: h}})
		if err != nil {
			return
		}
		if strings.ContainsAny(res.Diagnosis, "\r\n") || !utf8.ValidString(res.Diagnosis) {
			t.Fatalf("diagnosis %q", res.Diagnosis)
		}
		if res.Decision != core.DecisionRetry {
			return
		}
		st, err := decodeState(res.Credential.State)
		if err != nil || res.Credential.Token != cred.Token || st.DPoP.key.jkt != k.jkt {
			t.Fatalf("retry credential: %v", err)
		}
		if got := st.DPoP.nonceFor(target); got != nonce || !validNonce(got) {
			t.Fatalf("kept nonce %q, header %q", got, nonce)
		}
	})
}
