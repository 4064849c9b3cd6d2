package jwt

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/tlsconfig"
)

// readTLS reads ca_file, client_cert and client_key (tlsconfig.FromConfig):
// the certificate and its key go together. The files are read by
// httpClient.
func (st *settings) readTLS(cfg core.Config) []core.Diagnostic {
	t, err := tlsconfig.FromConfig(cfg)
	st.tls = t
	if err != nil {
		_, msg, _ := strings.Cut(err.Error(), ": ")
		return []core.Diagnostic{core.DiagError(keyOr(cfg, tlsconfig.ClientCertField, tlsconfig.ClientKeyField), "%s", msg)}
	}
	return nil
}

// httpClient returns the client of every request the plugin makes for a
// profile (login, refresh, token, discovery, JWKS): s.HTTP, or the default
// client, with the profile's TLS settings: the roots of ca_file trusted
// besides the system's (or the client's own), the client certificate
// client_cert with client_key presented. One client is kept per setting,
// so its connections are reused. Errors are KindConfig naming the key.
func (s *Scheme) httpClient(st *settings) (*http.Client, error) {
	base := s.client()
	if st.tls.IsZero() {
		return base, nil
	}
	sum := sha256.Sum256([]byte(st.tls.CAFile + "\x00" + st.tls.ClientCert + "\x00" + st.tls.ClientKey))
	id := hex.EncodeToString(sum[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.tlsClients[id]; ok {
		return c, nil
	}
	l, err := st.tls.Load()
	if err != nil {
		return nil, err
	}
	tr, err := l.Transport(base.Transport)
	if err != nil {
		return nil, err
	}
	c := *base
	c.Transport = tr
	if s.tlsClients == nil {
		s.tlsClients = map[string]*http.Client{}
	}
	s.tlsClients[id] = &c
	return &c, nil
}
