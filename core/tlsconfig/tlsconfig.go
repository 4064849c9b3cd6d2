// Package tlsconfig reads a profile's TLS settings, the config fields
// ca_file, client_cert and client_key, into what a TLS client needs: the
// certificate authorities trusted besides the system's and the client
// certificate with its private key. The jwt plugin uses it for its own
// requests and the host for the requests authx makes for the profile
// (authx request, the wrappers' probe, curl's and wget's settings), so
// both read the files by the same rules: ~ expanded, regular files only,
// at most MaxPEMFile bytes, PEM parsed once.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// The config fields a scheme declares to give a profile TLS settings.
// client_key must be declared secret: its value is a secret reference.
const (
	CAFileField     = "ca_file"
	ClientCertField = "client_cert"
	ClientKeyField  = "client_key"
)

// Fields declares the three fields in a scheme's config schema, for a
// scheme whose profiles may need them (see docs/plugin-protocol.md).
func Fields() []core.Field {
	return []core.Field{
		{Name: CAFileField, Type: core.TypeString, Help: "a PEM file of certificate authorities trusted besides the system's, for every request made for the profile (authx request, curl, wget, the scheme's own)"},
		{Name: ClientCertField, Type: core.TypeString, Help: "a PEM file holding the TLS client certificate presented with client_key"},
		{Name: ClientKeyField, Type: core.TypeString, Secret: true, Help: "the TLS client certificate's PEM private key, usually file:PATH"},
	}
}

// MaxPEMFile bounds what is read of ca_file and client_cert.
const MaxPEMFile = 1 << 20

// Settings are a profile's TLS settings: two paths and the private key
// itself (the resolved secret reference).
type Settings struct {
	CAFile     string // PEM certificate authorities trusted besides the system's
	ClientCert string // PEM client certificate, presented with ClientKey
	ClientKey  string // the client certificate's PEM private key: a secret
}

// FromConfig reads the settings from cfg's fields ca_file, client_cert and
// client_key (the latter already resolved), expanding a leading ~/ of the
// paths. It checks that the certificate and its key go together; errors
// are KindConfig naming the field.
func FromConfig(cfg core.Config) (Settings, error) {
	s := Settings{
		CAFile:     ExpandHome(cfg.String(CAFileField, "")),
		ClientCert: ExpandHome(cfg.String(ClientCertField, "")),
		ClientKey:  strings.TrimSpace(cfg.String(ClientKeyField, "")),
	}
	return s, s.Check()
}

// IsZero says there is nothing to set up.
func (s Settings) IsZero() bool { return s.CAFile == "" && s.ClientCert == "" && s.ClientKey == "" }

// Check reports a client certificate without its key or a key without its
// certificate, naming the field that is missing.
func (s Settings) Check() error {
	switch {
	case s.ClientCert != "" && s.ClientKey == "":
		return core.Errorf(core.KindConfig, "%s: client_cert and client_key go together: the certificate (a PEM file) and its private key (a secret reference, e.g. file:~/.config/app/client.key)", ClientKeyField)
	case s.ClientCert == "" && s.ClientKey != "":
		return core.Errorf(core.KindConfig, "%s: client_cert and client_key go together: the certificate (a PEM file) and its private key (a secret reference, e.g. file:~/.config/app/client.key)", ClientCertField)
	}
	return nil
}

// Loaded is what the settings name, read and parsed once: the PEM bytes
// (for a tool that reads PEM files, such as curl or wget) and the parsed
// roots and key pair (for Config).
type Loaded struct {
	CAPEM   []byte // the bytes of ca_file; nil without one
	CertPEM []byte // the bytes of client_cert; nil without one
	KeyPEM  []byte // the private key; a secret
	roots   []*x509.Certificate
	pair    *tls.Certificate
}

