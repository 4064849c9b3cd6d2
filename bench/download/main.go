//go:build linux

// Command download shows that `authx request -o FILE` streams: it serves a
// large body (1 GiB by default) from a Basic-protected server on 127.0.0.1,
// downloads it through authx, checks every byte arrived, and prints the
// authx process's peak resident memory (getrusage ru_maxrss). It exits 1
// when the peak exceeds -limit.
package main

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bin", "directory with authx and its plugins")
	size := flag.Int64("size", 1<<30, "body size in bytes")
	limitMiB := flag.Int64("limit", 50, "fail above this peak RSS, in MiB")
	flag.Parse()
	authx, err := filepath.Abs(filepath.Join(*bin, "authx"))
	check(err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u+":"+p), []byte("alice:bench-secret")) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="bench"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(*size, 10))
		w.Header().Set("Content-Type", "application/octet-stream")
		io.CopyN(w, zeros{}, *size)
	}))

	out, err := os.CreateTemp("", "authx-download-*")
	check(err)
	out.Close()
	defer os.Remove(out.Name())

	c := exec.Command(authx, "request", "--scheme", "basic", "--set", "username=alice", "--set", "password=env:PW",
		"GET", "http://"+ln.Addr().String()+"/big", "-o", out.Name(), "--fail")
	c.Env = append(os.Environ(), "PW=bench-secret")
	c.Stderr = os.Stderr
	start := time.Now()
	check(c.Run())
	elapsed := time.Since(start)

	fi, err := os.Stat(out.Name())
	check(err)
	if fi.Size() != *size {
		check(fmt.Errorf("downloaded %d bytes, want %d", fi.Size(), *size))
	}
	peakMiB := float64(c.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // ru_maxrss is in KiB on Linux
	fmt.Printf("authx request -o: %.0f MiB in %.2fs (%.0f MiB/s), authx peak RSS %.1f MiB (limit %d MiB)\n",
		float64(*size)/(1<<20), elapsed.Seconds(), float64(*size)/(1<<20)/elapsed.Seconds(), peakMiB, *limitMiB)
	if peakMiB > float64(*limitMiB) {
		check(fmt.Errorf("peak RSS %.1f MiB is over the %d MiB limit: the body is not streamed", peakMiB, *limitMiB))
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "download bench:", err)
		os.Exit(1)
	}
}
