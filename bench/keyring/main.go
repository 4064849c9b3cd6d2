//go:build unix

// Command keyring measures what store: keyring costs `authx token` on its
// cached path, next to the file store: a private D-Bus session bus and
// Debian's gnome-keyring-daemon on it (unlocked with a throw-away
// password), two basic profiles that differ only in their store, and the
// runs interleaved round by round with a bare Go binary's start, so that
// the machine's load falls on all cases alike. With -base, another build's
// `authx token` on the file store runs in the same rounds: its ratio to the
// bare binary is the one this build must keep.
//
//	make build && go run ./bench/keyring -bin bin -n 200 [-base OTHERBIN]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/authx/authx/bench/internal/rounds"
)

func main() {
	bin := flag.String("bin", "bin", "directory with authx, authx-cli and the basic plugin")
	base := flag.String("base", "", "another build's `directory` whose file-store cached case runs in the same rounds")
	n := flag.Int("n", 200, "runs per case")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "authx-bench-keyring-")
	check(err)
	defer os.RemoveAll(tmp)

	addr, stop := secretService(tmp)
	defer stop()
	cleanup = stop

	bare, err := rounds.BuildBare(tmp)
	check(err)

	cfg := filepath.Join(tmp, "config.yaml")
	check(os.WriteFile(cfg, []byte(`profiles:
  file: {scheme: basic, config: {username: alice, password: env:PW}}
  kr: {scheme: basic, store: keyring, store_fallback: fail, config: {username: alice, password: env:PW}}
`), 0o600))
	env := append(os.Environ(), "AUTHX_CONFIG="+cfg, "AUTHX_CACHE_DIR="+filepath.Join(tmp, "cache"), "PW=bench-secret",
		"DBUS_SESSION_BUS_ADDRESS="+addr)
	baseCfg := filepath.Join(tmp, "base.yaml") // the file profile alone, for a build that may not know store: keyring
	check(os.WriteFile(baseCfg, []byte("profiles:\n  file: {scheme: basic, config: {username: alice, password: env:PW}}\n"), 0o600))
	baseEnv := append(append([]string{}, env...), "AUTHX_CONFIG="+baseCfg)
	runIn := func(env []string, name string, args ...string) func() {
		return func() {
			c := exec.Command(name, args...)
			c.Env = env
			if out, err := c.CombinedOutput(); err != nil {
				check(fmt.Errorf("%s %v: %v\n%s", name, args, err, out))
			}
		}
	}
	run := func(name string, args ...string) func() { return runIn(env, name, args...) }
	abs := func(dir, name string) string {
		p, err := filepath.Abs(filepath.Join(dir, name))
		check(err)
		return p
	}
	authx, cli := abs(*bin, "authx"), abs(*bin, "authx-cli")
	cases := []rounds.Case{
		{Name: "bare Go binary (start+exit)", Run: run(bare)},
		{Name: "authx token, cached, store: file", Run: run(authx, "token", "file")},
		{Name: "authx token, cached, store: keyring", Run: run(authx, "token", "kr")},
		{Name: "authx-cli token, cached, store: file", Run: run(cli, "token", "file")},
		{Name: "authx-cli token, cached, store: keyring", Run: run(cli, "token", "kr")},
	}
	if *base != "" {
		cases = append(cases, rounds.Case{Name: "base: authx token, cached, store: file", Run: runIn(baseEnv, abs(*base, "authx"), "token", "file")})
	}
	for deadline := time.Now().Add(10 * time.Second); ; { // until gnome-keyring serves org.freedesktop.secrets
		c := exec.Command(cli, "token", "kr")
		c.Env = env
		if c.Run() == nil {
			break
		}
		if time.Now().After(deadline) {
			check(fmt.Errorf("the Secret Service did not come up"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	rounds.Measure(cases, *n)
}

// secretService starts dbus-daemon and an unlocked gnome-keyring-daemon
// on it, as the tests do, and returns the bus address and a function that
// kills and reaps both.
func secretService(tmp string) (addr string, stop func()) {
	conf := filepath.Join(tmp, "bus.conf")
	check(os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, tmp)), 0o600))
	bus := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	bus.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := bus.StdoutPipe()
	check(err)
	check(bus.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	check(err)
	addr = strings.TrimSpace(line)
	home := filepath.Join(tmp, "keyring-home")
	check(os.MkdirAll(home, 0o700))
	gk := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets", "--control-directory="+home)
	gk.Env = []string{"HOME=" + home, "XDG_DATA_HOME=" + home, "XDG_RUNTIME_DIR=" + home, "DBUS_SESSION_BUS_ADDRESS=" + addr, "PATH=" + os.Getenv("PATH")}
	gk.Stdin = strings.NewReader("bench-keyring-password")
	gk.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	check(gk.Start())
	stop = func() {
		for _, c := range []*exec.Cmd{gk, bus} {
			syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
			c.Wait()
		}
	}
	return addr, stop
}

// busConfig is, as in the tests, a session bus without service activation: a call to
// org.freedesktop.secrets before gnome-keyring-daemon has claimed it would
// otherwise make dbus-daemon start a second, locked gnome-keyring (its
// Debian package installs the activation file), which then holds the name.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// cleanup stops the daemons before check exits.
var cleanup = func() {}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		cleanup()
		os.Exit(1)
	}
}
