// Package rounds runs benchmark cases interleaved round by round, so that
// a machine's load falls on every case alike, and prints each case's
// median and p90 wall time next to its ratio to the first case (a bare
// Go binary's start, which BuildBare builds).
package rounds

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// Case is one measured command: Run is timed, Prepare (optional) runs
// before each timed run, untimed.
type Case struct {
	Name    string
	Prepare func()
	Run     func()
}

// BuildBare builds, in dir, a Go program that only starts and exits, with
// the flags authx is built with, and returns its path.
func BuildBare(dir string) (string, error) {
	bare := filepath.Join(dir, "bare")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\nfunc main() {}\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module bare\ngo 1.26\n"), 0o644); err != nil {
		return "", err
	}
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bare, ".")
	build.Dir, build.Stderr = dir, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	return bare, build.Run()
}

// Measure runs every case once untimed (a login, the page cache), then n
// rounds of every case, in a new random order each round (a fixed order
// favours the case that follows another's page-cache work), and prints
// the table.
func Measure(cases []Case, n int) {
	for _, c := range cases {
		c.Run()
	}
	times := make([][]time.Duration, len(cases))
	order := make([]int, len(cases))
	for i := range order {
		order[i] = i
	}
	for range n {
		rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, i := range order {
			c := cases[i]
			if c.Prepare != nil {
				c.Prepare()
			}
			start := time.Now()
			c.Run()
			times[i] = append(times[i], time.Since(start))
		}
	}
	fmt.Printf("%-52s %10s %10s %8s\n", "case (wall time per run)", "median", "p90", "x first")
	for i, c := range cases {
		ds := times[i]
		sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
		fmt.Printf("%-52s %10s %10s %8.2f\n", c.Name, pct(ds, 50), pct(ds, 90), float64(pct(ds, 50))/float64(pct(times[0], 50)))
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100].Round(10 * time.Microsecond)
}
