package kubecred

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseExecInfo(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Request
		err  string
	}{
		{"", Request{APIVersion: V1beta1}, ""},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`, Request{V1beta1, true, true}, ""},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{}}`, Request{V1beta1, true, false}, ""},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true,"cluster":{"server":"https://x"}}}`, Request{V1, true, false}, ""},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{}}`, Request{}, "spec.interactive missing"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`, Request{}, `apiVersion "client.authentication.k8s.io/v1alpha1" is not supported`},
		{`{"kind":"Pod","apiVersion":"client.authentication.k8s.io/v1"}`, Request{}, `kind "Pod"`},
		{`{"kind":"ExecCredential"`, Request{}, "truncated JSON"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1"} {}`, Request{}, "data after the object"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"yes"}}`, Request{}, "spec.interactive is not a bool"},
		{strings.Repeat(" ", MaxExecInfo) + "{}", Request{}, "larger than"},
	} {
		got, err := ParseExecInfo(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseExecInfo(%.80q) = %v, want error with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseExecInfo(%.80q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestWrite(t *testing.T) {
	var b bytes.Buffer
	exp := time.Date(2026, 11, 30, 18, 0, 0, 999, time.FixedZone("x", 3600))
	if err := Write(&b, V1, Credential{Token: "tok<en>", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{},"status":{"token":"tok<en>","expirationTimestamp":"2026-11-30T17:00:00Z"}}` + "\n"
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
	b.Reset()
	if err := Write(&b, V1beta1, Credential{Token: "t"}); err != nil || strings.Contains(b.String(), "expiration") {
		t.Errorf("no expiry: %v %s", err, b.String())
	}
	for _, bad := range []string{"", "a b", "a\nb", "a\rb", "a\x00b", "é"} {
		b.Reset()
		if err := Write(&b, V1, Credential{Token: bad}); err == nil || b.Len() != 0 {
			t.Errorf("Write(%q) = %v, wrote %q", bad, err, b.String())
		}
	}
	if err := Write(&b, "v1", Credential{Token: "t"}); err == nil {
		t.Error("Write with apiVersion v1: no error")
	}
}

func TestJWTExpiry(t *testing.T) {
	// {"alg":"none"}.{"exp":1700000000,"sub":"a"}.
	tok := "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDAsInN1YiI6ImEifQ.sig"
	if got, ok := JWTExpiry(tok); !ok || got.Unix() != 1700000000 {
		t.Errorf("JWTExpiry = %v, %v", got, ok)
	}
	for _, bad := range []string{"", "a.b", "a.!!.c", "a.eyJzdWIiOiJhIn0.c", "a.eyJleHAiOiJ4In0.c"} {
		if _, ok := JWTExpiry(bad); ok {
			t.Errorf("JWTExpiry(%q) ok", bad)
		}
	}
}

// FuzzParseExecInfo: any request either fails or names a supported
// version; what is then written for it decodes to the same token, expiry
// and version, on one line.
func FuzzParseExecInfo(f *testing.F) {
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`, "tok", int64(1800000000))
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"cluster":{"server":"https://127.0.0.1:6443"}}}`, "a.b.c", int64(0))
	f.Add("", "x\ny", int64(-1))
	f.Fuzz(func(t *testing.T, info, token string, exp int64) {
		r, err := ParseExecInfo(info)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if r.APIVersion != V1 && r.APIVersion != V1beta1 {
			t.Fatalf("version %q", r.APIVersion)
		}
		var expires time.Time
		if exp > 0 && exp < 1<<36 {
			expires = time.Unix(exp, 0)
		}
		var b bytes.Buffer
		if err := Write(&b, r.APIVersion, Credential{Token: token, Expires: expires}); err != nil {
			if b.Len() != 0 {
				t.Fatal("wrote on error")
			}
			return
		}
		if bytes.Count(b.Bytes(), []byte("\n")) != 1 || !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
			t.Fatalf("not one line: %q", b.String())
		}
		var got ExecCredential
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.APIVersion != r.APIVersion || got.Status.Token != token {
			t.Fatalf("round trip: %+v", got)
		}
		if expires.IsZero() != (got.Status.ExpirationTimestamp == "") {
			t.Fatalf("expiry %v → %q", expires, got.Status.ExpirationTimestamp)
		}
		if !expires.IsZero() {
			back, err := time.Parse(time.RFC3339, got.Status.ExpirationTimestamp)
			if err != nil || !back.Equal(expires) {
				t.Fatalf("expiry %v → %q", expires, got.Status.ExpirationTimestamp)
			}
		}
	})
}
