//go:build !linux

package e2e

import "os/exec"

// dieWithTest is a no-op where Pdeathsig does not exist; TestMain still stops the processes.
func dieWithTest(*exec.Cmd) {}
