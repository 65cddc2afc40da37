//go:build unix

package token

import "syscall"

// cpuTime returns the process's user+system CPU time in nanoseconds; the benchmarks report it
// per op as well because wall time is unreliable on a shared, loaded machine.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
