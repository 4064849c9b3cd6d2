//go:build !linux

package main

import "net"

// ownerOnly returns l: outside Linux, authx cannot tell whose a loopback
// connection is (docs/proxy.md: prefer unix:PATH on a shared machine).
func ownerOnly(l net.Listener, refused func(format string, args ...any)) net.Listener { return l }
