//go:build !linux

package exec

// adoptOrphans does nothing: only Linux has child subreapers. A killed
// child of the command is reaped by init.
func adoptOrphans() {}

func reapGroup(int) {}
