package pluginproc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HandoverEnv is the variable through which the front hands a plugin it
// started to the authx-cli it execs (see Handover). authx-cli removes it
// from its environment at once: nothing it runs inherits it.
const HandoverEnv = "AUTHX_PLUGIN_HANDOVER"

// A Handover describes a plugin process started ahead of time by the
// process that then exec'd authx-cli: it is authx-cli's child, its stdout
// and stderr pipes are open in authx-cli as inherited descriptors, and it
// creates its socket in SocketDir. The process that receives it adopts
// the plugin when it is exactly the one it would start itself, or kills
// and reaps it (see core/host).
type Handover struct {
	PID            int    // the plugin's process id
	Stdout, Stderr int    // the read ends of its stdout and stderr pipes
	SocketDir      string // the 0700 directory of its socket, marked with SocketMarker
	Path           string // the executable it runs
	// The identity of Path's file when it was started.
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // nanoseconds
}

// maxHandover bounds the variable's length (two paths and nine numbers).
const maxHandover = 8192

// String encodes h for HandoverEnv: "1 PID OUT ERR DEV INO SIZE MTIME
// CTIME", then the socket directory and the path quoted as Go strings.
func (h Handover) String() string {
	return fmt.Sprintf("1 %d %d %d %d %d %d %d %d %s %s", h.PID, h.Stdout, h.Stderr, h.Dev, h.Ino, h.Size, h.Mtime, h.Ctime,
		strconv.Quote(h.SocketDir), strconv.Quote(h.Path))
}

// Encodable reports whether a handover naming a socket directory under
// socketBase and the plugin at path can be encoded and parsed back (UTF-8
// paths, within maxHandover): the front starts no plugin it could not
// hand over.
func Encodable(socketBase, path string) bool {
	return utf8.ValidString(socketBase) && utf8.ValidString(path) &&
		!strings.ContainsRune(socketBase+path, utf8.RuneError) &&
		len(strconv.Quote(socketBase))+len(strconv.Quote(path))+len(SocketDirPrefix)+256 <= maxHandover
}

// ParseHandover decodes a HandoverEnv value, untrusted: every field is
// checked for its range and the paths must be absolute, clean and UTF-8
// without U+FFFD (which strconv.Unquote makes of an invalid byte: three
// bytes for one, so that String might not give them back within
// maxHandover).
func ParseHandover(s string) (Handover, error) {
	var h Handover
	if len(s) > maxHandover {
		return h, errors.New("handover too long")
	}
	f := strings.SplitN(s, " ", 10)
	if len(f) != 10 || f[0] != "1" {
		return h, errors.New("handover: not version 1")
	}
	var n [8]int64
	for i := range n {
		v, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil || v < 0 {
			return h, fmt.Errorf("handover: field %d is no number", i+1)
		}
		n[i] = v
	}
	const maxFD = 1 << 20
	h.PID, h.Stdout, h.Stderr = int(n[0]), int(n[1]), int(n[2])
	h.Dev, h.Ino, h.Size, h.Mtime, h.Ctime = uint64(n[3]), uint64(n[4]), n[5], n[6], n[7]
	switch {
	case n[0] <= 1 || n[0] > 1<<22:
		return h, errors.New("handover: bad pid")
	case n[1] < 3 || n[1] > maxFD || n[2] < 3 || n[2] > maxFD || n[1] == n[2]:
		return h, errors.New("handover: bad descriptors")
	}
	rest := f[9]
	dir, rest, err := quoted(rest)
	if err != nil {
		return h, err
	}
	if !strings.HasPrefix(rest, " ") {
		return h, errors.New("handover: no path")
	}
	path, rest, err := quoted(rest[1:])
	if err != nil {
		return h, err
	}
	if rest != "" {
		return h, errors.New("handover: trailing bytes")
	}
	for _, p := range []string{dir, path} {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p || strings.ContainsRune(p, 0) || !utf8.ValidString(p) || strings.ContainsRune(p, utf8.RuneError) {
			return h, errors.New("handover: a path is not absolute and clean")
		}
	}
	if !strings.HasPrefix(filepath.Base(dir), SocketDirPrefix) {
		return h, errors.New("handover: not a plugin socket directory")
	}
	h.SocketDir, h.Path = dir, path
	return h, nil
}

func quoted(s string) (v, rest string, err error) {
	q, err := strconv.QuotedPrefix(s)
	if err == nil && q[0] == '"' {
		if v, err = strconv.Unquote(q); err == nil {
			return v, s[len(q):], nil
		}
	}
	return "", "", errors.New("handover: bad quoted path")
}
