//go:build linux

// Command proxy measures `authx proxy` side by side with going straight to
// the server, in one run, on 127.0.0.1:
//
//   - latency: sequential small GETs over keep-alive connections, straight
//     (unsigned), through `authx proxy` with a basic profile, and through it
//     with the HMAC example's Go plugin signing every request (one Apply per
//     request), and with its Python twin (docs/examples/hmac-signer-python,
//     when a python3 with grpcio and protobuf is there); rounds alternate the
//     cases so that the machine's noise falls on each alike. Goals: signed
//     through the proxy ≤ 1 ms over straight with the Go plugin; the warm
//     Python plugin's signing overhead within 2× the Go one's.
//   - throughput: curl downloading -size bytes straight and through the
//     proxy (signed profile), and uploading them through it (basic
//     profile, streamed); the peak RSS of each proxy process (getrusage
//     ru_maxrss after it exits). Goals: ≥ 80 % of straight, < 50 MiB.
//
// It builds the HMAC plugin from docs/examples/hmac-signer (its own
// module) and exits 1 when a goal is missed and -check is set.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/authx/authx/bench/internal/pyplugin"
)

func main() {
	bin := flag.String("bin", "bin", "directory with authx, authx-cli and the basic plugin (make build)")
	size := flag.Int64("size", 1<<30, "download and upload size in bytes")
	n := flag.Int("n", 2000, "small requests per case")
	rounds := flag.Int("rounds", 5, "rounds the small requests are split in, alternating the cases")
	check := flag.Bool("check", false, "exit 1 when a goal is missed")
	latencyOnly := flag.Bool("latency-only", false, "measure the small requests only (no download, upload, RSS)")
	pyPluginFlag := flag.String("python-plugin", "", "the Python plugin to measure (default: docs/examples/hmac-signer-python's)")
	flag.Parse()
	binDir, err := filepath.Abs(*bin)
	must(err)
	tmp, err := os.MkdirTemp("", "authx-bench-proxy-")
	must(err)
	defer os.RemoveAll(tmp)

	plugins := filepath.Join(tmp, "plugins")
	build := exec.Command("go", "build", "-o", plugins+string(os.PathSeparator), "./cmd/authx-plugin-hmac")
	build.Dir = filepath.Join(repoRoot(), "docs", "examples", "hmac-signer")
	build.Stderr = os.Stderr
	must(build.Run())

	var signed, signedPy atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch a := r.Header.Get("Authorization"); {
		case strings.HasPrefix(a, "AUTHX-HMAC-SHA256 KeyId=bench,"):
			signed.Add(1)
		case strings.HasPrefix(a, "AUTHX-HMAC-SHA256 KeyId=bench-py,"):
			signedPy.Add(1)
		}
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", strconv.FormatInt(*size, 10))
			io.CopyN(w, zeros{}, *size)
		case "/upload":
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprintln(w, n)
		default:
			io.WriteString(w, "ok\n")
		}
	})
	go http.Serve(ln, handler)
	server := "http://" + ln.Addr().String() + "/"
	caFile := filepath.Join(tmp, "ca.pem")
	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go http.Serve(tls.NewListener(tlsLn, selfSigned(caFile)), handler)
	tlsServer := "https://" + tlsLn.Addr().String() + "/"

	pyPlugin, pyPath, err := pyplugin.Find(repoRoot(), tmp)
	must(err)
	if *pyPluginFlag != "" && pyPlugin != "" {
		pyPlugin, err = filepath.Abs(*pyPluginFlag)
		must(err)
	}
	home := filepath.Join(tmp, "home")
	must(os.MkdirAll(filepath.Join(home, "config", "authx"), 0o700))
	must(os.WriteFile(filepath.Join(home, "config", "authx", "config.yaml"), []byte(fmt.Sprintf(`profiles:
  signed:
    scheme: hmac
    url: %[1]s
    config: {key_id: bench, secret: env:HMAC_SECRET}
  basic:
    scheme: basic
    url: %[1]s
    config: {username: alice, password: env:PW}
  tls:
    scheme: jwt
    url: %[2]s
    config: {mode: static, token: env:PW, ca_file: %[3]s}
  signed-py:
    scheme: hmac
    url: %[1]s
    plugin: {path: %[4]s}
    config: {key_id: bench-py, secret: env:HMAC_SECRET}
`, server, tlsServer, caFile, pyPlugin)), 0o600))
	env := []string{"HOME=" + home, "PATH=" + pyPath, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "XDG_DATA_HOME=" + filepath.Join(home, "data"), "AUTHX_NO_INPUT=1",
		"AUTHX_PLUGIN_PATH=" + plugins, "HMAC_SECRET=bench-secret-bench-secret-bench-secret", "PW=bench-pw"}
	signedProxy := startProxy(filepath.Join(binDir, "authx"), env, "signed")
	var pyProxy *proxyProc
	if pyPlugin != "" {
		pyProxy = startProxy(filepath.Join(binDir, "authx"), env, "signed-py")
	}
	basicProxy := startProxy(filepath.Join(binDir, "authx"), env, "basic")
	tlsProxy := startProxy(filepath.Join(binDir, "authx"), env, "tls")
	unixProxy := startProxy(filepath.Join(binDir, "authx"), env, "signed", "--listen", "unix:"+filepath.Join(tmp, "run", "p.sock"))

	fmt.Printf("authx proxy on 127.0.0.1, %s, %d CPUs\n\n", time.Now().UTC().Format("2006-01-02"), numCPU())
	cases := []struct {
		name, base string
		samples    []time.Duration
	}{
		{"straight (unsigned)", server, nil},
		{"authx proxy, basic", basicProxy.base, nil},
		{"authx proxy, hmac (Go plugin signs each request)", signedProxy.base, nil},
	}
	if pyProxy != nil {
		cases = append(cases, struct {
			name, base string
			samples    []time.Duration
		}{"authx proxy, hmac (Python plugin signs each request)", pyProxy.base, nil})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	for i := range cases {
		get(client, cases[i].base+"small", 200) // warm: connections, the plugin, the cache
	}
	signed.Store(0)
	signedPy.Store(0)
	goCPU := cpuOf(signedProxy.pluginPid())
	var pyCPU time.Duration
	if pyProxy != nil {
		pyCPU = cpuOf(pyProxy.pluginPid())
	}
	for range *rounds {
		for i := range cases {
			cases[i].samples = append(cases[i].samples, get(client, cases[i].base+"small", *n / *rounds)...)
		}
	}
	if got := signed.Load(); got != int64(len(cases[2].samples)) {
		fail("the server saw %d requests signed by the Go plugin, want %d", got, len(cases[2].samples))
	}
	if got, want := signedPy.Load(), int64(len(cases)-3)*int64(len(cases[2].samples)); got != want {
		fail("the server saw %d requests signed by the Python plugin, want %d", got, want)
	}
	fmt.Printf("%-56s %10s %10s %14s\n", "small GET, sequential, keep-alive", "median", "p90", "median − straight")
	straight := quantile(cases[0].samples, 0.5)
	for _, c := range cases {
		m := quantile(c.samples, 0.5)
		fmt.Printf("%-56s %8.0fµs %8.0fµs %12.0fµs\n", c.name, us(m), us(quantile(c.samples, 0.9)), us(m-straight))
	}
	overhead := quantile(cases[2].samples, 0.5) - straight
	var pyOverhead time.Duration
	if pyProxy != nil {
		goMedian, pyMedian := quantile(cases[2].samples, 0.5), quantile(cases[3].samples, 0.5)
		pyOverhead = pyMedian - straight
		basic := quantile(cases[1].samples, 0.5)
		fmt.Printf("Python / Go plugin: signing overhead (median − straight) %.2f×, total latency (median) %.2f×, Apply alone (median − basic proxy) %.2f×\n",
			float64(pyOverhead)/float64(overhead), float64(pyMedian)/float64(goMedian), float64(pyMedian-basic)/float64(goMedian-basic))
		perRequest := func(p *proxyProc, before time.Duration) float64 {
			return us(cpuOf(p.pluginPid())-before) / float64(len(cases[2].samples))
		}
		fmt.Printf("  over straight: Go %.0f µs, Python %.0f µs; plugin CPU per request: Go %.0f µs, Python %.0f µs\n",
			us(overhead), us(pyOverhead), perRequest(signedProxy, goCPU), perRequest(pyProxy, pyCPU))
	} else {
		fmt.Println("no python3 with grpcio and protobuf: the Python plugin was not measured")
	}
	if *latencyOnly {
		for _, p := range running {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
		checkLatency(*check, overhead, pyOverhead)
		return
	}

	mib := float64(*size) / (1 << 20)
	fmt.Printf("\n%-56s %10s %12s\n", fmt.Sprintf("%.0f MiB with curl", mib), "time", "throughput")
	var direct, proxied, upload float64
	var proxyCPU time.Duration
	for i := range 2 { // alternated, best of two
		direct = max(direct, curlRate("download straight", i, server+"big", *size))
		before := cpuOf(signedProxy.c.Process.Pid)
		proxied = max(proxied, curlRate("download through authx proxy (hmac)", i, signedProxy.base+"big", *size))
		proxyCPU = cpuOf(signedProxy.c.Process.Pid) - before
	}
	var proxiedUnix float64
	for i := range 2 {
		proxiedUnix = max(proxiedUnix, curlRate("download through authx proxy (hmac), Unix socket", i, "http://authx/big", *size, "--unix-socket", unixProxy.base))
	}
	var directTLS, proxiedTLS float64
	for i := range 2 {
		directTLS = max(directTLS, curlRate("download straight, HTTPS", i, tlsServer+"big", *size, "--cacert", caFile))
		proxiedTLS = max(proxiedTLS, curlRate("download through authx proxy, HTTPS upstream (jwt)", i, tlsProxy.base+"big", *size))
	}
	upload = curlRate("upload through authx proxy (basic, streamed)", 0, basicProxy.base+"upload", *size, "-T", "-")
	fmt.Printf("CPU time of the proxy process for the last download: %.2fs (user + system)\n", proxyCPU.Seconds())
	rssSigned, rssBasic, rssTLS := signedProxy.stop(), basicProxy.stop(), tlsProxy.stop()
	unixProxy.stop()
	if pyProxy != nil {
		pyProxy.stop()
	}
	fmt.Printf("\nthrough the proxy / straight: %.0f %% (plain HTTP), %.0f %% (the proxy on a Unix socket), %.0f %% (HTTPS upstream); upload through the proxy: %.0f MiB/s\n",
		100*proxied/direct, 100*proxiedUnix/direct, 100*proxiedTLS/directTLS, upload)
	fmt.Printf("peak RSS of authx proxy: %.1f MiB (hmac, download), %.1f MiB (basic, upload), %.1f MiB (jwt, HTTPS download)\n", rssSigned, rssBasic, rssTLS)
	fmt.Printf("signed request overhead (median): %.0f µs", us(overhead))
	if pyProxy != nil {
		fmt.Printf(" (Go plugin), %.0f µs (Python plugin)", us(pyOverhead))
	}
	fmt.Println()

	checkLatency(*check, overhead, pyOverhead)
	if *check {
		switch {
		case proxied < 0.8*direct:
			fail("the proxy downloads at %.0f %% of straight, goal ≥ 80 %%", 100*proxied/direct)
		case max(rssSigned, rssBasic, rssTLS) >= 50:
			fail("peak RSS %.1f MiB, goal < 50 MiB", max(rssSigned, rssBasic, rssTLS))
		}
	}
}

// checkLatency fails when -check is set and the signing overhead (median
// over straight) misses a goal: ≤ 1 ms with the Go plugin, the Python one
// (0: not measured) within 2× of it.
func checkLatency(check bool, goOverhead, pyOverhead time.Duration) {
	switch {
	case !check:
	case goOverhead > time.Millisecond:
		fail("signing through the proxy costs %v over straight, goal ≤ 1 ms", goOverhead)
	case pyOverhead > 2*goOverhead:
		fail("signing with the Python plugin costs %v over straight, %.2f× the Go plugin's %v, goal ≤ 2×",
			pyOverhead, float64(pyOverhead)/float64(goOverhead), goOverhead)
	}
}

type proxyProc struct {
	c    *exec.Cmd
	base string
}

func startProxy(authx string, env []string, profile string, args ...string) *proxyProc {
	c := exec.Command(authx, append([]string{"proxy", profile, "-q"}, args...)...)
	c.Env = env
	c.Stderr = os.Stderr
	out, err := c.StdoutPipe()
	must(err)
	must(c.Start())
	running = append(running, c)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		c.Process.Kill()
		fail("authx proxy %s printed no URL: %v", profile, err)
	}
	return &proxyProc{c: c, base: strings.TrimSpace(line)}
}

