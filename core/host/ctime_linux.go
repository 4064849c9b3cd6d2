package host

import "syscall"

func sameCtime(a, b *syscall.Stat_t) bool { return a.Ctim == b.Ctim }
