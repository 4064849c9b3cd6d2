package pluginproc

import (
	"errors"
	"os"
	"syscall"
)

// Prestarted is a plugin process started by Prestart, to be handed over.
type Prestarted struct{ Handover }

// Prestart starts the plugin at path (a native executable; a script's
// process image would not be path) exactly as the host would, with env
// (Env's result) and go-plugin's handshake variables for a fresh socket
// directory under socketBase, marked as this process's, for the process
// that execs authx-cli next, which inherits it (as HandoverEnv=String()):
// its stdout and stderr pipes' read ends stay open across the exec.
//
// The plugin gets SIGKILL when the thread that started it ends, so the
// caller must stay on that thread (runtime.LockOSThread before the call)
// and exec from it: exec ends every other thread, the caller's survives.
// It must Abort the plugin when the exec fails.
func Prestart(path string, env []string, socketBase string) (*Prestarted, error) {
	if !Encodable(socketBase, path) {
		return nil, errors.New("the plugin's path or socket directory cannot be handed over")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	dir, err := os.MkdirTemp(socketBase, SocketDirPrefix)
	if err != nil {
		return nil, err
	}
	if err := MarkSocketDir(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var out, errp [2]int
	if err := syscall.Pipe2(out[:], syscall.O_CLOEXEC); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := syscall.Pipe2(errp[:], syscall.O_CLOEXEC); err != nil {
		closeAll(out[0], out[1])
		os.RemoveAll(dir)
		return nil, err
	}
	null, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		closeAll(out[0], out[1], errp[0], errp[1])
		os.RemoveAll(dir)
		return nil, err
	}
	// syscall.ForkExec, not os/exec: what Command sets, without os's
	// check for pidfd support (one more process to create).
	attr := Command(path, nil).SysProcAttr
	pid, err := syscall.ForkExec(path, []string{path}, &syscall.ProcAttr{
		Env: append(env, HandshakeEnv(dir)...), Files: []uintptr{uintptr(null), uintptr(out[1]), uintptr(errp[1])}, Sys: attr})
	closeAll(null, out[1], errp[1])
	if err == nil {
		err = inheritable(out[0])
		if err == nil {
			err = inheritable(errp[0])
		}
		if err != nil {
			killReap(pid)
		}
	}
	if err != nil {
		closeAll(out[0], errp[0])
		os.RemoveAll(dir)
		return nil, err
	}
	return &Prestarted{Handover: Handover{
		PID: pid, Stdout: out[0], Stderr: errp[0], SocketDir: dir, Path: path,
		Dev: uint64(st.Dev), Ino: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(),
	}}, nil
}

// Abort kills the plugin, reaps it and removes its socket directory and
// pipes: the exec that was to adopt it failed.
func (p *Prestarted) Abort() {
	killReap(p.PID)
	closeAll(p.Stdout, p.Stderr)
	os.RemoveAll(p.SocketDir)
}

// killReap kills the process group of pid, its child, and reaps it.
func killReap(pid int) {
	syscall.Kill(-pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGKILL)
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return
		}
	}
}

// inheritable clears fd's close-on-exec flag.
func inheritable(fd int) error {
	_, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0)
	if e != 0 {
		return e
	}
	return nil
}

func closeAll(fds ...int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}
