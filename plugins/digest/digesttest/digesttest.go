// Package digesttest runs the real Digest servers of Debian for tests:
// Apache httpd with mod_auth_digest (MD5, AuthDigestNcCheck On) and
// lighttpd with mod_auth (SHA-256, MD5). Each server runs in the
// foreground as a child of the test, on a free loopback port, with its
// configuration, password file, documents, pid file and logs in
// t.TempDir(), and is stopped when the test ends.
//
// Without the server's executable a test skips, saying why, unless
// AUTHX_REQUIRE_IDPTEST=1 (CI, where .ci/run installs apache2,
// apache2-utils and lighttpd): then it fails.
package digesttest

import (
	"bufio"
	"crypto/md5" //nolint:gosec // the htdigest file format
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The executables and modules, as Debian installs them.
const (
	apacheBin   = "/usr/sbin/apache2"
	apacheMods  = "/usr/lib/apache2/modules"
	lighttpdBin = "/usr/sbin/lighttpd"
)

// Server is a running Digest server.
type Server struct {
	// URL is the server's origin, http://127.0.0.1:PORT, without a
	// trailing slash. Under /private/ it asks for Digest authentication and
	// serves index.txt ("private\n"); /public.txt ("public\n") needs none,
	// and /echo-auth/ has no authentication either, so that a test sees
	// whether a credential was sent there (the access log has the
	// Authorization header of every request).
	URL string
	// Realm, User and Password are the account the server accepts.
	Realm, User, Password string
	// Dir holds the configuration, the password file and the logs.
	Dir string

	accessLog, errorLog string
	cmd                 *exec.Cmd
	done                chan struct{}
}

// Options configure a server; zero values have defaults.
type Options struct {
	// Realm defaults to "authx digest test", User to "alice", Password to
	// "s3cret-Digest-pw".
	Realm, User, Password string
	// NonceLifetime is Apache's AuthDigestNonceLifetime in seconds; 0
	// keeps Apache's default (300).
	NonceLifetime int
	// Algorithm is lighttpd's "algorithm": "SHA-256" (default), "MD5" or
	// "MD5|SHA-256" (two challenges).
	Algorithm string
	// Domain is Apache's AuthDigestDomain; empty means "/private/".
	Domain string
	// Userhash makes lighttpd ask for userhash=true (RFC 7616 §3.4.4).
	Userhash bool
}

func (o *Options) defaults() {
	if o.Realm == "" {
		o.Realm = "authx digest test"
	}
	if o.User == "" {
		o.User = "alice"
	}
	if o.Password == "" {
		o.Password = "s3cret-Digest-pw"
	}
	if o.Domain == "" {
		o.Domain = "/private/"
	}
	if o.Algorithm == "" {
		o.Algorithm = "SHA-256"
	}
}

// need skips t (or fails it under AUTHX_REQUIRE_IDPTEST=1) when bin is
// not installed.
func need(t testing.TB, bin, pkg string) {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
			t.Fatalf("%s is missing (Debian package %s) and AUTHX_REQUIRE_IDPTEST=1", bin, pkg)
		}
		t.Skipf("%s is not installed (Debian package %s)", bin, pkg)
	}
}

