package config

import (
	"io/fs"
	"strings"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
)

// holdsCmd reports whether the raw tree v holds a cmd: reference anywhere:
// then the file decides which commands authx runs.
func holdsCmd(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.HasPrefix(t, "cmd:")
	case map[string]any:
		for _, e := range t {
			if holdsCmd(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if holdsCmd(e) {
				return true
			}
		}
	}
	return false
}

// runs names what the raw config makes authx run, for messages: "cmd:
// references" or "plugin paths" (a plugins.NAME.path or a profile's
// plugin.path, an executable of the file's choosing); "" when it names
// nothing to run.
func runs(raw map[string]any) string {
	if holdsCmd(raw) {
		return "cmd: references"
	}
	entries := []any{}
	if ps, ok := raw["plugins"].(map[string]any); ok {
		for _, e := range ps {
			entries = append(entries, e)
		}
	}
	if ps, ok := raw["profiles"].(map[string]any); ok {
		for _, p := range ps {
			if p, ok := p.(map[string]any); ok {
				entries = append(entries, p["plugin"])
			}
		}
	}
	for _, e := range entries {
		if e, ok := e.(map[string]any); ok && e["path"] != nil && e["path"] != "" {
			return "plugin paths"
		}
	}
	return ""
}

// checkMode refuses a file that makes authx run something (what: see runs)
// and that group or others may write, as ssh refuses such a config ("Bad
// owner or permissions"): another user could make authx run their command.
func checkMode(path, what string, mode fs.FileMode) error {
	if mode.Perm()&0o022 == 0 {
		return nil
	}
	return core.Errorf(core.KindConfig, "config %s: mode %04o lets other users edit it and it holds %s, which authx runs; fix it with: chmod go-w %s",
		path, mode.Perm(), what, path)
}

// checkOwner refuses a file that makes authx run something (what: see
// runs) and that neither the user running authx (uid me) nor root owns.
func checkOwner(path, what string, owner, me uint32) error {
	if owner == me || owner == 0 || owner == noOwner {
		return nil
	}
	return core.Errorf(core.KindConfig, "config %s: owned by uid %d, not by you (uid %d) or root, and it holds %s, which authx runs; use a copy of your own",
		path, owner, me, what)
}
