//go:build linux

package plugintest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/core/sdk"
)

// pollExit is how often the check looks whether the plugin is gone.
const pollExit = 50 * time.Millisecond

// shellHost is the throw-away host: it starts the plugin in the
// background, prints its pid and waits. Killing it orphans the plugin.
const shellHost = `"$0" & echo $!; wait`

// exitsWithHost starts the plugin a second time, under /bin/sh as its host
// with the environment go-plugin gives a plugin and nothing else (no
// PR_SET_PDEATHSIG, which authx sets but other systems lack). Once the
// plugin has printed its handshake, the shell is killed with SIGKILL and the
// plugin must exit within hostDeathLimit: the protocol's rule is to exit
// when the parent process changes. Whatever happens, the plugin is killed
// before the check returns.
func (r *runner) exitsWithHost(ctx context.Context) (Status, string) {
	dir, err := os.MkdirTemp("", "authx-plugintest-") // 0700, like go-plugin's
	if err != nil {
		return Fail, "creating a socket directory: " + err.Error()
	}
	defer os.RemoveAll(dir)
	sh, out, err := startUnderShell(r.o.Path, dir)
	if err != nil {
		return Fail, "starting the plugin under /bin/sh: " + err.Error()
	}
	defer out.Close()
	defer syscall.Kill(-sh.Process.Pid, syscall.SIGKILL) // the shell's group: the plugin too, unless it left it

	sctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	pid, err := readStart(sctx, out)
	cancel()
	if pid > 0 {
		defer kill(pid)
	}
	sh.Process.Kill()
	sh.Wait()
	if err != nil {
		return Fail, "the plugin started under /bin/sh " + err.Error()
	}
	start := time.Now()
	tick := time.NewTicker(pollExit)
	defer tick.Stop()
	for !exited(pid) {
		if time.Since(start) > hostDeathLimit {
			return Fail, fmt.Sprintf("still running %s after its host was killed with SIGKILL: exit when the parent process changes (poll getppid)", hostDeathLimit)
		}
		select {
		case <-ctx.Done():
			return Fail, "timed out waiting for the plugin to exit"
		case <-tick.C:
		}
	}
	return Pass, fmt.Sprintf("exited %s after its host was killed", time.Since(start).Round(10*time.Millisecond))
}

// startUnderShell starts the shell host in its own process group, with
// its stdout (the plugin's too) on the returned pipe.
func startUnderShell(path, socketDir string) (*exec.Cmd, *os.File, error) {
	abs, err := filepath.Abs(path) // "$0" must not be looked up in $PATH
	if err != nil {
		return nil, nil, err
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	sh := exec.Command("/bin/sh", "-c", shellHost, abs)
	sh.Env = pluginEnv(socketDir)
	sh.Stdout = wr
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = sh.Start()
	wr.Close()
	if err != nil {
		rd.Close()
		return nil, nil, err
	}
	return sh, rd, nil
}

// pluginEnv is what go-plugin v1.8's client sets for a plugin (client.go:
// the magic cookie, the port range, the protocol versions, the socket
// directory), the log level authx adds, and what finding an interpreter
// takes.
func pluginEnv(socketDir string) []string {
	env := []string{
		pluginrpc.Handshake.MagicCookieKey + "=" + pluginrpc.Handshake.MagicCookieValue,
		"PLUGIN_MIN_PORT=10000",
		"PLUGIN_MAX_PORT=25000",
		"PLUGIN_PROTOCOL_VERSIONS=" + strconv.Itoa(pluginrpc.ProtocolMajor),
		plugin.EnvUnixSocketDir + "=" + socketDir,
		sdk.LogLevelEnv + "=off",
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// readStart reads the shell's "$!" line and the plugin's handshake line,
// in whichever order they come. It returns the pid as soon as it has it,
// even with an error.
func readStart(ctx context.Context, out io.Reader) (pid int, err error) {
	lines := make(chan string)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
	}()
	for handshake := false; pid == 0 || !handshake; {
		select {
		case <-ctx.Done():
			return pid, errors.New("printed no handshake within the timeout")
		case line, ok := <-lines:
			if !ok {
				return pid, errors.New("exited before printing its handshake")
			}
			if n, err := strconv.Atoi(line); err == nil && pid == 0 {
				pid = n
				continue
			}
			if strings.Count(line, "|") < 3 {
				return pid, fmt.Errorf("printed %q instead of its handshake", oneLine(line))
			}
			handshake = true
		}
	}
	return pid, nil
}

// exited reports whether pid is gone; a zombie is gone (its new parent has
// yet to reap it).
func exited(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')') // the command name may hold anything
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

// kill ends a plugin that outlived the check and waits a moment for it.
func kill(pid int) {
	if exited(pid) {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(time.Second); !exited(pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}
