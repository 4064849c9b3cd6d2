package redisvault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/sealed"
)

// Resolve returns the value of a secret reference (core/secret's
// Resolver.Resolve).
type Resolve func(ctx context.Context, ref string) (string, error)

// FromConfig returns the Vault of the shared store name of the config
// (stores: NAME): its key and keys_old resolved and parsed, its passwords
// resolved, its tls: files read. Its errors
// are one line of kind config naming the field, never a resolved value. It
// does not connect.
func FromConfig(ctx context.Context, name string, st config.SharedStore, resolve Resolve) (*Vault, error) {
	field := func(f string) string { return "stores." + name + "." + f }
	if st.Type != config.StoreTypeRedis {
		return nil, core.Errorf(core.KindConfig, "%s: %q: expected redis", field("type"), st.Type)
	}
	key := func(f, ref string) ([]byte, error) {
		v, err := resolve(ctx, ref)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "%s: %s", f, redact.OneLine(err.Error()))
		}
		k, err := sealed.ParseKey(v)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "%s: %s", f, err)
		}
		return k, nil
	}
	current, err := key(field("key"), st.Key)
	if err != nil {
		return nil, err
	}
	var old [][]byte
	for i, ref := range st.KeysOld {
		k, err := key(fmt.Sprintf("%s[%d]", field("keys_old"), i), ref)
		if err != nil {
			return nil, err
		}
		old = append(old, k)
	}
	box, err := sealed.New(current, old...)
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "%s: %s", field("key"), err)
	}
	o := Options{URL: st.URL, Username: st.Username, Box: box, Timeout: st.Timeout, Prefix: st.Prefix}
	if o.Password, err = password(ctx, field("password"), st.Password, resolve); err != nil {
		return nil, err
	}
	if sen := st.Sentinel; sen != nil {
		o.Sentinel = &Sentinel{Master: sen.Master, Addrs: sen.Addrs, Username: sen.Username}
		if o.Sentinel.Password, err = password(ctx, field("sentinel.password"), sen.Password, resolve); err != nil {
			return nil, err
		}
	}
	if st.Cluster != nil {
		o.Cluster = st.Cluster.Addrs
	}
	if st.TLS != nil {
		if o.TLS, err = loadTLS(field("tls"), *st.TLS); err != nil {
			return nil, err
		}
	}
	v, err := New(o)
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "stores.%s: %s", name, err)
	}
	return v, nil
}

// password resolves the secret reference ref of field ("": none). Its
// errors never hold the value.
func password(ctx context.Context, field, ref string, resolve Resolve) (string, error) {
	if ref == "" {
		return "", nil
	}
	v, err := resolve(ctx, ref)
	switch {
	case err != nil:
		return "", core.Errorf(core.KindConfig, "%s: %s", field, redact.OneLine(err.Error()))
	case v == "":
		return "", core.Errorf(core.KindConfig, "%s: %s is empty", field, redact.OneLine(ref))
	}
	return v, nil
}

// MaxPEMFile bounds what is read of each file of tls:.
const MaxPEMFile = 1 << 20

// loadTLS reads the files of a store's tls: (field) into a TLS
// configuration: ca_file's authorities instead of the system's, the
// client certificate and its key, the server name. Its errors name the
// field and never quote a file's content.
func loadTLS(field string, t config.StoreTLS) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		b, err := readPEMFile(field+".ca_file", t.CAFile)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(b) {
			return nil, core.Errorf(core.KindConfig, "%s.ca_file: %s holds no PEM certificate", field, redact.OneLine(t.CAFile))
		}
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := readPEMFile(field+".cert_file", t.CertFile)
		if err != nil {
			return nil, err
		}
		key, err := readPEMFile(field+".key_file", t.KeyFile)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "%s.cert_file, key_file: not a PEM certificate and its unencrypted private key, or they do not go together", field)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

// readPEMFile reads the regular file at path, at most MaxPEMFile bytes.
func readPEMFile(field, path string) ([]byte, error) {
	fail := func(what string) ([]byte, error) {
		return nil, core.Errorf(core.KindConfig, "%s: %s: %s", field, redact.OneLine(path), what)
	}
	if path == "" {
		return fail("required")
	}
	// Stat first: a named pipe would block the open.
	if fi, err := os.Stat(path); err != nil {
		return fail("cannot read it: " + redact.OneLine(pathError(err).Error()))
	} else if !fi.Mode().IsRegular() {
		return fail("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("cannot read it: " + redact.OneLine(pathError(err).Error()))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxPEMFile+1))
	switch {
	case err != nil:
		return fail("cannot read it: " + redact.OneLine(pathError(err).Error()))
	case len(b) > MaxPEMFile:
		return fail(fmt.Sprintf("larger than %d bytes", MaxPEMFile))
	}
	return b, nil
}

func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
