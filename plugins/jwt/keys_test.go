package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/core"
)

// testKey is a key for tests: priv signs (PEM, or the HMAC secret), pub
// verifies (PEM, or the same secret).
type testKey struct{ priv, pub []byte }

// testKeyring holds, per key family, a key and an unrelated second key,
// generated once per test binary. The second keys use the other PEM
// encodings (PKCS#8 instead of PKCS#1 or SEC1).
var testKeyring = sync.OnceValue(func() map[string][2]testKey {
	ring := map[string][2]testKey{}
	secret := func() testKey {
		b := make([]byte, 64)
		rand.Read(b)
		return testKey{b, b}
	}
	ring["HS"] = [2]testKey{secret(), secret()}
	rsaKey := func(pkcs8 bool) testKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		if pkcs8 {
			return testKey{pemPKCS8(k), pemPublic(&k.PublicKey)}
		}
		return testKey{pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)), pemPublic(&k.PublicKey)}
	}
	ring["RSA"] = [2]testKey{rsaKey(false), rsaKey(true)}
	for crv, c := range curveByName {
		ecKey := func(pkcs8 bool) testKey {
			k, err := ecdsa.GenerateKey(c.curve, rand.Reader)
			if err != nil {
				panic(err)
			}
			if pkcs8 {
				return testKey{pemPKCS8(k), pemPublic(&k.PublicKey)}
			}
			der, err := x509.MarshalECPrivateKey(k)
			if err != nil {
				panic(err)
			}
			return testKey{pemBlock("EC PRIVATE KEY", der), pemPublic(&k.PublicKey)}
		}
		ring[crv] = [2]testKey{ecKey(false), ecKey(true)}
	}
	edKey := func() testKey {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return testKey{pemPKCS8(priv), pemPublic(pub)}
	}
	ring["Ed25519"] = [2]testKey{edKey(), edKey()}
	return ring
})

// keysFor returns the two test keys for alg.
func keysFor(alg string) (main, other testKey) {
	family := map[string]string{"HS": "HS", "RS": "RSA", "PS": "RSA", "Ed": "Ed25519"}[alg[:2]]
	if family == "" {
		family = curveOf(alg)
	}
	pair := testKeyring()[family]
	return pair[0], pair[1]
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pemPKCS8(k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func pemPublic(k any) []byte {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err)
	}
	return pemBlock("PUBLIC KEY", der)
}

// requireKind fails unless err is a *core.Error of kind k whose message
// contains want and none of the secrets.
func requireKind(t *testing.T, err error, k core.Kind, want string, secrets ...[]byte) {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Kind != k {
		t.Fatalf("error = %v (kind %v), want kind %v", err, core.KindOf(err), k)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %q, want it to contain %q", err, want)
	}
	requireNoSecret(t, err.Error(), secrets...)
}

// requireInvalid fails unless err matches ErrInvalid with a reason
// containing want.
func requireInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error = %v (kind %v), want ErrInvalid", err, core.KindOf(err))
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %q, want it to contain %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q is not one line", err)
	}
}

// requireNoSecret fails when msg holds any secret, raw or base64url-encoded.
func requireNoSecret(t *testing.T, msg string, secrets ...[]byte) {
	t.Helper()
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		for _, form := range []string{string(s), base64.RawURLEncoding.EncodeToString(s)} {
			if strings.Contains(msg, form[:min(len(form), 16)]) {
				t.Fatalf("message %q leaks a secret", msg)
			}
		}
	}
}

