// Package pluginproc holds how authx finds a plugin executable and what
// process it starts from it: the search path, the file name, the
// environment (an allow-list and go-plugin's handshake variables) and the
// process attributes. Both the plugin host (core/host) and the front
// (cmd/authx/front), which starts a plugin ahead of authx-cli on a cache
// miss (see Handover), use it, so the two start the very same process.
// It links no gRPC, go-plugin or protobuf, and no net/http.
package pluginproc

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// BinaryPrefix is the file name prefix of every plugin executable.
const BinaryPrefix = "authx-plugin-"

// The go-plugin handshake: the magic cookie (it only keeps a user from
// running a plugin by hand by mistake; it is no security measure), the
// protocol major version, and the port range go-plugin announces (unused
// over Unix sockets, but part of the environment).
const (
	MagicCookieKey   = "AUTHX_PLUGIN"
	MagicCookieValue = "6c1fa2b1-authx-plugin-v1"
	ProtocolMajor    = 1
	minPort, maxPort = 10000, 25000 // go-plugin's defaults
	// SocketDirEnv is the variable naming the directory in which the
	// plugin creates its socket (go-plugin's EnvUnixSocketDir).
	SocketDirEnv = "PLUGIN_UNIX_SOCKET_DIR"
)

// LogLevelEnv is the variable through which the host tells a plugin its log
// level (the SDK reads it).
const LogLevelEnv = "AUTHX_LOG_LEVEL"

// ValidScheme reports whether s may name a scheme (and so a file):
// lowercase letters, digits and '-', not starting with '-'.
func ValidScheme(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// BinaryName is the file name of the plugin for scheme.
func BinaryName(scheme string) string {
	if runtime.GOOS == "windows" {
		return BinaryPrefix + scheme + ".exe"
	}
	return BinaryPrefix + scheme
}

// DefaultSearchPath returns the plugin directories for an environment:
// AUTHX_PLUGIN_PATH (list separated by the OS path separator),
// $XDG_DATA_HOME/authx/plugins (default ~/.local/share), and the directory of
// the running executable.
func DefaultSearchPath(getenv func(string) string) []string {
	exeDir := ""
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		exeDir = filepath.Dir(exe)
	}
	return SearchPath(getenv, exeDir)
}

// SearchPath is DefaultSearchPath for a process whose executable lies in
// exeDir ("" for none): what authx-cli will search, for the front that
// is about to exec it.
func SearchPath(getenv func(string) string, exeDir string) []string {
	var dirs []string
	for _, d := range filepath.SplitList(getenv("AUTHX_PLUGIN_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	data := getenv("XDG_DATA_HOME")
	if data == "" {
		if home := getenv("HOME"); home != "" {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		dirs = append(dirs, filepath.Join(data, "authx", "plugins"))
	}
	if exeDir != "" {
		dirs = append(dirs, exeDir)
	}
	return dirs
}

// Find returns the first executable file named for scheme in dirs.
func Find(dirs []string, scheme string) (string, bool) {
	name := BinaryName(scheme)
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if CheckExecutable(p) == nil {
			return p, true
		}
	}
	return "", false
}

// CheckExecutable returns an error unless p is an executable file (or a
// symbolic link to one).
func CheckExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory", p)
	}
	if runtime.GOOS != "windows" && fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", p)
	}
	return nil
}

// IsNative reports whether the file at path is not a script: a "#!"
// script's process image is its interpreter.
func IsNative(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := io.ReadFull(f, head)
	return string(head[:n]) != "#!"
}

// Env is the environment a plugin gets before go-plugin's variables: its
// log level, then the variables of environ on a short allow-list, never
// the user's whole environment, which may hold the very secrets a profile
// references (the host resolves those and sends only what the plugin
// needs).
func Env(level string, environ []string) []string {
	env := []string{LogLevelEnv + "=" + level}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if allowedEnv(name) {
			env = append(env, kv)
		}
	}
	return env
}

