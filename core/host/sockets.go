package host

import (
	"bytes"
	"github.com/authx/authx/core/pluginproc"
	"os"
	"path/filepath"
	"strconv"
)

// socketMarker is the file authx writes into each plugin socket directory
// go-plugin makes (TMPDIR/plugin-dir*), holding its own process id, so that
// a later authx can tell its stale directories from live ones and from
// other go-plugin programs'.
const socketMarker = pluginproc.SocketMarker

// markSocketDir records this process as the owner of a socket directory;
// "" (TCP, on Windows) has none.
func markSocketDir(dir string) error { return pluginproc.MarkSocketDir(dir) }

// removeStaleSocketDirs removes the plugin socket directories under base
// that an authx killed before it could clean up left behind: directories
// (not symbolic links) owned by this user whose marker names a process that
// no longer runs. Directories without the marker belong to other programs
// and are left alone. It runs when a plugin is about to start, never on
// the cached path.
func removeStaleSocketDirs(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "plugin-dir*"))
	for _, dir := range dirs {
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() || !ownedByMe(fi) {
			continue
		}
		pid, ok := readMarker(filepath.Join(dir, socketMarker))
		if ok && pid != os.Getpid() && !processRuns(pid) {
			os.RemoveAll(dir)
		}
	}
}

// readMarker reads a socket directory's marker: a process id, at most a
// few bytes, in a regular file.
func readMarker(path string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	buf := make([]byte, 24)
	n, _ := f.Read(buf)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	return pid, err == nil && pid > 0
}
