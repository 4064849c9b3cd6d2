//go:build !linux

package pluginproc

import "errors"

// Prestarted is a plugin process started by Prestart (Linux only).
type Prestarted struct{ Handover }

// Prestart is Linux-only: elsewhere authx-cli starts its plugin itself.
func Prestart(path string, env []string, socketBase string) (*Prestarted, error) {
	return nil, errors.New("no plugin handover on this system")
}

// Abort does nothing: nothing is ever prestarted here.
func (p *Prestarted) Abort() {}
