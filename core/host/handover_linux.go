package host

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/authx/authx/core/pluginproc"
)

// claim returns the plugin h describes when it is a child of this process
// leading its own process group and running the file h names (device and
// inode), and h's descriptors are pipes; nil otherwise. Whenever the
// process is such a child, its pipes are made to close on exec, so that
// no process this one runs inherits them, even when it is not claimed.
// Such a child that has exited already is reaped (and no group
// signalled); one that runs another file is not signalled at all (the
// kernel's parent-death signal ends it with this process). A child cannot
// be reaped but by its parent, so its pid names it until this process
// waits for it.
func claim(h pluginproc.Handover) *adoptedPlugin {
	state, ppid, pgrp, ok := procStat(h.PID)
	if !ok || ppid != os.Getpid() || pgrp != h.PID || !isPipe(h.Stdout) || !isPipe(h.Stderr) {
		return nil
	}
	syscall.CloseOnExec(h.Stdout)
	syscall.CloseOnExec(h.Stderr)
	proc, err := os.FindProcess(h.PID)
	if err != nil {
		return nil
	}
	if state != "Z" && !runs(h) {
		return nil
	}
	for _, fd := range []int{h.Stdout, h.Stderr} {
		syscall.SetNonblock(fd, true) // read through the runtime's poller, as exec.Cmd's pipes are
	}
	a := &adoptedPlugin{h: h, proc: proc, dirOK: ownSocketDir(h.SocketDir),
		stdout: os.NewFile(uintptr(h.Stdout), "plugin stdout"), stderr: os.NewFile(uintptr(h.Stderr), "plugin stderr")}
	if state == "Z" { // exited already: reaped, its pipes closed, nothing signalled
		a.wait()
		return nil
	}
	return a
}

// matches reports whether the plugin runs the file at path, unchanged
// since the front started it, with exactly env.
func (a *adoptedPlugin) matches(path string, env []string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	st := fi.Sys().(*syscall.Stat_t)
	h := a.h
	if uint64(st.Dev) != h.Dev || st.Ino != h.Ino || st.Size != h.Size || st.Mtim.Nano() != h.Mtime || st.Ctim.Nano() != h.Ctime {
		return false
	}
	exe, err := os.Stat(fmt.Sprintf("/proc/%d/exe", h.PID))
	if err != nil || !os.SameFile(exe, fi) {
		return false
	}
	got, ok := procEnviron(h.PID)
	return ok && slices.Equal(got, env)
}

// runs reports whether process h.PID runs the file of device h.Dev and
// inode h.Ino.
func runs(h pluginproc.Handover) bool {
	fi, err := os.Stat(fmt.Sprintf("/proc/%d/exe", h.PID))
	if err != nil {
		return false
	}
	st := fi.Sys().(*syscall.Stat_t)
	return uint64(st.Dev) == h.Dev && st.Ino == h.Ino
}

// maxProcFile bounds what is read of a /proc file.
const maxProcFile = 1 << 20

func readProc(pid int, name string) ([]byte, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProcFile+1))
	return b, err == nil && len(b) <= maxProcFile
}

// procStat returns the state (R, S, Z...), the parent and the process
// group of process pid.
func procStat(pid int) (state string, ppid, pgrp int, ok bool) {
	b, ok := readProc(pid, "stat")
	if !ok {
		return "", 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')') // the command name, in parentheses, may hold anything
	if i < 0 {
		return "", 0, 0, false
	}
	f := bytes.Fields(b[i+1:]) // state ppid pgrp ...
	if len(f) < 3 {
		return "", 0, 0, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgrp, err2 := strconv.Atoi(string(f[2]))
	return string(f[0]), ppid, pgrp, err1 == nil && err2 == nil
}

// procEnviron returns the environment process pid was started with.
func procEnviron(pid int) ([]string, bool) {
	b, ok := readProc(pid, "environ")
	if !ok {
		return nil, false
	}
	var env []string
	for _, kv := range bytes.Split(bytes.TrimSuffix(b, []byte{0}), []byte{0}) {
		env = append(env, string(kv))
	}
	return env, true
}

func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}

// ownSocketDir reports whether dir is a plugin socket directory of this
// process: a real directory (no symbolic link) of this user, 0700, whose
// marker names this process.
func ownSocketDir(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || !ownedByMe(fi) {
		return false
	}
	pid, ok := readMarker(filepath.Join(dir, socketMarker))
	return ok && pid == os.Getpid()
}
