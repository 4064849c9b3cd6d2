package jwt

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// maxPEMFile bounds what is read of ca_file and client_cert.
const maxPEMFile = 1 << 20

// readTLS reads ca_file, client_cert and client_key: the certificate and
// its key go together. The files are read by httpClient.
func (st *settings) readTLS(cfg core.Config) []core.Diagnostic {
	st.caFile = expandHome(cfg.String("ca_file", ""))
	st.clientCert = expandHome(cfg.String("client_cert", ""))
	st.clientKey = strings.TrimSpace(cfg.String("client_key", ""))
	if (st.clientCert == "") != (st.clientKey == "") {
		return []core.Diagnostic{core.DiagError(keyOr(cfg, "client_cert", "client_key"), "client_cert and client_key go together: the certificate (a PEM file) and its private key (a secret reference, e.g. file:~/.config/app/client.key)")}
	}
	return nil
}

// expandHome expands a leading ~/ to the home directory.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// httpClient returns the client of every request the plugin makes for a
// profile (login, refresh, token, discovery, JWKS): s.HTTP, or the default
// client, with the profile's TLS settings: the roots of ca_file trusted
// besides the system's (or the client's own), the client certificate
// client_cert with client_key presented. One client is kept per setting,
// so its connections are reused. Errors are KindConfig naming the key.
func (s *Scheme) httpClient(st *settings) (*http.Client, error) {
	base := s.client()
	if st.caFile == "" && st.clientCert == "" {
		return base, nil
	}
	sum := sha256.Sum256([]byte(st.caFile + "\x00" + st.clientCert + "\x00" + st.clientKey))
	id := hex.EncodeToString(sum[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.tlsClients[id]; ok {
		return c, nil
	}
	var tr *http.Transport
	switch t := base.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return nil, core.Errorf(core.KindInternal, "ca_file, client_cert: the HTTP client's transport %T cannot take TLS settings", t)
	}
	conf, err := st.tlsConfig(tr.TLSClientConfig)
	if err != nil {
		return nil, err
	}
	tr.TLSClientConfig = conf
	c := *base
	c.Transport = tr
	if s.tlsClients == nil {
		s.tlsClients = map[string]*http.Client{}
	}
	s.tlsClients[id] = &c
	return &c, nil
}

// tlsConfig returns a copy of base (nil: the defaults) with st's roots and
// client certificate.
func (st *settings) tlsConfig(base *tls.Config) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		conf = base.Clone()
	}
	if st.caFile != "" {
		pem, err := readPEMFile("ca_file", st.caFile)
		if err != nil {
			return nil, err
		}
		pool := conf.RootCAs
		if pool == nil {
			if pool, err = x509.SystemCertPool(); err != nil {
				pool = x509.NewCertPool()
			}
		} else {
			pool = pool.Clone()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, core.Errorf(core.KindConfig, "ca_file: %s holds no PEM certificate", redact.OneLine(st.caFile))
		}
		conf.RootCAs = pool
	}
	if st.clientCert != "" {
		pem, err := readPEMFile("client_cert", st.clientCert)
		if err != nil {
			return nil, err
		}
		cert, err := tls.X509KeyPair(pem, []byte(st.clientKey))
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "client_cert, client_key: %s", keyPairProblem(err))
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
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

// readPEMFile reads the regular file at path, at most maxPEMFile bytes; key
// names the setting in errors.
func readPEMFile(key, path string) ([]byte, error) {
	fail := func(format string, args ...any) ([]byte, error) {
		return nil, core.Errorf(core.KindConfig, "%s: %s: %s", key, redact.OneLine(path), redact.OneLine(fmt.Sprintf(format, args...)))
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
		return fail("cannot read it: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	switch {
	case err != nil:
		return fail("cannot read it: %v", err)
	case len(b) > maxPEMFile:
		return fail("larger than %d bytes", maxPEMFile)
	}
	return b, nil
}
