package digest

import "testing"

func mustAlg(t *testing.T, name string) algorithm {
	t.Helper()
	a, ok := lookupAlgorithm(name)
	if !ok {
		t.Fatalf("algorithm %q not supported", name)
	}
	return a
}

// The published test vectors: RFC 7616 §3.9.1 (MD5 and SHA-256), RFC 2617
// §3.5 (MD5), and RFC 7616 §3.9.2 (SHA-512-256 with userhash) as corrected
// by errata 4897: the RFC's own values came from a draft SHA-512/256.
func TestResponseVectors(t *testing.T) {
	rfc7616 := inputs{username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life",
		nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		nc: "00000001", qop: "auth", method: "GET", uri: "/dir/index.html"}
	rfc2617 := inputs{username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life",
		nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", cnonce: "0a4f113b",
		nc: "00000001", qop: "auth", method: "GET", uri: "/dir/index.html"}
	jason := inputs{username: "J\u00e4s\u00f8n Doe", realm: "api@example.org", password: "Secret, or not?",
		nonce: "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
		nc: "00000001", qop: "auth", method: "GET", uri: "/doe.json"}
	tests := []struct {
		name string
		alg  string
		in   inputs
		want string
	}{
		{"RFC 7616 3.9.1 MD5", "MD5", rfc7616, "8ca523f5e9506fed4657c9700eebdbec"},
		{"RFC 7616 3.9.1 SHA-256", "SHA-256", rfc7616, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{"RFC 2617 3.5 MD5", "MD5", rfc2617, "6629fae49393a05397450978507c4ef1"},
		{"RFC 7616 3.9.2 SHA-512-256", "SHA-512-256", jason, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.alg = mustAlg(t, tt.alg)
			if got := response(in); got != tt.want {
				t.Errorf("response = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestUserhashVector(t *testing.T) {
	// RFC 7616 §3.9.2 as corrected by errata 4897.
	got := userhash(mustAlg(t, "SHA-512-256"), "J\u00e4s\u00f8n Doe", "api@example.org")
	if want := "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"; got != want {
		t.Errorf("userhash = %s, want %s", got, want)
	}
}
