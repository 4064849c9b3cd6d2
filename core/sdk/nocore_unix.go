//go:build unix

package sdk

import "golang.org/x/sys/unix"

// disableCoreDumps keeps the secrets a plugin holds (its resolved config,
// the credentials it makes) out of core files: the core size limit is 0,
// soft and hard (authx already starts its plugins so; this also covers a
// plugin started some other way). On Linux the plugin is also made
// non-dumpable, which keeps other processes of the same user from attaching
// to it with ptrace or reading its /proc memory. Failures are ignored.
func disableCoreDumps() {
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	setNonDumpable()
}
