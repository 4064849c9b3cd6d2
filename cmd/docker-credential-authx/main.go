// Command docker-credential-authx is authx's docker credential helper: the
// executable docker, skopeo, podman, buildah and crane run for a registry
// whose credHelpers entry is "authx". It runs `authx-cli docker-credential
// ARGS` (else `authx docker-credential ARGS`) from its own directory, where
// `make install` puts them all, with its stdin, stdout and stderr: authx
// speaks the protocol. It links nothing of authx (no plugin machinery, no
// HTTP), so that authx stays one program with one set of rules.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

func main() {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		fail(8, "docker-credential-authx: cannot find its own executable: "+err.Error())
	}
	suffix := ""
	if runtime.GOOS == "windows" {
		suffix = ".exe"
	}
	for _, name := range []string{"authx-cli", "authx"} {
		p := filepath.Join(filepath.Dir(exe), name+suffix)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			code, err := run(p, append([]string{p, "docker-credential"}, os.Args[1:]...))
			if err != nil {
				fail(8, "docker-credential-authx: running "+p+": "+err.Error())
			}
			os.Exit(code)
		}
	}
	fail(8, "docker-credential-authx: no authx-cli or authx beside "+exe)
}

// fail reports on stdout, where the tool reads a helper's error, and exits.
func fail(code int, msg string) {
	fmt.Println(msg)
	os.Exit(code)
}
