//go:build unix

package sdk

import "syscall"

// disableCoreDumps keeps the secrets a plugin holds (its resolved config,
// the credentials it makes) out of core files: the core size limit is 0,
// soft and hard. authx already starts its plugins so; this also covers a
// plugin started some other way. (The plugin stays dumpable, unlike
// authx: the host checks a pinned plugin's /proc/PID/exe after starting
// it.) A failure is ignored.
func disableCoreDumps() { syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}) }
