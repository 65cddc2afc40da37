package gatewaytest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
)

var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the iotauthz command (cmd/iotauthz) into dir the first time a process calls it,
// and returns that file's path, or the build's error with its output, on every call: tests that run
// `iotauthz gateway` as a person runs it build it once. dir must outlive the process's tests.
func Binary(dir string) (string, error) {
	binary.once.Do(func() {
		binary.path = filepath.Join(dir, "iotauthz")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/iotauthz/iotauthz/cmd/iotauthz").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("building cmd/iotauthz: %v\n%s", err, out)
		}
	})
	return binary.path, binary.err
}