// Load reads and checks the files and the key. Errors are KindConfig,
// start with the field's name, and never quote the key.
func (s Settings) Load() (*Loaded, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	l := &Loaded{}
	if s.CAFile != "" {
		b, err := readPEMFile(CAFileField, s.CAFile)
		if err != nil {
			return nil, err
		}
		if l.roots = certificates(b); len(l.roots) == 0 {
			return nil, core.Errorf(core.KindConfig, "%s: %s holds no PEM certificate", CAFileField, redact.OneLine(s.CAFile))
		}
		l.CAPEM = b
	}
	if s.ClientCert != "" {
		b, err := readPEMFile(ClientCertField, s.ClientCert)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(b, []byte(s.ClientKey))
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "client_cert, client_key: %s", keyPairProblem(err))
		}
		l.CertPEM, l.KeyPEM, l.pair = b, []byte(s.ClientKey), &pair
	}
	return l, nil
}

// Load reads caFile and certFile and checks keyPEM, the client
// certificate's private key, against the certificate: Settings.Load.
func Load(caFile, certFile, keyPEM string) (*Loaded, error) {
	return Settings{CAFile: caFile, ClientCert: certFile, ClientKey: keyPEM}.Load()
}

// Config returns a copy of base (nil: the defaults, TLS 1.2 at least)
// that trusts the loaded authorities besides base's roots (the system's
// when base has none) and presents the client certificate.
func (l *Loaded) Config(base *tls.Config) *tls.Config {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		conf = base.Clone()
	}
	if len(l.roots) > 0 {
		pool := conf.RootCAs
		if pool == nil {
			var err error
			if pool, err = x509.SystemCertPool(); err != nil {
				pool = x509.NewCertPool()
			}
		} else {
			pool = pool.Clone()
		}
		for _, c := range l.roots {
			pool.AddCert(c)
		}
		conf.RootCAs = pool
	}
	if l.pair != nil {
		conf.Certificates = []tls.Certificate{*l.pair}
	}
	return conf
}

// Transport returns a clone of base (nil: http.DefaultTransport) whose TLS
// configuration is Config of base's. base must be an *http.Transport, the
// only RoundTripper whose TLS settings can be changed; another is an
// error of KindInternal.
func (l *Loaded) Transport(base http.RoundTripper) (*http.Transport, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	t, ok := base.(*http.Transport)
	if !ok {
		return nil, core.Errorf(core.KindInternal, "ca_file, client_cert: the HTTP client's transport %T cannot take TLS settings", base)
	}
	t = t.Clone()
	t.TLSClientConfig = l.Config(t.TLSClientConfig)
	return t, nil
}

// certificates parses the CERTIFICATE blocks of b, skipping what does not
// parse, as x509.CertPool.AppendCertsFromPEM does.
func certificates(b []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for len(b) > 0 {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// keyPairProblem says what is wrong with a certificate and key pair
// without quoting either.
func keyPairProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "private key does not match public key"):
		return "the private key does not match the certificate"
	case strings.Contains(msg, "failed to find any PEM data in certificate"), strings.Contains(msg, "failed to find certificate PEM data"):
		return "client_cert holds no PEM certificate"
	case strings.Contains(msg, "key"):
		return "client_key is not a PEM private key (PKCS#1, PKCS#8 or SEC1, unencrypted)"
	}
	return "the certificate cannot be read"
}

// readPEMFile reads the regular file at path, at most MaxPEMFile bytes;
// field names the setting in errors.
func readPEMFile(field, path string) ([]byte, error) {
	fail := func(format string, args ...any) ([]byte, error) {
		return nil, core.Errorf(core.KindConfig, "%s: %s: %s", field, redact.OneLine(path), redact.OneLine(fmt.Sprintf(format, args...)))
	}
	// Stat first: a named pipe would block the open.
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		if err != nil {
			if pe, ok := err.(*os.PathError); ok {
				err = pe.Err
			}
			return fail("cannot read it: %v", err)
		}
		return fail("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("cannot read it: %v", unwrapPath(err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() { // replaced between the two
		return fail("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPEMFile+1))
	switch {
	case err != nil:
		return fail("cannot read it: %v", unwrapPath(err))
	case len(b) > MaxPEMFile:
		return fail("larger than %d bytes", MaxPEMFile)
	}
	return b, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// ExpandHome expands a leading ~/ to the home directory.
func ExpandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
