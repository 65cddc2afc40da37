//go:build !linux

package session

func threadCPU() int64 { return -1 }
func lockThread()      {}
func unlockThread()    {}
