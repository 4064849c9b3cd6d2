package host

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core/pluginproc"
)

// A plugin the front started before exec'ing authx-cli (here: this test
// process, its parent) is adopted by the Start that would start the very
// same process, and otherwise killed and reaped: by that Start, or by
// DropHandover when no Start came. Either way no process and no socket
// directory is left.
func TestHandover(t *testing.T) {
	path := buildPlugin(t, "../../plugins/basic/cmd/authx-plugin-basic", "authx-plugin-basic")
	sum, _, err := digestFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		level string // the handed-over plugin's log level; the host's is off
		spec  Spec
		touch bool // the executable changes after the plugin started
		start bool // the host starts a plugin (else the run needs none)
		adopt bool
	}{
		{name: "the same plugin", level: "off", spec: Spec{Scheme: "basic"}, start: true, adopt: true},
		{name: "the same plugin by its path", level: "off", spec: Spec{Scheme: "basic", Path: path}, start: true, adopt: true},
		{name: "pinned", level: "off", spec: Spec{Scheme: "basic", SHA256: sum}, start: true},
		{name: "another environment", level: "debug", spec: Spec{Scheme: "basic"}, start: true},
		{name: "the executable changed", level: "off", spec: Spec{Scheme: "basic"}, touch: true, start: true},
		{name: "no plugin needed", level: "off", spec: Spec{Scheme: "basic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pp, err := pluginproc.Prestart(path, pluginproc.Env(tt.level, os.Environ()), socketTempDir(os.TempDir(), ""))
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv(pluginproc.HandoverEnv, pp.String())
			TakeHandover()
			if _, ok := os.LookupEnv(pluginproc.HandoverEnv); ok {
				t.Errorf("%s is still in the environment", pluginproc.HandoverEnv)
			}
			if tt.touch {
				later := time.Now().Add(time.Minute)
				if err := os.Chtimes(path, later, later); err != nil {
					t.Fatal(err)
				}
			}
			if tt.start {
				h := New(Options{SearchPath: []string{filepath.Dir(path)}})
				p, err := h.Start(context.Background(), tt.spec)
				if err != nil {
					t.Fatal(err)
				}
				if adopted := p.PID() == strconv.Itoa(pp.PID); adopted != tt.adopt {
					t.Errorf("adopted %v, want %v", adopted, tt.adopt)
				}
				if d, err := h.DescribeRunning(context.Background(), p); err != nil || d.Name != "basic" {
					t.Errorf("Describe: %+v, %v", d, err)
				}
				if dirs, _ := filepath.Glob(filepath.Join(socketTempDir(os.TempDir(), ""), "plugin-dir*", socketMarker)); len(mine(dirs)) != 1 {
					t.Errorf("socket directories of this process: %v, want 1", mine(dirs))
				}
				h.Close()
			}
			DropHandover()
			if err := syscall.Kill(pp.PID, 0); !errors.Is(err, syscall.ESRCH) { // a zombie would answer
				t.Errorf("the handed-over plugin %d is still there (not killed or not reaped): %v", pp.PID, err)
			}
			if _, err := os.Stat(pp.SocketDir); !os.IsNotExist(err) {
				t.Errorf("socket directory %s left: %v", pp.SocketDir, err)
			}
		})
	}
}

// A handover naming a process that is not this process's child (forged,
// or stale), or a child running another file than the one it names, is
// ignored: nothing is signalled, no descriptor is taken.
func TestHandoverNotOurs(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	sleep := exec.Command("sleep", "30")
	sleep.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	st := self.Sys().(*syscall.Stat_t)
	for _, pid := range []int{os.Getppid(), sleep.Process.Pid} {
		h := pluginproc.Handover{PID: pid, Stdout: int(r.Fd()), Stderr: int(w.Fd()), SocketDir: "/tmp/plugin-dir1", Path: exe,
			Dev: uint64(st.Dev), Ino: st.Ino}
		if _, err := pluginproc.ParseHandover(h.String()); err != nil {
			t.Fatal(err)
		}
		for _, fd := range []uintptr{r.Fd(), w.Fd()} { // as the front leaves them: inheritable
			if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFD, 0); e != 0 {
				t.Fatal(e)
			}
		}
		t.Setenv(pluginproc.HandoverEnv, h.String())
		TakeHandover()
		DropHandover()
		if err := syscall.Kill(pid, 0); err != nil {
			t.Fatalf("process %d was signalled: %v", pid, err)
		}
		ourChild := pid == sleep.Process.Pid
		for _, fd := range []uintptr{r.Fd(), w.Fd()} {
			flags, _, _ := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFD, 0)
			if cloexec := flags&syscall.FD_CLOEXEC != 0; cloexec != ourChild {
				t.Errorf("process %d (our child: %v): descriptor %d close-on-exec %v", pid, ourChild, fd, cloexec)
			}
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Errorf("a descriptor was closed: %v", err)
		}
	}
}

// mine returns the markers among markers that name this process.
func mine(markers []string) []string {
	var out []string
	for _, m := range markers {
		if pid, ok := readMarker(m); ok && pid == os.Getpid() {
			out = append(out, m)
		}
	}
	return out
}
