//go:build unix

package snapshot

import "golang.org/x/sys/unix"

// Stat returns the state of the file at path (following links); ok is
// false when it cannot be stat'ed.
func Stat(path string) (id FileID, ok bool) {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return FileID{}, false
	}
	return FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(),
		Mode: uint32(st.Mode), UID: st.Uid}, true
}

// regular reports whether the file is a regular file (not a pipe, a
// device or a directory, whose stat says nothing of what a read gives).
func (id FileID) regular() bool { return id.Mode&unix.S_IFMT == unix.S_IFREG }
