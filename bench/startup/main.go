// Command startup measures what scripts feel: the wall time of `authx token`
// served from the cache, and cold (cache empty: plugin start and login),
// side by side with a bare Go binary that only starts and exits. The cached
// path is measured twice: through the front that `make install` installs as
// authx, and through the full CLI (authx-cli) alone.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

func main() {
	bin := flag.String("bin", "bin", "directory with authx and its plugins")
	n := flag.Int("n", 200, "runs per case")
	flag.Parse()
	authx, err := filepath.Abs(filepath.Join(*bin, "authx"))
	check(err)
	tmp, err := os.MkdirTemp("", "authx-bench-")
	check(err)
	defer os.RemoveAll(tmp)

	bare := filepath.Join(tmp, "bare")
	check(os.WriteFile(filepath.Join(tmp, "main.go"), []byte("package main\nfunc main() {}\n"), 0o644))
	check(os.WriteFile(filepath.Join(tmp, "go.mod"), []byte("module bare\ngo 1.26\n"), 0o644))
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bare, ".")
	build.Dir, build.Stderr = tmp, os.Stderr
	check(build.Run())

	cfg := filepath.Join(tmp, "config.yaml")
	check(os.WriteFile(cfg, []byte("profiles:\n  bench:\n    scheme: basic\n    config: {username: alice, password: env:PW}\n"), 0o600))
	env := append(os.Environ(), "AUTHX_CONFIG="+cfg, "AUTHX_CACHE_DIR="+filepath.Join(tmp, "cache"), "PW=bench-secret")
	run := func(name string, args ...string) func() {
		return func() {
			c := exec.Command(name, args...)
			c.Env = env
			if out, err := c.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "%s %v: %v\n%s", name, args, err, out)
				os.Exit(1)
			}
		}
	}
	token := run(authx, "token", "bench")
	logout := run(authx, "logout", "bench", "-q")
	cli := filepath.Join(filepath.Dir(authx), "authx-cli") // the full CLI, which the front hands misses to

	token() // warm the page cache and fill the credential cache
	run(cli, "token", "bench")()
	bareT := measure(*n, nil, run(bare))
	cached := measure(*n, nil, token)
	cachedCLI := measure(*n, nil, run(cli, "token", "bench"))
	cold := measure(max(*n/4, 10), logout, token)

	fmt.Printf("%-34s %10s %10s %8s\n", "case (wall time per run)", "median", "p90", "x bare")
	row := func(name string, d []time.Duration) {
		fmt.Printf("%-34s %10s %10s %8.1f\n", name, pct(d, 50), pct(d, 90), float64(pct(d, 50))/float64(pct(bareT, 50)))
	}
	row("bare Go binary (start+exit)", bareT)
	row("authx token, cached", cached)
	row("authx-cli token, cached (no front)", cachedCLI)
	row("authx token, cold (plugin+login)", cold)
	fmt.Printf("cold / cached: %.1fx\n", float64(pct(cold, 50))/float64(pct(cached, 50)))
}

// measure times f n times; setup runs before each, untimed.
func measure(n int, setup, f func()) []time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		if setup != nil {
			setup()
		}
		start := time.Now()
		f()
		ds[i] = time.Since(start)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds
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
