package plugintest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// hostDeathLimit is how long a plugin may outlive its killed host.
const hostDeathLimit = 5 * time.Second

// check is one named step of the suite. It returns its status and detail;
// the runner times it and bounds it with the per-check timeout plus extra.
type check struct {
	name  string
	run   func(ctx context.Context) (Status, string)
	extra time.Duration
}

// runner carries what one check learns for the next ones.
type runner struct {
	o      Options
	host   *host.Host
	stdout *syncBuffer

	plugin    *host.Plugin // nil until the handshake passed
	raw       pluginv1.AuthSchemeClient
	desc      core.Description
	described bool
	cred      *core.Credential // the login's credential
	noCred    string           // why there is none
	asked     []string         // the prompt ids Login asked for
	ui        kitUI            // what the logins showed
}

// Run starts the plugin at o.Path and runs every check against it. It
// always returns one Result per check, in a fixed order, and kills every
// process it started and removes every directory it made before returning.
func Run(ctx context.Context, o Options) Report {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.URL == "" {
		o.URL = DefaultURL
	}
	r := &runner{o: o, stdout: &syncBuffer{}, noCred: "no Config given"}
	r.host = host.New(host.Options{StartTimeout: o.Timeout, Stdout: r.stdout, Logger: o.Logger})
	defer r.host.Close()
	var report Report
	for _, c := range r.checks() {
		report = append(report, r.run(ctx, c))
	}
	return report
}

func (r *runner) checks() []check {
	return []check{
		{name: "handshake", run: r.handshake},
		{name: "health", run: r.health},
		{name: "describe", run: r.describe},
		{name: "describe is cheap", run: r.describeIsCheap},
		{name: "config schema", run: r.configSchema},
		{name: "configure rejects an unknown key", run: r.rejectsUnknownKey},
		{name: "configure rejects a wrong type", run: r.rejectsWrongType},
		{name: "configure accepts the config", run: r.acceptsConfig},
		{name: "login", run: r.login},
		{name: "login rejects a bad config", run: r.loginRejectsBadConfig},
		{name: "input required", run: r.inputRequired},
		{name: "login stream", run: r.loginStream},
		{name: "login without a UI", run: r.loginWithoutUI},
		{name: "refresh", run: r.refresh},
		{name: "apply", run: r.apply},
		{name: "handle challenge", run: r.handleChallenge},
		{name: "second refusal", run: r.secondRefusal},
		{name: "logout", run: r.logout},
		{name: "run action", run: r.runAction},
		{name: "stdout stays clean", run: r.stdoutClean},
		{name: "shutdown", run: r.shutdown},
		{name: "exits when its host dies", run: r.exitsWithHost, extra: hostDeathLimit},
	}
}

// run runs one check, unless the plugin never started.
func (r *runner) run(ctx context.Context, c check) Result {
	res := Result{Check: c.name}
	if r.plugin == nil && c.name != "handshake" {
		res.Status, res.Detail = Skip, "the plugin did not start"
		return res
	}
	cctx, cancel := context.WithTimeout(ctx, r.o.Timeout+c.extra)
	defer cancel()
	start := time.Now()
	res.Status, res.Detail = c.run(cctx)
	res.Duration = time.Since(start)
	return res
}

// config is the profile config the calls carry (nil when none was given).
func (r *runner) config() core.Config {
	if r.o.Config == nil {
		return nil
	}
	return core.Config(r.o.Config)
}

// configWith returns a copy of the config (or an empty one) with key set.
func (r *runner) configWith(key string, v any) core.Config {
	cfg := make(core.Config, len(r.o.Config)+1)
	for k, e := range r.o.Config {
		cfg[k] = e
	}
	cfg[key] = v
	return cfg
}

// schemeOf returns the scheme a plugin file name promises: <x> for
// authx-plugin-<x>, else "".
func schemeOf(path string) string {
	name := filepath.Base(path)
	if runtime.GOOS == "windows" {
		name = strings.TrimSuffix(name, ".exe")
	}
	scheme, _ := strings.CutPrefix(name, host.BinaryPrefix)
	if scheme == name {
		return ""
	}
	return scheme
}

// hostScheme is the scheme name the host starts the plugin under; the host
// needs a valid one even for a file not named authx-plugin-<scheme>.
func hostScheme(path string) string {
	if s := schemeOf(path); host.ValidSchemeName(s) {
		return s
	}
	return "plugin"
}

// syncBuffer collects the plugin's stdout, written from go-plugin's
// goroutine while the checks run.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// list joins items for a Detail: "a, b and c".
func list(items []string) string {
	switch len(items) {
	case 0:
		return "none"
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// failures turns problems into a result: Pass with ok when there are none.
func failures(problems []string, ok string) (Status, string) {
	if len(problems) > 0 {
		return Fail, strings.Join(problems, "; ")
	}
	return Pass, ok
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
