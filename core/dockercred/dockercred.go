// Package dockercred speaks the docker credential helper protocol
// (github.com/docker/docker-credential-helpers), which docker, skopeo,
// podman, buildah and crane use to ask a `docker-credential-NAME` program
// for a registry's credentials: the action is the program's one argument,
// its input comes on stdin (a server name for get and erase, a JSON
// object for store), its answer goes to stdout, and an error is one line
// on stdout with a non-zero exit status. The package parses and formats;
// it does no I/O beyond the reader and writer it is given.
package dockercred

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// The protocol's fixed messages: clients compare a helper's output with
// them (a miss makes them go on without credentials).
const (
	MsgNotFound         = "credentials not found in native keychain"
	MsgMissingServerURL = "no credentials server URL"
	MsgMissingUsername  = "no credentials username"
)

// IdentityTokenUser is the Username that says Secret is an identity token
// (an OAuth2 refresh token for the registry's token server), not a
// password.
const IdentityTokenUser = "<token>"

// MaxInput bounds what a helper reads on stdin.
const MaxInput = 64 << 10

// MaxServer bounds a server name.
const MaxServer = 2048

// Credentials is the protocol's JSON object, as get writes it and store
// reads it.
type Credentials struct {
	ServerURL string
	Username  string
	Secret    string
}

// Error is an error whose text a client compares with the protocol's
// messages.
type Error string

func (e Error) Error() string { return string(e) }

// ErrNotFound is the miss.
const ErrNotFound = Error(MsgNotFound)

// readInput reads all of r, at most MaxInput bytes.
func readInput(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	if len(data) > MaxInput {
		return nil, fmt.Errorf("input larger than %d KiB", MaxInput>>10)
	}
	return data, nil
}

// ReadServer reads the server name of get or erase: the whole input,
// trimmed of surrounding white space. It must be a registry host
// (HOST[:PORT], optionally with a path) or an http(s) URL; see URLs.
func ReadServer(r io.Reader) (string, error) {
	data, err := readInput(r)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "", Error(MsgMissingServerURL)
	}
	if _, err := URLs(s); err != nil {
		return "", err
	}
	return s, nil
}

// ReadCredentials reads store's input: one JSON object with a ServerURL
// and a Username.
func ReadCredentials(r io.Reader) (Credentials, error) {
	data, err := readInput(r)
	if err != nil {
		return Credentials{}, err
	}
	var c Credentials
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&c); err != nil {
		return Credentials{}, errors.New("the input is not a credentials JSON object")
	}
	if _, err := d.Token(); err != io.EOF {
		return Credentials{}, errors.New("the input is not a credentials JSON object (data after it)")
	}
	if c.ServerURL == "" {
		return Credentials{}, Error(MsgMissingServerURL)
	}
	if c.Username == "" {
		return Credentials{}, Error(MsgMissingUsername)
	}
	return c, nil
}

// WriteCredentials writes get's answer, one line of JSON. It refuses
// credentials a client could not use: an empty server, user or secret, a
// control character or invalid UTF-8 anywhere, a colon in the user name (Basic
// credentials could not carry it).
func WriteCredentials(w io.Writer, c Credentials) error {
	switch {
	case c.ServerURL == "":
		return Error(MsgMissingServerURL)
	case c.Username == "":
		return Error(MsgMissingUsername)
	case c.Secret == "":
		return errors.New("the secret is empty")
	case strings.Contains(c.Username, ":"):
		return errors.New("the user name holds a colon")
	}
	for _, f := range [...]struct{ name, v string }{{"server", c.ServerURL}, {"user name", c.Username}, {"secret", c.Secret}} {
		if i := strings.IndexFunc(f.v, isControl); i >= 0 {
			return fmt.Errorf("the %s holds a control character (at byte %d)", f.name, i)
		}
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("the %s is not UTF-8", f.name)
		}
	}
	return writeJSON(w, c)
}

// WriteList writes list's answer: server → user name.
func WriteList(w io.Writer, servers map[string]string) error {
	if servers == nil {
		servers = map[string]string{}
	}
	return writeJSON(w, servers)
}

func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }

// URLs returns the URLs a server name stands for, in the order to look
// them up in the configuration (match prefixes):
//
//   - an http(s) URL ("https://index.docker.io/v1/") stands for itself;
//   - a registry host ("registry.example.com", "127.0.0.1:5000") for its
//     API root over https, "https://HOST/v2/"; a path after the host
//     ("quay.io/org") is a repository namespace: "https://quay.io/v2/org/";
//   - a loopback host (localhost, 127.0.0.0/8, ::1), which clients may
//     reach over plain http, stands for the http URL too, looked up after
//     the https one.
//
// A name with user info, a query, a fragment, white space, a control
// character, a percent sign, a dot segment or an empty host is refused.
func URLs(server string) ([]string, error) {
	if len(server) > MaxServer {
		return nil, fmt.Errorf("server name longer than %d bytes", MaxServer)
	}
	if !utf8.ValidString(server) || strings.IndexFunc(server, func(r rune) bool { return isControl(r) || r == ' ' || r == '\\' || r == '%' }) >= 0 {
		return nil, errors.New("server name holds a space, a control character, a backslash or a percent sign")
	}
	bare := !strings.Contains(server, "://")
	raw := server
	if bare {
		raw = "https://" + server
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("server name is not a registry host or URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("server URL scheme %q: expected https or http", u.Scheme)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, errors.New("server name holds user info, a query or a fragment")
	}
	host := u.Hostname()
	if host == "" || strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("server name has an empty host or port")
	}
	if p := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/"); p != "" {
		for _, s := range strings.Split(p, "/") {
			if s == "" || s == "." || s == ".." {
				return nil, errors.New("server name's path has an empty or dot segment")
			}
		}
	}
	path := u.Path
	if bare {
		path = "/v2/"
		if p := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/"); p != "" {
			path += p + "/"
		}
	} else if !strings.HasSuffix(path, "/") { // a server URL names a directory: https://index.docker.io/v1 is …/v1/
		path += "/"
	}
	out := []string{u.Scheme + "://" + strings.ToLower(u.Host) + path}
	if bare && loopback(host) {
		out = append(out, "http://"+strings.ToLower(u.Host)+path)
	}
	return out, nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// FromBasic returns the user and password of an Authorization header
// value "Basic base64(user:password)"; ok is false for anything else.
func FromBasic(value string) (user, password string, ok bool) {
	scheme, b64, found := strings.Cut(value, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}
