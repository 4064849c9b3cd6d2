//go:build !unix

package browser

import "os/exec"

// detach does nothing here: the standard streams are already the null
// device.
func detach(*exec.Cmd) {}
