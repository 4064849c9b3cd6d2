package config

import (
	"io/fs"
	"strings"

	"github.com/authx/authx/core"
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

// checkMode refuses a file that holds cmd: references and that group or
// others may write, as ssh refuses such a config ("Bad owner or
// permissions"): another user could make authx run their command.
func checkMode(path string, mode fs.FileMode) error {
	if mode.Perm()&0o022 == 0 {
		return nil
	}
	return core.Errorf(core.KindConfig, "config %s: mode %04o lets other users edit it and it holds cmd: references, which authx runs; fix it with: chmod go-w %s",
		path, mode.Perm(), path)
}

// checkOwner refuses a file that holds cmd: references and that neither
// the user running authx (uid me) nor root owns.
func checkOwner(path string, owner, me uint32) error {
	if owner == me || owner == 0 || owner == noOwner {
		return nil
	}
	return core.Errorf(core.KindConfig, "config %s: owned by uid %d, not by you (uid %d) or root, and it holds cmd: references, which authx runs; use a copy of your own",
		path, owner, me)
}
