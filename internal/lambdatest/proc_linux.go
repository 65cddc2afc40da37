package lambdatest

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the emulator and the function it starts in a process group of their own,
// killed with the test binary (Pdeathsig) or by killGroup.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
}
