package host

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/authx/authx/core"
)

// describeCacheVersion changes whenever the cached form changes.
const describeCacheVersion = 1

type describeCache struct {
	Version int                      `json:"version"`
	Entries map[string]describeEntry `json:"entries"` // by absolute path
}

type describeEntry struct {
	Size        int64            `json:"size"`
	ModTime     time.Time        `json:"mod_time"`
	Inode       uint64           `json:"inode"`
	Description core.Description `json:"description"`
}

// Describe returns the description of the plugin for spec, from the
// on-disk cache when the binary's (path, size, mtime, inode) is unchanged,
// else by starting the plugin once. A checksum pin is checked first, before
// the cache is consulted or anything is started: a plugin that does not
// match its pin is never run and never described (core.KindPluginIntegrity).
func (h *Host) Describe(ctx context.Context, spec Spec) (core.Description, string, error) {
	path, err := h.Locate(spec)
	if err != nil {
		return core.Description{}, "", err
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	hashed, err := verify(path, spec)
	if err != nil {
		return core.Description{}, path, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return core.Description{}, "", core.Wrap(core.KindPluginNotFound, err, "plugin")
	}
	key := entryKey(fi)
	c := h.loadDescribeCache()
	if e, ok := c.Entries[path]; ok && e.same(key) {
		return e.Description, path, nil
	}
	p, err := h.start(ctx, path, spec.Scheme, hashed, spec.SHA256 != "")
	if err != nil {
		return core.Description{}, "", err
	}
	defer p.Kill()
	d, err := p.Client.Describe(ctx)
	if err != nil {
		return core.Description{}, "", err
	}
	if d.Name != spec.Scheme {
		return core.Description{}, "", core.Errorf(core.KindPlugin, "plugin %s describes itself as scheme %q, not %q", path, d.Name, spec.Scheme)
	}
	key.Description = d
	c.Entries[path] = key
	h.saveDescribeCache(c)
	return d, path, nil
}

// DescribeRunning returns the description of the running plugin p: from
// the on-disk cache when it holds one for p's executable as it is now
// (path, size, mtime, inode) and for p's scheme, else from a Describe call,
// whose answer is then cached. Either way p's client is set up for the
// plugin's protocol minor. p's executable passed its pin check before it
// was started (Start).
func (h *Host) DescribeRunning(ctx context.Context, p *Plugin) (core.Description, error) {
	path, err := filepath.Abs(p.Path)
	fi, serr := os.Stat(path)
	if err != nil || serr != nil || h.opts.DescribeCache == "" {
		return p.Client.Describe(ctx)
	}
	key := entryKey(fi)
	c := h.loadDescribeCache()
	if e, ok := c.Entries[path]; ok && e.same(key) && e.Description.Name == p.Scheme {
		p.Client.Described(e.Description)
		return e.Description, nil
	}
	d, err := p.Client.Describe(ctx)
	if err == nil && d.Name == p.Scheme {
		key.Description = d
		c.Entries[path] = key
		h.saveDescribeCache(c)
	}
	return d, err
}

// entryKey is the identity of an executable its description is cached by.
func entryKey(fi os.FileInfo) describeEntry {
	return describeEntry{Size: fi.Size(), ModTime: fi.ModTime().UTC(), Inode: inode(fi)}
}

// same reports whether e was cached for the executable whose identity is key.
func (e describeEntry) same(key describeEntry) bool {
	return e.Size == key.Size && e.ModTime.Equal(key.ModTime) && e.Inode == key.Inode
}

func (h *Host) loadDescribeCache() *describeCache {
	c := &describeCache{Version: describeCacheVersion, Entries: map[string]describeEntry{}}
	if h.opts.DescribeCache == "" {
		return c
	}
	data, err := os.ReadFile(h.opts.DescribeCache)
	if err != nil {
		return c
	}
	var got describeCache
	if json.Unmarshal(data, &got) != nil || got.Version != describeCacheVersion || got.Entries == nil {
		return c
	}
	return &got
}

// saveDescribeCache writes the cache best-effort: a failure only costs a
// plugin start next time.
func (h *Host) saveDescribeCache(c *describeCache) {
	if h.opts.DescribeCache == "" {
		return
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return
	}
	dir := filepath.Dir(h.opts.DescribeCache)
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".plugins-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), h.opts.DescribeCache) != nil {
		os.Remove(tmp.Name())
		h.opts.Logger.Debug("could not save the plugin description cache", "error", fmt.Sprint(werr, cerr))
	}
}

// Installed lists the plugin executables in the search path, first one of
// each scheme name winning (as Locate would choose). Only `authx plugins
// list` scans; nothing on a hot path calls it.
func (h *Host) Installed() []Spec {
	seen := map[string]bool{}
	var out []Spec
	for _, dir := range h.opts.SearchPath {
		matches, _ := filepath.Glob(filepath.Join(dir, BinaryPrefix+"*"))
		for _, m := range matches {
			name := filepath.Base(m)[len(BinaryPrefix):]
			name = trimExe(name)
			if !ValidSchemeName(name) || seen[name] || checkExecutable(m) != nil {
				continue
			}
			seen[name] = true
			out = append(out, Spec{Scheme: name, Path: m})
		}
	}
	return out
}
