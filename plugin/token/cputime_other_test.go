//go:build !unix

package token

func cpuTime() int64 { return 0 }
