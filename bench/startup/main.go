// Command startup measures what scripts feel: the wall time of `authx token`
// served from the cache, and cold (cache empty: plugin start and login),
// side by side with a bare Go binary that only starts and exits. The cached
// path is measured twice: through the front that `make install` installs as
// authx, and through the full CLI (authx-cli) alone. The wrappers are
// measured against what they replace: `authx curl` against
// `authx header | curl -H @-` and curl alone, `authx exec` against the
// command alone, all fetching from a server on loopback. With -shared, the
// cached `authx token` of a profile of a shared store (stores: fleet, on a
// Redis that is unreachable on purpose), whose local copy is fresh, against
// a store: file profile's of the same config.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/authx/authx/core/config/snapshot"
)

func main() {
	bin := flag.String("bin", "bin", "directory with authx and its plugins")
	n := flag.Int("n", 200, "runs per case")
	base := flag.String("base", "", "another build's `directory` (e.g. the previous commit's) whose cached and cold cases run interleaved with these")
	coldOnly := flag.Bool("cold", false, "only the bare binary, the cached and the cold cases (each cold run as many as -n)")
	cachedOnly := flag.Bool("cached", false, "only the bare binary and the front's cached token and header")
	shared := flag.Bool("shared", false, "only the bare binary and the front's cached token of a store: file profile and of a store: fleet (Redis) profile with a fresh local copy")
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
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build builds authx
	check(build.Run())

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Basic YWxpY2U6YmVuY2gtc2VjcmV0" { // alice:bench-secret
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	api := srv.URL + "/api"

	cfg := filepath.Join(tmp, "config.yaml")
	yaml := "profiles:\n  bench:\n    scheme: basic\n    config: {username: alice, password: env:PW}\n"
	if *shared { // the same profile, and one of a shared store whose Redis nobody answers at
		yaml = "stores:\n  fleet: {type: redis, url: \"redis://127.0.0.1:1\", key: env:AUTHX_STORE_KEY}\n" + yaml +
			"  fleet:\n    scheme: basic\n    store: fleet\n    config: {username: alice, password: env:PW}\n"
	}
	check(os.WriteFile(cfg, []byte(yaml), 0o600))
	env := append(os.Environ(), "AUTHX_CONFIG="+cfg, "AUTHX_CACHE_DIR="+filepath.Join(tmp, "cache"), "PW=bench-secret",
		"AUTHX_STORE_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	// The base build gets a cache directory of its own: another snapshot
	// format there would make each front miss the other's snapshot.
	baseEnv := append(slices.Clone(env), "AUTHX_CACHE_DIR="+filepath.Join(tmp, "cache-base"))
	runIn := func(env []string) func(name string, args ...string) func() {
		return func(name string, args ...string) func() {
			return func() {
				c := exec.Command(name, args...)
				c.Env = env
				if out, err := c.CombinedOutput(); err != nil {
					fmt.Fprintf(os.Stderr, "%s %v: %v\n%s", name, args, err, out)
					os.Exit(1)
				}
			}
		}
	}
	run, runBase := runIn(env), runIn(baseEnv)
	token := run(authx, "token", "bench")
	logout := run(authx, "logout", "bench", "-q")
	coldN := max(*n/4, 10)
	if *coldOnly {
		coldN = *n
	}
	cli := filepath.Join(filepath.Dir(authx), "authx-cli") // the full CLI, which the front hands misses to
	curlArgs := []string{"-sSf", "-o", "/dev/null", api}
	truePath, err := exec.LookPath("true")
	check(err)

	// A config younger than snapshot.Racy gets no snapshot (its stat
	// might not show a change made within the same clock tick): the
	// front would hand the first runs to authx-cli.
	time.Sleep(2 * snapshot.Racy)
	token() // warm the page cache, fill the credential cache and the front's snapshot
	if *shared {
		var before []benchCase
		if *base != "" { // a build from before: the whole config goes through its authx-cli
			other, err := filepath.Abs(filepath.Join(*base, "authx"))
			check(err)
			before = []benchCase{
				{"base: authx token, cached, store: file", nil, runBase(other, "token", "bench"), *n},
				{"base: authx token, cached, store: fleet", nil, runBase(other, "token", "fleet"), *n},
			}
		}
		sharedCases(authx, tmp, *n, run(bare), token, run(authx, "token", "fleet"), before, run)
		return
	}
	run(cli, "token", "bench")()
	run(authx, append([]string{"curl", "bench", "--"}, curlArgs...)...)()
	cases := []benchCase{
		{"bare Go binary (start+exit)", nil, run(bare), *n},
		{"authx token, cached", nil, token, *n},
		{"authx-cli token, cached (no front)", nil, run(cli, "token", "bench"), *n},
		{"authx token, cold (plugin+login)", logout, token, coldN},
		{"curl alone (no credential)", nil, run("curl", "-sS", "-o", "/dev/null", srv.URL+"/"), *n},
		{"authx header | curl -H @-", nil, run("sh", append([]string{"-c", `"$0" header bench | curl -H @- "$@"`, authx}, curlArgs...)...), *n},
		{"authx curl, cached", nil, run(authx, append([]string{"curl", "bench", "--"}, curlArgs...)...), *n},
		{"authx-cli curl, cached (no front)", nil, run(cli, append([]string{"curl", "bench", "--"}, curlArgs...)...), *n},
		{"true alone", nil, run(truePath), *n},
		{"authx exec -- true, cached", nil, run(authx, "exec", "bench", "--", truePath), *n},
	}
	if *coldOnly {
		cases = cases[:4]
	}
	header := run(authx, "header", "bench")
	if *cachedOnly {
		cases = []benchCase{cases[0], cases[1], {"authx header, cached", nil, header, *n}}
	}
	if *base != "" && *cachedOnly {
		other, err := filepath.Abs(filepath.Join(*base, "authx"))
		check(err)
		otherToken, otherHeader := runBase(other, "token", "bench"), runBase(other, "header", "bench")
		otherToken()
		cases = append(cases,
			benchCase{"base: authx token, cached", nil, otherToken, *n},
			benchCase{"base: authx header, cached", nil, otherHeader, *n})
	} else if *base != "" {
		// The other build's front and CLI, with its own plugins beside them.
		other, err := filepath.Abs(filepath.Join(*base, "authx"))
		check(err)
		otherToken := runBase(other, "token", "bench")
		otherToken()
		cases = append(cases,
			benchCase{"base: authx token, cached", nil, otherToken, *n},
			benchCase{"base: authx token, cold", runBase(other, "logout", "bench", "-q"), otherToken, coldN})
	}
	// Interleaved, round by round, so that the machine's load is shared
	// alike by every case; each round starts at another case, so that no
	// case always runs right after the same one.
	times := make([][]time.Duration, len(cases))
	for round := 0; round < *n; round++ {
		for k := range cases {
			i := (round + k) % len(cases)
			c := cases[i]
			if round >= c.n {
				continue
			}
			if c.setup != nil {
				c.setup()
			}
			start := time.Now()
			c.f()
			times[i] = append(times[i], time.Since(start))
		}
	}
	for _, ds := range times {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	}
	median := func(i int) time.Duration { return pct(times[i], 50) }
	fmt.Printf("%-36s %10s %10s %8s %8s\n", "case (wall time per run)", "median", "p90", "x bare", "x other")
	other := map[int]int{6: 5, 7: 5, 9: 8} // authx curl vs authx header | curl; exec vs true
	if *coldOnly || *cachedOnly {
		other = map[int]int{}
	}
	switch {
	case *base != "" && *cachedOnly: // the base's cached token and header vs this build's
		other[3], other[4] = 1, 2
	case *base != "": // the base's cached and cold cases vs this build's
		other[len(cases)-2], other[len(cases)-1] = 1, 3
	}
	for i, c := range cases {
		ratio := ""
		if j, ok := other[i]; ok {
			ratio = fmt.Sprintf("%8.2f", float64(median(i))/float64(median(j)))
		}
		fmt.Printf("%-36s %10s %10s %8.2f %8s\n", c.name, median(i), pct(times[i], 90), float64(median(i))/float64(median(0)), ratio)
	}
	if *cachedOnly {
		return
	}
	fmt.Printf("cold / cached: %.1fx\n", float64(median(3))/float64(median(1)))
	if !*coldOnly {
		fmt.Printf("authx curl over curl alone: %s; authx header | curl over curl alone: %s\n",
			(median(6) - median(4)).Round(10*time.Microsecond), (median(5) - median(4)).Round(10*time.Microsecond))
	}
}

// sharedCases times the bare binary, the front's cached token of the
// store: file profile and of the store: fleet one, interleaved. The fleet
// profile's local copy comes from one login through authx-cli (Redis
// unreachable: a local login); a copy of the front alone (no authx-cli
// beside it, so a hand-off fails) shows that the front serves both. The
// cases of before (another build's) run interleaved with these.
func sharedCases(authx, tmp string, n int, bare, file, fleet func(), before []benchCase, run func(string, ...string) func()) {
	fleet()
	alone := filepath.Join(tmp, "alone", "authx")
	check(os.MkdirAll(filepath.Dir(alone), 0o700))
	data, err := os.ReadFile(authx)
	check(err)
	check(os.WriteFile(alone, data, 0o700))
	run(alone, "token", "bench")()
	run(alone, "token", "fleet")() // exits 8 if the front hands off
	cases := []benchCase{
		{"bare Go binary (start+exit)", nil, bare, n},
		{"authx token, cached, store: file", nil, file, n},
		{"authx token, cached, store: fleet", nil, fleet, n},
	}
	for _, c := range before {
		c.f() // its login, untimed
	}
	cases = append(cases, before...)
	// Each round in a random order: a case run right after the same
	// binary (the front, for file and fleet) finds it warmer, and a
	// rotation keeps fleet after file in all rounds but a few (6-10 %
	// faster for nothing but that).
	times := make([][]time.Duration, len(cases))
	for round := 0; round < n; round++ {
		for _, i := range rand.Perm(len(cases)) {
			start := time.Now()
			cases[i].f()
			times[i] = append(times[i], time.Since(start))
		}
	}
	fmt.Printf("%-42s %10s %10s %8s %8s\n", "case (wall time per run)", "median", "p90", "x bare", "x file")
	for _, ds := range times {
		sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	}
	for i, c := range cases {
		m := pct(times[i], 50)
		fmt.Printf("%-42s %10s %10s %8.2f %8.2f\n", c.name, m, pct(times[i], 90),
			float64(m)/float64(pct(times[0], 50)), float64(m)/float64(pct(times[1], 50)))
	}
}

// benchCase is one command timed: setup runs untimed before each run.
type benchCase struct {
	name  string
	setup func()
	f     func()
	n     int
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
