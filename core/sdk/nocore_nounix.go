//go:build !unix

package sdk

// disableCoreDumps does nothing where there is no core size limit.
func disableCoreDumps() {}
