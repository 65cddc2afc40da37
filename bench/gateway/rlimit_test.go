package gatewaybench

import "syscall"

// wantFiles is the descriptor limit BenchmarkGatewayIdle10k needs: the gateway holds two per
// connection (client and broker), this process and mosquitto one each, plus headroom.
const wantFiles = 32768

// raiseFileLimit raises RLIMIT_NOFILE to wantFiles (its hard limit too, which needs root or
// CAP_SYS_RESOURCE when the hard limit is lower), explicitly, so that the children started
// afterwards (mosquitto, the gateway) inherit it. It returns the soft limit in force.
func raiseFileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	if r.Cur >= wantFiles {
		return r.Cur
	}
	want := syscall.Rlimit{Cur: wantFiles, Max: max(r.Max, wantFiles)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		// Not allowed above the hard limit: take the hard limit.
		want = syscall.Rlimit{Cur: r.Max, Max: r.Max}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
	}
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	return r.Cur
}
