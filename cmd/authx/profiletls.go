package main

import (
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/tlsconfig"
)

// A profile's TLS settings (ca_file, client_cert, client_key; see
// session.TLS) apply to every request authx makes for it: `authx request`
// and the wrappers' probe through profileTransport, curl and wget through
// the PEM files toolTLS hands them on inherited descriptors. The private
// key never reaches a command line or a file system: it is an anonymous
// memory file on Linux, a pipe elsewhere.

// profileTransport is baseTransport with the TLS settings l (nil: none).
func profileTransport(timeout time.Duration, l *tlsconfig.Loaded) http.RoundTripper {
	t := baseTransport(timeout)
	if l != nil {
		t.TLSClientConfig = l.Config(t.TLSClientConfig)
	}
	return t
}

// toolTLS hands a profile's TLS material to a wrapped tool as /dev/fd
// paths of inherited descriptors.
type toolTLS struct {
	ca, cert, key string     // the tool's paths; "" when not set
	files         []*os.File // the child's descriptors, in order from the first given
}

// newToolTLS opens one descriptor per PEM of l, to be the child's
// descriptors fd, fd+1, ...; nil l gives none.
func newToolTLS(l *tlsconfig.Loaded, fd int) (*toolTLS, error) {
	t := &toolTLS{}
	if l == nil {
		return t, nil
	}
	for _, p := range []struct {
		path    *string
		name    string
		content []byte
	}{{&t.ca, "authx-ca", l.CAPEM}, {&t.cert, "authx-cert", l.CertPEM}, {&t.key, "authx-key", l.KeyPEM}} {
		if p.content == nil {
			continue
		}
		f, err := secretFile(p.name, p.content)
		if err != nil {
			t.Close()
			return nil, core.Wrap(core.KindInternal, err, "handing the TLS settings to the command")
		}
		*p.path = "/dev/fd/" + strconv.Itoa(fd+len(t.files))
		t.files = append(t.files, f)
	}
	return t, nil
}

// Close closes authx's copies of the descriptors.
func (t *toolTLS) Close() {
	for _, f := range t.files {
		f.Close()
	}
}

// pipeFile returns the read end of a pipe that a goroutine fills with
// content: the child reads it once, and nothing is written to a file
// system. The goroutine ends when the content is read or the read end is
// closed everywhere.
func pipeFile(content []byte) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go func() {
		w.Write(content)
		w.Close()
	}()
	return r, nil
}
