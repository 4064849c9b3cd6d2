package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// DefaultTimeout bounds one exchange with the agent when the context sets
// no deadline: long enough for the agent to refresh or log in (which
// call_timeout bounds on its side), short enough that a wedged agent does
// not hang a script for ever.
const DefaultTimeout = 90 * time.Second

// ErrNoAgent says that no agent listens at the socket (none, or a stale
// socket file): the client goes on without one, silently.
var ErrNoAgent = errors.New("no authx agent runs")

// UntrustedError says that the socket is not one this user's agent made:
// another user's, or in a directory others can write to. The client
// refuses it, warns, and goes on without the agent.
type UntrustedError struct{ Reason string }

func (e *UntrustedError) Error() string { return "not using the authx agent: " + e.Reason }

// IdentityDigest is how a Request names a profile's identity
// (config.Profile.Identity): its SHA-256 in hex.
func IdentityDigest(identity []byte) string {
	sum := sha256.Sum256(identity)
	return hex.EncodeToString(sum[:])
}

// DefaultSocket returns where this user's agent listens:
// $XDG_RUNTIME_DIR/authx/agent.sock, else agent.sock in a directory
// authx-agent-UID of the temporary directory.
func DefaultSocket(getenv func(string) string) string {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "authx", "agent.sock")
	}
	return filepath.Join(os.TempDir(), "authx-agent-"+strconv.Itoa(os.Geteuid()), "agent.sock")
}

// CheckDir makes sure dir is a directory (not a link) owned by this user
// that no one else can write to; with private, that no one else can enter
// either (0700).
func CheckDir(dir string, private bool) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	mask := fs.FileMode(0o022)
	if private {
		mask = 0o077
	}
	switch uid, ok := owner(fi); {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case ok && uid != os.Geteuid():
		return fmt.Errorf("%s belongs to uid %d, not to this user", dir, uid)
	case fi.Mode().Perm()&mask != 0:
		return fmt.Errorf("%s has mode %04o: others may write to it", dir, fi.Mode().Perm())
	}
	return nil
}

// checkSocket makes sure path is a socket of this user in a directory that
// others cannot write to.
func checkSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNoAgent
	}
	if err != nil {
		return &UntrustedError{err.Error()}
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return &UntrustedError{path + " is not a socket"}
	}
	if uid, ok := owner(fi); ok && uid != os.Geteuid() {
		return &UntrustedError{fmt.Sprintf("%s belongs to uid %d", path, uid)}
	}
	if err := CheckDir(filepath.Dir(path), false); err != nil {
		return &UntrustedError{err.Error()}
	}
	return nil
}

// Client asks the agent listening at Socket. Its zero value with Socket
// set is ready; it is safe for concurrent use (each Do is a connection).
type Client struct {
	Socket string
	// PeerUID returns the uid of the process at the other end of a
	// connection; nil means PeerUID (the operating system's word). Tests
	// inject another.
	PeerUID func(syscall.Conn) (int, error)
}

// Do sends req and returns the agent's response, within the context's
// deadline or DefaultTimeout. An error is ErrNoAgent, an *UntrustedError,
// or a failed exchange (a timeout, a malformed answer); an error the agent
// reports comes back in Response.Error.
//
// The exchange uses blocking I/O on the socket, bounded by socket
// timeouts, rather than the runtime's network poller: for the front, which
// makes this one exchange in its life, that saves setting the poller up and
// waking threads, a good part of the round trip's cost.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	if err := checkSocket(c.Socket); err != nil {
		return nil, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	conn, err := dial(c.Socket, deadline)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoAgent
		}
		return nil, fmt.Errorf("connecting to the authx agent: %w", err)
	}
	defer conn.Close()
	peer := c.PeerUID
	if peer == nil {
		peer = PeerUID
	}
	if uid, err := peer(conn); err != nil {
		return nil, &UntrustedError{"cannot check who listens at " + c.Socket + ": " + err.Error()}
	} else if uid != os.Geteuid() {
		return nil, &UntrustedError{fmt.Sprintf("the process listening at %s runs as uid %d", c.Socket, uid)}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := Write(conn, req); err != nil {
		return nil, fmt.Errorf("talking to the authx agent: %w", err)
	}
	data, err := ReadFrame(conn)
	if err != nil {
		return nil, fmt.Errorf("reading the authx agent's answer: %w", err)
	}
	return DecodeResponse(data)
}
