//go:build !unix

package main

import (
	"os"
	"syscall"
)

func detached() *syscall.SysProcAttr { return nil }

// noFollow: no such open flag here.
const noFollow = 0

// ownedByMe: no owner to check here.
func ownedByMe(os.FileInfo) bool { return true }
