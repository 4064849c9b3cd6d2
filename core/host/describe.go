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
	key := describeEntry{Size: fi.Size(), ModTime: fi.ModTime().UTC(), Inode: inode(fi)}
	c := h.loadDescribeCache()
	if e, ok := c.Entries[path]; ok && e.Size == key.Size && e.ModTime.Equal(key.ModTime) && e.Inode == key.Inode {
		return e.Description, path, nil
	}
	p, err := h.start(ctx, path, spec.Scheme, hashed)
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
