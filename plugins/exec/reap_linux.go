package exec

import (
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// dieWithPlugin has the kernel kill the command when the plugin process
// dies (PR_SET_PDEATHSIG): a plugin whose host was killed exits without
// running any cleanup (sdk.Serve's parent watch), and a command still
// running would be left behind. Only the command itself gets the signal;
// what it started is killed through its group by the normal paths. (The
// signal is tied to the thread that started the command; the Go runtime
// does not end threads that no goroutine locked.)
func dieWithPlugin(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

var subreaper sync.Once

// adoptOrphans makes the plugin process the child subreaper of what it
// starts (PR_SET_CHILD_SUBREAPER): a child the command leaves behind is
// re-parented to the plugin rather than to init, so that reapGroup can
// reap it once killed, even where init reaps nothing (a container whose
// PID 1 is not an init). It is process-wide and set once.
func adoptOrphans() {
	subreaper.Do(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
}

// reapGroup waits for the killed members of process group pgid that are
// the plugin's children, for at most reapWait (a process stuck in the
// kernel may take longer to die; it is then left to the plugin's exit).
func reapGroup(pgid int) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, err := syscall.Wait4(-pgid, nil, 0, nil)
			if err != syscall.EINTR && err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(reapWait):
	}
}

const reapWait = 2 * time.Second
