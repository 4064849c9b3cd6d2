//go:build linux

// Command splicefloor measures how fast the best possible plain-HTTP
// proxy could be on this machine, the floor against which `authx proxy`'s
// download throughput goal (≥ 80 % of curl straight to the server) is
// judged. It runs, each in a process of its own on 127.0.0.1:
//
//   - a server sending -size bytes with a Content-Length;
//   - "copy": httputil.ReverseProxy over http.Transport with 256 KiB
//     buffers, the way `authx proxy` forwards (every byte read into user
//     space and written out again);
//   - "splice": a handler that does only the unavoidable work with no copy
//     through user space: it dials the server, writes the request with
//     (*http.Request).Write, parses the head with http.ReadResponse and
//     hands the body to the ResponseWriter as an *io.LimitedReader over
//     the *net.TCPConn, which net/http and the net package forward with
//     splice(2).
//
// curl downloads straight and through each, alternated round by round;
// the output is each proxy's throughput over the mean of the two straight
// downloads of its round (median and range) and the CPU time per GiB of
// each process. Nothing of authx runs: it is the floor, not a benchmark
// of authx.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "-serve" {
		serve(os.Args[2], os.Args[3])
		return
	}
	size := flag.Int64("size", 1<<30, "bytes per download")
	rounds := flag.Int("rounds", 6, "rounds, each downloading straight, through copy, through splice, straight")
	flag.Parse()

	server := start("server", strconv.FormatInt(*size, 10))
	copyProxy := start("copy", server.url)
	spliceProxy := start("splice", server.url)
	defer stopChildren()

	type sample struct{ rate, curl, server, proxy float64 } // MiB/s, CPU seconds per GiB
	results := map[string][]sample{}
	ratios := map[string][]float64{}
	gib := float64(*size) / (1 << 30)
	download := func(name, u string, proxy *child) sample {
		s0, p0 := cpuOf(server), cpuOf(proxy)
		rate, curlCPU := curl(u, *size)
		s := sample{rate, curlCPU / gib, (cpuOf(server) - s0) / gib, (cpuOf(proxy) - p0) / gib}
		results[name] = append(results[name], s)
		return s
	}
	fmt.Printf("%d MiB with curl on 127.0.0.1, %d rounds, %s, load average %s\n", *size>>20, *rounds, time.Now().UTC().Format(time.RFC3339), loadAvg())
	for i := range *rounds {
		a := download("straight", server.url, nil)
		c := download("copy", copyProxy.url, copyProxy)
		s := download("splice", spliceProxy.url, spliceProxy)
		b := download("straight", server.url, nil)
		straight := (a.rate + b.rate) / 2
		ratios["copy"] = append(ratios["copy"], c.rate/straight)
		ratios["splice"] = append(ratios["splice"], s.rate/straight)
		fmt.Printf("round %d: straight %4.0f/%4.0f MiB/s, copy %3.0f %%, splice %3.0f %%\n", i+1, a.rate, b.rate, 100*c.rate/straight, 100*s.rate/straight)
	}
	fmt.Println()
	for _, name := range []string{"straight", "copy", "splice"} {
		r := results[name]
		pick := func(f func(sample) float64) float64 {
			var v []float64
			for _, s := range r {
				v = append(v, f(s))
			}
			return median(v)
		}
		fmt.Printf("%-8s %5.0f MiB/s (median)   CPU per GiB: curl %.2fs, server %.2fs, proxy %.2fs", name,
			pick(func(s sample) float64 { return s.rate }), pick(func(s sample) float64 { return s.curl }),
			pick(func(s sample) float64 { return s.server }), pick(func(s sample) float64 { return s.proxy }))
		if v := ratios[name]; v != nil {
			fmt.Printf("   %.0f %% of straight (median; %.0f–%.0f %%)", 100*median(v), 100*slices.Min(v), 100*slices.Max(v))
		}
		fmt.Println()
	}
}

// serve runs one role in this process: it listens on 127.0.0.1, prints its
// URL and serves until killed.
func serve(role, arg string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	fmt.Println("http://" + ln.Addr().String() + "/")
	var h http.Handler
	switch role {
	case "server":
		size, err := strconv.ParseInt(arg, 10, 64)
		must(err)
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			io.CopyN(w, zeros{}, size)
		})
	case "copy":
		u, err := url.Parse(arg)
		must(err)
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableCompression = true
		t.ReadBufferSize, t.WriteBufferSize = 256<<10, 256<<10
		h = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }, Transport: t, BufferPool: bufferPool{}}
	case "splice":
		u, err := url.Parse(arg)
		must(err)
		h = spliceHandler{u.Host}
	default:
		fail("unknown role %q", role)
	}
	must(http.Serve(ln, h))
}

// spliceHandler forwards a GET to host on a connection of its own and
// hands a Content-Length body to the ResponseWriter as an
// *io.LimitedReader over the *net.TCPConn: net/http's ReadFrom then
// splices socket to socket.
type spliceHandler struct{ host string }

func (s spliceHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := net.Dial("tcp", s.host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer c.Close()
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host, out.RequestURI = "http", s.host, s.host, ""
	if err := out.Write(c); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, out)
	if err != nil || resp.ContentLength < 0 || len(resp.TransferEncoding) > 0 {
		http.Error(w, "not a Content-Length response", http.StatusBadGateway)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	buffered, _ := br.Peek(int(min(int64(br.Buffered()), resp.ContentLength)))
	w.Write(buffered)
	rest := resp.ContentLength - int64(len(buffered))
	if n, err := io.Copy(w, &io.LimitedReader{R: c, N: rest}); err != nil || n != rest {
		panic(http.ErrAbortHandler) // a short body: the client must see a broken response
	}
}

type child struct {
	cmd *exec.Cmd
	url string
}

// start runs this program again in role with arg and reads its URL.
func start(role, arg string) *child {
	self, err := os.Executable()
	must(err)
	c := exec.Command(self, "-serve", role, arg)
	c.Stderr = os.Stderr
	out, err := c.StdoutPipe()
	must(err)
	must(c.Start())
	children = append(children, c)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fail("%s printed no URL: %v", role, err)
	}
	return &child{cmd: c, url: strings.TrimSpace(line)}
}

// curl downloads u and returns MiB/s and curl's CPU seconds.
func curl(u string, size int64) (float64, float64) {
	c := exec.Command("curl", "-sSf", "-o", "/dev/null", "-w", "%{size_download}", "--noproxy", "*", u)
	c.Stderr = os.Stderr
	start := time.Now()
	out, err := c.Output()
	if err != nil {
		fail("curl %s: %v", u, err)
	}
	d := time.Since(start)
	if got, _ := strconv.ParseInt(string(out), 10, 64); got != size {
		fail("curl %s: %d bytes, want %d", u, got, size)
	}
	ru := c.ProcessState.SysUsage().(*syscall.Rusage)
	return float64(size) / (1 << 20) / d.Seconds(), float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// cpuOf returns the user and system seconds p has used; 0 for nil.
func cpuOf(p *child) float64 {
	if p == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	must(err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat(5), in clock ticks
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return float64(utime+stime) / 100
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// bufferPool hands ReverseProxy 256 KiB buffers, as authx proxy does.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func must(err error) {
	if err != nil {
		fail("%v", err)
	}
}

// children are the processes start started, stopped on the way out.
var children []*exec.Cmd

func stopChildren() {
	for _, c := range children {
		c.Process.Kill()
		c.Wait()
	}
}

func fail(format string, args ...any) {
	stopChildren()
	fmt.Fprintf(os.Stderr, "splicefloor: "+format+"\n", args...)
	os.Exit(1)
}
