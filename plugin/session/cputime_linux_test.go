//go:build linux

package session

import (
	"runtime"
	"syscall"
)

// threadCPU returns the CPU time (user + system) the current OS thread has used, in ns: on a
// machine shared with other work it measures the benchmark itself, not the time it waited.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func lockThread()   { runtime.LockOSThread() }
func unlockThread() { runtime.UnlockOSThread() }
