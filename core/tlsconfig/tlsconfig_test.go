package tlsconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// selfSigned returns a self-signed certificate and its PKCS#8 key, in PEM.
func selfSigned(t testing.TB, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
}

func write(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, "client")
	_, otherKey := selfSigned(t, "other")
	caPEM, _ := selfSigned(t, "ca")
	ca, cert := write(t, dir, "ca.pem", caPEM), write(t, dir, "client.pem", certPEM)
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	tests := []struct {
		name string
		s    Settings
		want string // "" means success
	}{
		{"nothing", Settings{}, ""},
		{"ca only", Settings{CAFile: ca}, ""},
		{"client only", Settings{ClientCert: cert, ClientKey: string(keyPEM)}, ""},
		{"all three", Settings{CAFile: ca, ClientCert: cert, ClientKey: string(keyPEM)}, ""},
		{"cert without key", Settings{ClientCert: cert}, "client_key: client_cert and client_key go together"},
		{"key without cert", Settings{ClientKey: string(keyPEM)}, "client_cert: client_cert and client_key go together"},
		{"another key", Settings{ClientCert: cert, ClientKey: string(otherKey)}, "client_cert, client_key: the private key does not match the certificate"},
		{"key not PEM", Settings{ClientCert: cert, ClientKey: "hunter2-not-a-key"}, "client_key is not a PEM private key"},
		{"cert not PEM", Settings{ClientCert: write(t, dir, "junk.pem", []byte("junk\n")), ClientKey: string(keyPEM)}, "client_cert holds no PEM certificate"},
		{"ca missing", Settings{CAFile: filepath.Join(dir, "nope.pem")}, "ca_file: " + filepath.Join(dir, "nope.pem") + ": cannot read it: no such file or directory"},
		{"ca a directory", Settings{CAFile: dir}, "ca_file: " + dir + ": not a regular file"},
		{"ca a fifo", Settings{CAFile: filepath.Join(dir, "fifo")}, "not a regular file"},
		{"ca without certificate", Settings{CAFile: write(t, dir, "empty.pem", []byte("nothing\n"))}, "holds no PEM certificate"},
		{"ca too large", Settings{CAFile: write(t, dir, "big.pem", make([]byte, MaxPEMFile+1))}, "larger than 1048576 bytes"},
		{"cert too large", Settings{ClientCert: write(t, dir, "big2.pem", make([]byte, MaxPEMFile+1)), ClientKey: string(keyPEM)}, "client_cert: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tt.s.Load()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				conf := l.Config(nil)
				if (tt.s.CAFile != "") != (conf.RootCAs != nil) || (tt.s.ClientCert != "") != (len(conf.Certificates) == 1) || conf.MinVersion != tls.VersionTLS12 {
					t.Fatalf("config %+v", conf)
				}
				return
			}
			if core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// Config adds the roots to base's own, never to base itself, and keeps
// base's other settings.
func TestConfigKeepsBase(t *testing.T) {
	dir := t.TempDir()
	caPEM, _ := selfSigned(t, "ca")
	baseRoot, _ := selfSigned(t, "base")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(baseRoot)
	base := &tls.Config{RootCAs: pool, ServerName: "api", MinVersion: tls.VersionTLS13}
	l, err := Load(write(t, dir, "ca.pem", caPEM), "", "")
	if err != nil {
		t.Fatal(err)
	}
	conf := l.Config(base)
	if conf.ServerName != "api" || conf.MinVersion != tls.VersionTLS13 || conf.RootCAs == pool {
		t.Fatalf("config %+v", conf)
	}
	if !pool.Equal(func() *x509.CertPool { p := x509.NewCertPool(); p.AppendCertsFromPEM(baseRoot); return p }()) {
		t.Fatal("base's pool was changed")
	}
	if string(l.CAPEM) != string(caPEM) {
		t.Fatal("CAPEM is not the file's bytes")
	}
}

func TestFromConfig(t *testing.T) {
	home, _ := os.UserHomeDir()
	s, err := FromConfig(core.Config{"ca_file": "~/ca.pem", "client_cert": "/c.pem", "client_key": " KEY \n"})
	if err != nil || s.CAFile != filepath.Join(home, "ca.pem") || s.ClientCert != "/c.pem" || s.ClientKey != "KEY" {
		t.Fatalf("%+v %v", s, err)
	}
	if s, err := FromConfig(core.Config{"mode": "static"}); err != nil || !s.IsZero() {
		t.Fatalf("%+v %v", s, err)
	}
}

// Whatever the key, Load never panics, and its error is one line of
// KindConfig that quotes nothing of the key.
func FuzzLoadKey(f *testing.F) {
	dir := f.TempDir()
	certPEM, keyPEM := selfSigned(f, "client")
	cert := write(f, dir, "client.pem", certPEM)
	f.Add(string(keyPEM))
	f.Add("hunter2-not-a-key")
	f.Add("-----BEGIN PRIVATE KEY-----\nhunter2hunter2\n-----END PRIVATE KEY-----\n")
	f.Add("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END EC PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, key string) {
		l, err := Load("", cert, key)
		if err == nil {
			if l.Config(nil).Certificates == nil {
				t.Fatal("a loaded key pair without a certificate")
			}
			return
		}
		msg := err.Error()
		if core.KindOf(err) != core.KindConfig || strings.ContainsAny(msg, "\r\n\x00") {
			t.Fatalf("error %q", msg)
		}
		if k := strings.TrimSpace(key); len(k) >= 6 && strings.Contains(msg, k) {
			t.Fatalf("the key in the error %q", msg)
		}
	})
}

func TestTransport(t *testing.T) {
	dir := t.TempDir()
	caPEM, _ := selfSigned(t, "ca")
	l, err := Load(write(t, dir, "ca.pem", caPEM), "", "")
	if err != nil {
		t.Fatal(err)
	}
	base := &http.Transport{MaxIdleConns: 7}
	tr, err := l.Transport(base)
	if err != nil || tr == base || tr.MaxIdleConns != 7 || tr.TLSClientConfig == nil || tr.TLSClientConfig.RootCAs == nil {
		t.Fatalf("%+v %v", tr, err)
	}
	if tr, err := l.Transport(nil); err != nil || tr == http.DefaultTransport {
		t.Fatalf("%v %v", tr, err)
	}
	if _, err := l.Transport(roundTripper{}); core.KindOf(err) != core.KindInternal {
		t.Fatalf("another RoundTripper: %v", err)
	}
}

type roundTripper struct{}

func (roundTripper) RoundTrip(*http.Request) (*http.Response, error) { return nil, nil }