// allowedNames is the allow-list (upper case: a proxy's lower-case
// http_proxy passes too), documented in docs/plugin-lifecycle.md and
// docs/plugin-protocol.md.
var allowedNames = map[string]bool{
	"HOME": true, "USER": true, "LOGNAME": true, "PATH": true, "TMPDIR": true, "TZ": true, "LANG": true, "NETRC": true,
	"SYSTEMROOT": true, "USERPROFILE": true, "APPDATA": true, "LOCALAPPDATA": true,
	"XDG_CONFIG_HOME": true, "XDG_CACHE_HOME": true, "XDG_DATA_HOME": true, "XDG_RUNTIME_DIR": true,
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "NO_PROXY": true, "ALL_PROXY": true,
	// Where language runtimes find the certificate authorities to trust (a
	// corporate CA): file and directory names, never a credential. OpenSSL,
	// Go, Python's ssl and Ruby: SSL_CERT_FILE, SSL_CERT_DIR; Node:
	// NODE_EXTRA_CA_CERTS, NODE_USE_SYSTEM_CA; Python requests:
	// REQUESTS_CA_BUNDLE; curl and libcurl bindings: CURL_CA_BUNDLE;
	// gRPC's C core (Python, Ruby): GRPC_DEFAULT_SSL_ROOTS_FILE_PATH.
	"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "NODE_EXTRA_CA_CERTS": true, "NODE_USE_SYSTEM_CA": true,
	"REQUESTS_CA_BUNDLE": true, "CURL_CA_BUNDLE": true, "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": true,
}

func allowedEnv(name string) bool {
	return allowedNames[strings.ToUpper(name)] || strings.HasPrefix(name, "LC_")
}

// HandshakeEnv is what go-plugin's client adds to a plugin's environment
// over Unix sockets, in its order, for a socket directory dir.
func HandshakeEnv(dir string) []string {
	return []string{
		MagicCookieKey + "=" + MagicCookieValue,
		"PLUGIN_MIN_PORT=" + strconv.Itoa(minPort),
		"PLUGIN_MAX_PORT=" + strconv.Itoa(maxPort),
		"PLUGIN_PROTOCOL_VERSIONS=" + strconv.Itoa(ProtocolMajor),
		SocketDirEnv + "=" + dir,
	}
}

// MaxSocketBase bounds the directory under which go-plugin makes the
// plugin's socket directory: a Unix socket path holds at most 104 (macOS) or
// 108 (Linux) bytes, and go-plugin adds about 40 ("/plugin-dir123456789/
// plugin123456789").
const MaxSocketBase = 60

// SocketBase returns where plugin socket directories go: the temporary
// directory tmp, unless its path is too long for a socket (a deep
// $TMPDIR), then the user's runtime directory, else /tmp.
func SocketBase(tmp, runtimeDir string) string {
	for _, d := range []string{tmp, runtimeDir, "/tmp"} {
		if d != "" && len(d) <= MaxSocketBase {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				return d
			}
		}
	}
	return tmp
}

// SocketMarker is the file authx writes into each plugin socket directory
// (SocketBase/plugin-dir*), holding its own process id, so that a later
// authx can tell its stale directories from live ones and from other
// go-plugin programs'.
const SocketMarker = "authx-host.pid"

// SocketDirPrefix is the name prefix of go-plugin's socket directories.
const SocketDirPrefix = "plugin-dir"

// MarkSocketDir records this process as the owner of a socket directory;
// "" (TCP, on Windows) has none.
func MarkSocketDir(dir string) error {
	if dir == "" {
		return nil
	}
	return os.WriteFile(filepath.Join(dir, SocketMarker), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
}

// Command returns the command that runs the plugin at path with env:
// stdin from /dev/null (a plugin must never read the user's input), on
// Unix the leader of a process group of its own (see KillGroup), on Linux
// killed when the thread that starts it dies.
func Command(path string, env []string) *exec.Cmd {
	cmd := exec.Command(path)
	cmd.Env = env
	setParentDeathSignal(cmd)
	setProcessGroup(cmd)
	return cmd
}
