//go:build unix

package main

import "golang.org/x/sys/unix"

// disableCoreDumps keeps the secrets in authx's memory (passwords,
// tokens) out of core files: the core size limit is 0, soft and hard, for
// authx and so for every process it starts (plugins, wrapped commands),
// which cannot raise it again. On Linux authx is also made non-dumpable,
// which also keeps processes of the same user from attaching to it with
// ptrace or reading its /proc memory; a program it execs is dumpable again
// (the kernel resets the flag on exec), but keeps the 0 limit. Failures are
// ignored: a sandbox may forbid both, and authx still works.
func disableCoreDumps() {
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	setNonDumpable()
}