func TestKeysClassification(t *testing.T) {
	rsaPub := keyOf(t, "RS256").pub
	rsaDER, _ := pem.Decode(rsaPub)
	pkix1, _ := x509.ParsePKIXPublicKey(rsaDER.Bytes)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	tests := []struct {
		name     string
		material []byte
		algs     []string // nil: an error is expected
		err      string
	}{
		{"32-byte secret", bytes.Repeat([]byte("k"), 32), []string{"HS256"}, ""},
		{"48-byte secret", bytes.Repeat([]byte("k"), 48), []string{"HS256", "HS384"}, ""},
		{"64-byte secret", bytes.Repeat([]byte("k"), 64), hmacAlgs, ""},
		{"31-byte secret", bytes.Repeat([]byte("k"), 31), nil, "the HMAC key is 31 bytes; HS256 needs at least 32"},
		{"empty", []byte(" \n"), nil, "the key is empty"},
		{"RSA PKIX", rsaPub, rsaAlgs, ""},
		{"RSA PKCS#1 public", pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(pkix1.(*rsa.PublicKey))), rsaAlgs, ""},
		{"RSA private PKCS#1", keyOf(t, "RS256").priv, rsaAlgs, ""},
		{"RSA private PKCS#8", otherKeyOf(t, "RS256").priv, rsaAlgs, ""},
		{"RSA certificate", selfSignedCert(t), rsaAlgs, ""},
		{"P-256", keyOf(t, "ES256").pub, []string{"ES256"}, ""},
		{"P-384 SEC1 private", keyOf(t, "ES384").priv, []string{"ES384"}, ""},
		{"P-521", keyOf(t, "ES512").pub, []string{"ES512"}, ""},
		{"Ed25519", keyOf(t, "EdDSA").pub, []string{"EdDSA"}, ""},
		{"RSA 1024", pemPublic(&small.PublicKey), nil, "the RSA key has 1024 bits; at least 2048"},
		{"P-224", pemPublic(&p224.PublicKey), nil, "EC curve P-224 is not used by JWS"},
		{"broken PEM", []byte("-----BEGIN PUBLIC KEY-----\nnot base64\n"), nil, "no readable PEM block"},
		{"bad DER", pemBlock("PUBLIC KEY", []byte("nonsense")), nil, "cannot be read"},
		{"encrypted", pemBlock("ENCRYPTED PRIVATE KEY", []byte("x")), nil, `unsupported PEM block "ENCRYPTED PRIVATE KEY"`},
		{"JWK oct with alg", []byte(`{"kty":"oct","alg":"HS384","k":"` + b64(bytes.Repeat([]byte("k"), 64)) + `"}`), []string{"HS384"}, ""},
		{"JWK with unfitting alg", []byte(`{"kty":"oct","alg":"RS256","k":"` + b64(bytes.Repeat([]byte("k"), 64)) + `"}`), nil, "alg RS256 does not fit a 64-byte HMAC secret"},
		{"JWK short oct", []byte(`{"kty":"oct","k":"c2hvcnQ"}`), nil, "the HMAC key is 5 bytes"},
		{"JWK without kty", []byte(`{"k":"c2hvcnQ"}`), nil, "kty is missing"},
		{"JWK enc", []byte(`{"kty":"oct","use":"enc","k":"c2hvcnQ"}`), nil, "not a signature verification key"},
		{"JWK EC off curve", []byte(`{"kty":"EC","crv":"P-256","x":"` + b64(make([]byte, 32)) + `","y":"` + b64(make([]byte, 32)) + `"}`), nil, "the EC point is invalid"},
		{"JWK EC short coordinate", []byte(`{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}`), nil, "coordinates must be 32 bytes"},
		{"JWK RSA bad e", []byte(`{"kty":"RSA","n":"AQAB","e":"AQ"}`), nil, "exponent"},
		{"JWK bad base64", []byte(`{"kty":"OKP","crv":"Ed25519","x":"!!"}`), nil, `member "x" is not base64url`},
		{"JWKS all unusable", []byte(`{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}`), nil, "no usable signature key (keys[0]: the HMAC key is 5 bytes"},
		{"JWKS only enc", []byte(`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`), nil, "no signature verification key"},
		{"JWKS not array", []byte(`{"keys":{}}`), nil, "not a JSON object with a keys array"},
		{"invalid JSON is a secret", []byte(`{"kty":"oct", this is 40 bytes of secret!}`), hmacAlgs[:1], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := verifyKeys(tt.material)
			if tt.algs == nil {
				requireKind(t, err, core.KindConfig, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 || !slices.Equal(keys[0].algs, tt.algs) {
				t.Fatalf("keys = %+v, want one with algs %v", keys, tt.algs)
			}
		})
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func keyOf(t *testing.T, alg string) testKey {
	t.Helper()
	k, _ := keysFor(alg)
	return k
}

func otherKeyOf(t *testing.T, alg string) testKey {
	t.Helper()
	_, k := keysFor(alg)
	return k
}

// selfSignedCert returns a PEM certificate for the RS256 test key.
func selfSignedCert(t *testing.T) []byte {
	t.Helper()
	k, err := gojwt.ParseRSAPrivateKeyFromPEM(keyOf(t, "RS256").priv)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authx test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", der)
}

// rfcVector is one file of testdata/rfc.
type rfcVector struct {
	file          string
	Source        string          `json:"source"`
	Alg           string          `json:"alg"`
	Valid         bool            `json:"valid"`
	At            int64           `json:"at"` // verification time (unix seconds), 0 = any
	Deterministic bool            `json:"deterministic"`
	Payload       string          `json:"payload"`
	Token         string          `json:"token"`
	Key           json.RawMessage `json:"key"`
}

// rfcVectors loads testdata/rfc/*.json.
func rfcVectors(t *testing.T) []rfcVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "rfc", "*.json"))
	if err != nil || len(files) < 8 {
		t.Fatalf("RFC vectors: %v files, %v", len(files), err)
	}
	var vs []rfcVector
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v := rfcVector{file: filepath.Base(f)}
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v.Source == "" || v.Token == "" || len(v.Key) == 0 {
			t.Fatalf("%s: source, token and key are required", f)
		}
		vs = append(vs, v)
	}
	return vs
}