// pluginPid returns the pid of the proxy's one child: its plugin.
func (p *proxyProc) pluginPid() int {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p.c.Process.Pid))
	must(err)
	var f []string
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		must(err)
		f = append(f, strings.Fields(string(b))...)
	}
	if len(f) != 1 {
		fail("authx proxy (pid %d) has children %v, want its plugin alone", p.c.Process.Pid, f)
	}
	pid, err := strconv.Atoi(f[0])
	must(err)
	return pid
}

// stop ends the proxy with SIGTERM and returns its peak RSS in MiB.
func (p *proxyProc) stop() float64 {
	p.c.Process.Signal(syscall.SIGTERM)
	if err := p.c.Wait(); err != nil {
		fail("authx proxy: %v", err)
	}
	return float64(p.c.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
}

// get sends n GETs one after the other and returns their durations.
func get(c *http.Client, u string, n int) []time.Duration {
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		resp, err := c.Get(u)
		must(err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fail("GET %s: %s", u, resp.Status)
		}
		out = append(out, time.Since(start))
	}
	return out
}

// curlRate runs curl on u and returns MiB/s; args may make it upload
// size bytes from its stdin.
func curlRate(name string, round int, u string, size int64, args ...string) float64 {
	c := exec.Command("curl", append([]string{"-sSf", "-o", "/dev/null", "-w", "%{size_download} %{size_upload}", "--noproxy", "*", u}, args...)...)
	if slices.Contains(args, "-T") {
		c.Stdin = io.LimitReader(zeros{}, size)
	}
	c.Stderr = os.Stderr
	start := time.Now()
	out, err := c.Output()
	if err != nil {
		fail("curl %s: %v", u, err)
	}
	d := time.Since(start)
	ru := c.ProcessState.SysUsage().(*syscall.Rusage)
	curlCPU := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	var down, up int64
	fmt.Sscan(string(out), &down, &up)
	if down != size && up < size { // an upload counts its chunk framing too
		fail("curl %s moved %d down, %d up; want %d", u, down, up, size)
	}
	rate := float64(size) / (1 << 20) / d.Seconds()
	fmt.Printf("%-56s %9.2fs %8.0f MiB/s   curl CPU %.2fs\n", fmt.Sprintf("%s (%d)", name, round+1), d.Seconds(), rate, curlCPU.Seconds())
	return rate
}

// cpuOf returns the user and system time process pid has used.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	must(err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat(5), in clock ticks
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "\nprocessor") + 1
}

// repoRoot is the module's root: the directory of go.mod above this one.
func repoRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	must(err)
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// selfSigned returns a TLS config with a new certificate for 127.0.0.1,
// written as PEM to caFile for the clients to trust.
func selfSigned(caFile string) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(err)
	must(os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func must(err error) {
	if err != nil {
		fail("%v", err)
	}
}

// running are the proxies to kill when the bench fails.
var running []*exec.Cmd

func fail(format string, args ...any) {
	for _, c := range running {
		if c.ProcessState == nil {
			c.Process.Kill()
		}
	}
	fmt.Fprintf(os.Stderr, "proxy bench: "+format+"\n", args...)
	os.Exit(1)
}
