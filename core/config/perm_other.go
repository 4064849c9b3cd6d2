//go:build !unix

package config

import "io/fs"

const nonblock = 0

// noOwner is the owner of a file whose owner is unknown.
const noOwner = ^uint32(0)

// fileOwner is unknown here: file ownership is not a uid.
func fileOwner(fs.FileInfo) uint32 { return noOwner }
