// Command agent measures `authx header P` answered by the authx agent (a
// store: memory profile, which the front asks the agent for) side by side
// with the same command on the front's cached path (a fresh credential in
// the file cache) and a bare Go binary's start, interleaved run by run so
// that the noise of a shared machine falls on every case alike. It also
// times the memory profile without an agent (every run logs in), and
// `authx request` signed by the hmac-signer example plugin
// (docs/examples) with and without the agent, and by its Python twin
// (docs/examples/hmac-signer-python, when a python3 with grpcio and
// protobuf is there) through the agent, next to an `authx request` with a
// cached Basic credential (no plugin at all).
//
//	make build && go run ./bench/agent -bin bin -n 300
package main

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/authx/authx/bench/internal/pyplugin"
)

func main() {
	bin := flag.String("bin", "bin", "directory with authx, authx-cli and the plugins (make build)")
	n := flag.Int("n", 300, "runs per case")
	flag.Parse()
	authx, err := filepath.Abs(filepath.Join(*bin, "authx"))
	check(err)
	tmp, err := os.MkdirTemp("", "authx-bench-agent-") // 0700: the agent's socket may live here
	check(err)
	defer os.RemoveAll(tmp)

	bare := filepath.Join(tmp, "bare")
	check(os.WriteFile(filepath.Join(tmp, "main.go"), []byte("package main\nfunc main() {}\n"), 0o644))
	check(os.WriteFile(filepath.Join(tmp, "go.mod"), []byte("module bare\ngo 1.26\n"), 0o644))
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bare, ".")
	build.Dir, build.Stderr = tmp, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	check(build.Run())

	plugins := filepath.Join(tmp, "plugins")
	hmac := exec.Command("go", "build", "-C", "docs/examples/hmac-signer", "-trimpath", "-o", filepath.Join(plugins, "authx-plugin-hmac"), "./cmd/authx-plugin-hmac")
	hmac.Stderr, hmac.Env = os.Stderr, append(os.Environ(), "CGO_ENABLED=0")
	check(hmac.Run())
	for _, p := range []string{"authx-plugin-basic"} {
		data, err := os.ReadFile(filepath.Join(*bin, p))
		check(err)
		check(os.WriteFile(filepath.Join(plugins, p), data, 0o755))
	}
	pyPlugin, pyPath, err := pyplugin.Find(".", tmp)
	check(err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer srv.Close()

	cfg := filepath.Join(tmp, "config.yaml")
	check(os.WriteFile(cfg, []byte(fmt.Sprintf(`profiles:
  file:
    scheme: basic
    url: %[1]s
    config: {username: alice, password: env:PW}
  mem:
    scheme: basic
    store: memory
    config: {username: alice, password: env:PW}
  signed:
    scheme: hmac
    url: %[1]s
    config: {key_id: bench, secret: env:HMAC_SECRET}
  signed-py:
    scheme: hmac
    url: %[1]s
    plugin: {path: %[2]s}
    config: {key_id: bench, secret: env:HMAC_SECRET}
`, srv.URL, pyPlugin)), 0o600))
	sock := filepath.Join(tmp, "run", "agent.sock")
	base := append(os.Environ(), "AUTHX_CONFIG="+cfg, "AUTHX_CACHE_DIR="+filepath.Join(tmp, "cache"), "PW=bench-secret",
		"HMAC_SECRET=bench-secret-bench-secret-0123456789", "AUTHX_PLUGIN_PATH="+plugins, "PATH="+pyPath)
	withAgent := append(append([]string(nil), base...), "AUTHX_AGENT_SOCK="+sock)
	run := func(env []string, name string, args ...string) func() {
		return func() {
			c := exec.Command(name, args...)
			c.Env = env
			out, err := c.CombinedOutput()
			if err != nil || len(args) > 0 && args[0] == "header" && !strings.HasPrefix(string(out), "Authorization: Basic ") ||
				len(args) > 0 && args[0] == "request" && string(out) != "ok\n" {
				fmt.Fprintf(os.Stderr, "%s %v: %v\n%s", name, args, err, out)
				os.Exit(1)
			}
		}
	}
	run(base, authx, "agent", "start", "--socket", sock)()
	defer run(base, authx, "agent", "stop", "--socket", sock)()

	cases := []struct {
		name string
		f    func()
		n    int
	}{
		{"bare Go binary (start+exit)", run(base, bare), *n},
		{"authx header, cached (front)", run(withAgent, authx, "header", "file"), *n},
		{"authx header, agent (front)", run(withAgent, authx, "header", "mem"), *n},
		{"authx header, memory, no agent", run(base, authx, "header", "mem"), max(*n/10, 10)},
		{"authx request, Basic cached", run(base, authx, "request", "file", "GET", "/"), max(*n/4, 10)},
		{"authx request, hmac, no agent", run(base, authx, "request", "signed", "GET", "/"), max(*n/4, 10)},
		{"authx request, hmac, agent", run(withAgent, authx, "request", "signed", "GET", "/"), max(*n/4, 10)},
	}
	if pyPlugin != "" {
		cases = append(cases, struct {
			name string
			f    func()
			n    int
		}{"authx request, hmac Python, agent", run(withAgent, authx, "request", "signed-py", "GET", "/"), max(*n/4, 10)})
	}
	for _, c := range cases { // warm the page cache, the file cache and the agent
		c.f()
	}
	times := make([][]time.Duration, len(cases))
	for i := 0; i < *n; i++ {
		for j, c := range cases {
			if i >= c.n {
				continue
			}
			start := time.Now()
			c.f()
			times[j] = append(times[j], time.Since(start))
		}
	}
	for _, ts := range times {
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	}
	bareMed := pct(times[0], 50)
	fmt.Printf("%-34s %10s %10s %8s\n", "case (wall time per run)", "median", "p90", "x bare")
	for j, c := range cases {
		fmt.Printf("%-34s %10s %10s %8.2f\n", c.name, pct(times[j], 50), pct(times[j], 90), float64(pct(times[j], 50))/float64(bareMed))
	}
	fmt.Printf("agent / cached front: %.2fx (goal: <= 1)\n", float64(pct(times[2], 50))/float64(pct(times[1], 50)))
	fmt.Printf("signed request, agent - Basic cached: %s; without the agent: %s\n",
		pct(times[6], 50)-pct(times[4], 50), pct(times[5], 50)-pct(times[4], 50))
	if pyPlugin != "" {
		goOver, pyOver := pct(times[6], 50)-pct(times[4], 50), pct(times[7], 50)-pct(times[4], 50)
		fmt.Printf("signed request through the agent, Python plugin - Basic cached: %s; Python / Go: %.2fx (goal: <= 2)\n",
			pyOver, float64(pyOver)/float64(goOver))
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100].Round(10 * time.Microsecond)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
