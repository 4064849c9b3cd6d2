// Command sharedstore measures what a shared store (stores: NAME of type
// redis, docs/stores.md) costs `authx token`, next to the file store, on
// a real redis-server it starts on 127.0.0.1: a locally fresh credential
// (the local copy, no network), and a locally missing one that Redis holds
// (the copy deleted before each run: authx-cli reads the store's name key
// and the entry from Redis, opens it and writes the copy). The runs are
// interleaved round by round with a bare Go binary's start.
//
//	make build && go run ./bench/sharedstore -bin bin -n 200
package main

import (
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
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
	n := flag.Int("n", 200, "runs per case")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "authx-bench-shared-")
	check(err)
	defer os.RemoveAll(tmp)

	addr, stop := redisServer(tmp)
	defer stop()
	cleanup = stop

	bare, err := rounds.BuildBare(tmp)
	check(err)
	key := make([]byte, 32)
	rand.Read(key)
	cfg := filepath.Join(tmp, "config.yaml")
	check(os.WriteFile(cfg, []byte(fmt.Sprintf(`stores:
  fleet: {type: redis, url: "redis://%s", key: env:AUTHX_STORE_KEY}
profiles:
  file: {scheme: basic, config: {username: alice, password: env:PW}}
  shared: {scheme: basic, store: fleet, store_fallback: fail, config: {username: alice, password: env:PW}}
`, addr)), 0o600))
	cacheDir := filepath.Join(tmp, "cache")
	env := append(os.Environ(), "AUTHX_CONFIG="+cfg, "AUTHX_CACHE_DIR="+cacheDir, "PW=bench-secret",
		"AUTHX_STORE_KEY="+base64.StdEncoding.EncodeToString(key))
	run := func(name string, args ...string) func() {
		return func() {
			c := exec.Command(name, args...)
			c.Env = env
			if out, err := c.CombinedOutput(); err != nil || strings.Contains(string(out), "warning") {
				check(fmt.Errorf("%s %v: %v\n%s", name, args, err, out))
			}
		}
	}
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join(*bin, name))
		check(err)
		return p
	}
	authx, cli := abs("authx"), abs("authx-cli")
	dropCopy := func(profile string) func() {
		return func() {
			copies, _ := filepath.Glob(filepath.Join(cacheDir, profile+".*.json"))
			for _, c := range copies {
				check(os.Remove(c))
			}
		}
	}
	rounds.Measure([]rounds.Case{
		{Name: "bare Go binary (start+exit)", Run: run(bare)},
		{Name: "authx token, cached, store: file", Run: run(authx, "token", "file")},
		{Name: "authx token, locally fresh, store: fleet", Run: run(authx, "token", "shared")},
		{Name: "authx-cli token, cached, store: file", Run: run(cli, "token", "file")},
		{Name: "authx token, local copy missing, in Redis", Prepare: dropCopy("shared"), Run: run(authx, "token", "shared")},
		{Name: "authx token, not cached, store: file (a login)", Prepare: dropCopy("file"), Run: run(authx, "token", "file")},
	}, *n)
}

// redisServer starts redis-server on a free port of 127.0.0.1, persisting
// nothing, and returns its address and a function that kills and reaps it.
func redisServer(tmp string) (addr string, stop func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	addr = l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	c := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	check(c.Start())
	stop = func() { c.Process.Kill(); c.Wait() }
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return addr, stop
		}
		if time.Now().After(deadline) {
			stop()
			check(fmt.Errorf("redis-server did not come up on %s", addr))
		}
	}
}

// cleanup stops redis-server before check exits.
var cleanup = func() {}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		cleanup()
		os.Exit(1)
	}
}