// workDir makes the server's directory with documents. When the test runs
// as root, Apache serves as nobody: the directory and the temp directory
// above it are made readable for it.
func workDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"htdocs/private", "htdocs/echo-auth"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(dir, "htdocs/private/index.txt"), "private\n")
	write(t, filepath.Join(dir, "htdocs/echo-auth/index.txt"), "echo\n")
	write(t, filepath.Join(dir, "htdocs/public.txt"), "public\n")
	write(t, filepath.Join(dir, "htdocs", readyPath), "ready\n")
	if os.Geteuid() == 0 {
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// htdigestLine is a line of an htdigest file: user:realm:H(user:realm:password).
func htdigestLine(user, realm, password, algorithm string) string {
	return user + ":" + realm + ":" + hexHash(algorithm, user+":"+realm+":"+password) + "\n"
}

// hexHash is the hex digest of data with algorithm (SHA-256, else MD5).
func hexHash(algorithm, data string) string {
	if algorithm == "SHA-256" {
		s := sha256.Sum256([]byte(data))
		return hex.EncodeToString(s[:])
	}
	s := md5.Sum([]byte(data)) //nolint:gosec
	return hex.EncodeToString(s[:])
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Apache starts Apache httpd with mod_auth_digest: MD5, qop=auth,
// AuthDigestNcCheck On (with its shared memory, without which Apache
// skips the check), AuthDigestDomain o.Domain over /private/.
func Apache(t testing.TB, o Options) *Server {
	t.Helper()
	need(t, apacheBin, "apache2")
	o.defaults()
	dir := workDir(t)
	s := &Server{Realm: o.Realm, User: o.User, Password: o.Password, Dir: dir,
		accessLog: filepath.Join(dir, "access.log"), errorLog: filepath.Join(dir, "error.log")}
	write(t, filepath.Join(dir, "users.digest"), htdigestLine(o.User, o.Realm, o.Password, "MD5"))
	port := freePort(t)
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	var conf strings.Builder
	fmt.Fprintf(&conf, "ServerRoot %q\nServerName 127.0.0.1\nListen 127.0.0.1:%d\n", dir, port)
	if os.Geteuid() == 0 {
		conf.WriteString("User nobody\nGroup nogroup\n")
	}
	for _, m := range []string{"mpm_prefork", "authn_core", "authn_file", "authz_core", "authz_user", "auth_digest", "dir"} {
		fmt.Fprintf(&conf, "LoadModule %s_module %s/mod_%s.so\n", m, apacheMods, m)
	}
	fmt.Fprintf(&conf, `PidFile %q
Mutex file:%s default
ErrorLog %q
LogLevel info auth_digest:debug
LogFormat "%%>s %%m %%U%%q \"%%{Authorization}i\"" authx
CustomLog %q authx
DocumentRoot %q
DirectoryIndex index.txt
StartServers 2
AuthDigestShmemSize 256K
<Location /private/>
  AuthType Digest
  AuthName %q
  AuthDigestDomain %s
  AuthDigestProvider file
  AuthUserFile %q
  AuthDigestNcCheck On
`, filepath.Join(dir, "httpd.pid"), dir, s.errorLog, s.accessLog, filepath.Join(dir, "htdocs"), o.Realm, o.Domain, filepath.Join(dir, "users.digest"))
	if o.NonceLifetime > 0 {
		fmt.Fprintf(&conf, "  AuthDigestNonceLifetime %d\n", o.NonceLifetime)
	}
	conf.WriteString("  Require valid-user\n</Location>\n")
	confPath := filepath.Join(dir, "httpd.conf")
	write(t, confPath, conf.String())
	s.start(t, exec.Command(apacheBin, "-f", confPath, "-DFOREGROUND"))
	return s
}

// Lighttpd starts lighttpd with mod_auth's htdigest backend over
// /private/, algorithm o.Algorithm (SHA-256 by default).
func Lighttpd(t testing.TB, o Options) *Server {
	t.Helper()
	need(t, lighttpdBin, "lighttpd")
	o.defaults()
	dir := workDir(t)
	s := &Server{Realm: o.Realm, User: o.User, Password: o.Password, Dir: dir,
		accessLog: filepath.Join(dir, "access.log"), errorLog: filepath.Join(dir, "error.log")}
	var users string
	for _, alg := range strings.Split(o.Algorithm, "|") {
		line := htdigestLine(o.User, o.Realm, o.Password, alg)
		if o.Userhash { // lighttpd's htdigest lines may end in :userhash, H(user:realm)
			line = strings.TrimSuffix(line, "\n") + ":" + hexHash(alg, o.User+":"+o.Realm) + "\n"
		}
		users += line
	}
	write(t, filepath.Join(dir, "users.digest"), users)
	port := freePort(t)
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	conf := fmt.Sprintf(`server.document-root = %q
server.bind = "127.0.0.1"
server.port = %d
server.pid-file = %q
server.errorlog = %q
server.modules = ("mod_auth", "mod_authn_file", "mod_accesslog")
index-file.names = ("index.txt")
accesslog.filename = %q
accesslog.format = "%%>s %%m %%U%%q \"%%{Authorization}i\""
auth.backend = "htdigest"
auth.backend.htdigest.userfile = %q
auth.require = ( "/private/" => ( "method" => "digest", "realm" => %q, "require" => "valid-user", "algorithm" => %q, "userhash" => %q ) )
`, filepath.Join(dir, "htdocs"), port, filepath.Join(dir, "lighttpd.pid"), s.errorLog, s.accessLog,
		filepath.Join(dir, "users.digest"), o.Realm, o.Algorithm, map[bool]string{true: "enable", false: "disable"}[o.Userhash])
	confPath := filepath.Join(dir, "lighttpd.conf")
	write(t, confPath, conf)
	s.start(t, exec.Command(lighttpdBin, "-D", "-f", confPath))
	return s
}

// readyPath is what start asks for to see the server up; Requests leaves
// it out.
const readyPath = "/ready.txt"

// start runs cmd and waits until the server answers on its port.
func (s *Server) start(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	out, err := os.Create(filepath.Join(s.Dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	detach(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.done:
			b, _ := os.ReadFile(out.Name())
			e, _ := os.ReadFile(s.errorLog)
			t.Fatalf("%s exited at start: %s %s", filepath.Base(cmd.Path), b, e)
		default:
		}
		resp, err := http.Get(s.URL + readyPath)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer at %s: %v", filepath.Base(cmd.Path), s.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart stops the server and starts it again with the same
// configuration and port: Apache forgets its nonces (a new secret) and its
// nonce counts.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	old := s.cmd
	s.start(t, exec.Command(old.Path, old.Args[1:]...))
}

// Stop stops the server (SIGTERM to its process group, then SIGKILL) and
// waits for it, so its logs are complete: lighttpd writes its access log
// when it stops. It may be called more than once.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	terminate(s.cmd, false)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		terminate(s.cmd, true)
		<-s.done
	}
}

// Request is one line of the access log.
type Request struct {
	Status int
	Method string
	URI    string
	// Authorization is the request's Authorization header, "" without one.
	Authorization string
}

// Param returns the parameter name of the request's Digest Authorization
// header (nc, nonce, username, ...), or "".
func (r Request) Param(name string) string {
	m := regexp.MustCompile(`(?:^|[ ,])` + regexp.QuoteMeta(name) + `=("(?:[^"\\]|\\.)*"|[^, ]*)`).FindStringSubmatch(r.Authorization)
	if m == nil {
		return ""
	}
	return strings.Trim(m[1], `"`)
}

var logLine = regexp.MustCompile(`^(\d{3}) (\S+) (\S+) "(.*)"$`)

// Requests reads the access log, without start's requests. For lighttpd, Stop the server first: it
// writes the log when it stops.
func (s *Server) Requests(t testing.TB) []Request {
	t.Helper()
	f, err := os.Open(s.accessLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Request
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := logLine.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("access log line %q", sc.Text())
		}
		status, _ := strconv.Atoi(m[1])
		auth := strings.ReplaceAll(m[4], `\"`, `"`)
		if auth == "-" {
			auth = ""
		}
		if m[3] == readyPath {
			continue
		}
		out = append(out, Request{Status: status, Method: m[2], URI: m[3], Authorization: auth})
	}
	return out
}

// ErrorLog returns the server's error log.
func (s *Server) ErrorLog(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(s.errorLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}
