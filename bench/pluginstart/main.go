// Command pluginstart measures a plugin's cold start as authx pays it: the
// wall time from starting the executable, with the environment authx gives
// it, to reading its go-plugin handshake line. Plugins in any language,
// each started n times, interleaved so that a noisy machine affects them
// alike:
//
//	go run ./bench/pluginstart bin/authx-plugin-basic \
//	    docs/examples/apikey-python/authx-plugin-apikey docs/examples/apikey-node/authx-plugin-apikey
//
// The plugins get this command's PATH: the first python3 or node on it
// runs an interpreted one.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 31, "starts per plugin")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: pluginstart [-n N] PLUGIN...")
		os.Exit(2)
	}
	times := make(map[string][]time.Duration)
	for range *n {
		for _, p := range flag.Args() {
			d, err := start(p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "pluginstart: %s: %v\n", p, err)
				os.Exit(1)
			}
			times[p] = append(times[p], d)
		}
	}
	fmt.Printf("%-60s %10s %10s %10s\n", "plugin (exec to handshake line)", "median", "fastest", "slowest")
	for _, p := range flag.Args() {
		ds := times[p]
		slices.Sort(ds)
		fmt.Printf("%-60s %10s %10s %10s\n", p, ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)-1]))
	}
}

// start runs the plugin at path once, as authx does (cookie, protocol
// version, a private socket directory, a short environment), and returns
// the time until its handshake line; then it kills the plugin.
func start(path string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "pluginstart-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, err
	}
	c := exec.Command(abs)
	c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "AUTHX_PLUGIN=6c1fa2b1-authx-plugin-v1",
		"PLUGIN_PROTOCOL_VERSIONS=1", "PLUGIN_UNIX_SOCKET_DIR=" + dir, "AUTHX_LOG_LEVEL=off"}
	var stderr strings.Builder
	c.Stderr = &stderr // read only after Wait, in the error
	out, err := c.StdoutPipe()
	if err != nil {
		return 0, err
	}
	began := time.Now()
	if err := c.Start(); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	took := time.Since(began)
	c.Process.Kill()
	c.Wait()
	if err != nil || !strings.HasPrefix(line, "1|1|") {
		return 0, fmt.Errorf("no handshake line (%q, %v): %.300s", line, err, stderr.String())
	}
	return took, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
