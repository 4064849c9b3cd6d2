// Package pyplugin finds the Python HMAC example plugin
// (docs/examples/hmac-signer-python) for the benchmarks that time it next
// to the Go one, and a python3 that can run it.
package pyplugin

import (
	"os"
	"os/exec"
	"path/filepath"
)

// Find returns the plugin's path under the repository root and the PATH
// under which its `#!/usr/bin/env python3` finds grpcio and protobuf: the
// first python3 on PATH, or Debian's /usr/bin/python3 through a link made
// in dir. plugin is "" when no python3 has them.
func Find(root, dir string) (plugin, path string, err error) {
	plugin, err = filepath.Abs(filepath.Join(root, "docs", "examples", "hmac-signer-python", "authx-plugin-hmac"))
	if err != nil {
		return "", "", err
	}
	hasModules := func(py string) bool { return exec.Command(py, "-c", "import grpc, google.protobuf").Run() == nil }
	path = os.Getenv("PATH")
	if first, err := exec.LookPath("python3"); err == nil && hasModules(first) {
		return plugin, path, nil
	}
	if !hasModules("/usr/bin/python3") {
		return "", path, nil
	}
	link := filepath.Join(dir, "python")
	if err := os.MkdirAll(link, 0o700); err != nil {
		return "", path, err
	}
	if err := os.Symlink("/usr/bin/python3", filepath.Join(link, "python3")); err != nil {
		return "", path, err
	}
	return plugin, link + string(os.PathListSeparator) + path, nil
}