// TestRFCVectorKeysConsistent checks the published private keys against
// their public halves, and re-signs the deterministic vectors byte for
// byte: a mistyped value in testdata/rfc fails here.
func TestRFCVectorKeysConsistent(t *testing.T) {
	for _, v := range rfcVectors(t) {
		t.Run(v.file, func(t *testing.T) {
			var j map[string]string
			if err := json.Unmarshal(v.Key, &j); err != nil {
				t.Fatal(err)
			}
			n := func(name string) *big.Int { return new(big.Int).SetBytes(mustB64(t, j[name])) }
			var signer any
			switch j["kty"] {
			case "RSA":
				k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n("n"), E: int(n("e").Int64())}, D: n("d"), Primes: []*big.Int{n("p"), n("q")}}
				if err := k.Validate(); err != nil {
					t.Fatal(err)
				}
				k.Precompute()
				for name, want := range map[string]*big.Int{"dp": k.Precomputed.Dp, "dq": k.Precomputed.Dq, "qi": k.Precomputed.Qinv} {
					if n(name).Cmp(want) != 0 {
						t.Fatalf("%s does not match p, q and d", name)
					}
				}
				signer = k
			case "EC":
				k, err := ecdsa.ParseRawPrivateKey(curveByName[j["crv"]].curve, mustB64(t, j["d"]))
				if err != nil {
					t.Fatal(err)
				}
				pub, _ := k.PublicKey.Bytes()
				if !bytes.Equal(pub[1:], append(mustB64(t, j["x"]), mustB64(t, j["y"])...)) {
					t.Fatal("d does not match x, y")
				}
			case "OKP":
				k := ed25519.NewKeyFromSeed(mustB64(t, j["d"]))
				if !bytes.Equal(k.Public().(ed25519.PublicKey), mustB64(t, j["x"])) {
					t.Fatal("d does not match x")
				}
				signer = k
			case "oct":
				signer = mustB64(t, j["k"])
			}
			if !v.Deterministic {
				return
			}
			i := strings.LastIndexByte(v.Token, '.')
			sig, err := gojwt.GetSigningMethod(v.Alg).Sign(v.Token[:i], signer)
			if err != nil {
				t.Fatal(err)
			}
			if got := b64(sig); got != v.Token[i+1:] {
				t.Fatalf("re-signed signature %s differs from the published one", got)
			}
			if v.Alg == "HS256" {
				mac := hmac.New(gojwt.SigningMethodHS256.Hash.New, signer.([]byte))
				mac.Write([]byte(v.Token[:i]))
				if b64(mac.Sum(nil)) != v.Token[i+1:] {
					t.Fatal("HMAC mismatch")
				}
			}
		})
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
