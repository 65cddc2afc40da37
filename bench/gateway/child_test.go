package gatewaybench

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/syncbuf"
)

// gatewayBinary builds `iotauthz` (cmd/iotauthz) into the stack's directory, once.
func gatewayBinary(s *stack) (string, error) {
	return gatewaytest.Binary(s.dir)
}

// child is `iotauthz gateway` in a process of its own.
type child struct {
	cmd   *exec.Cmd
	addr  string
	admin string
	out   *syncbuf.Buffer
}

// startChild starts the gateway as `iotauthz gateway` would be run (2 workers, log level info)
// on the stack's plugin, configuration, certificate, authorizer and mosquitto, and waits until
// its admin listener says it is ready.
func startChild(s *stack, bin string) (*child, error) {
	wasm := filepath.Join(s.dir, "iotauthz.wasm")
	cfg := filepath.Join(s.dir, "plugin.json")
	if err := os.WriteFile(wasm, s.module, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfg, pluginConfig(s.key.PublicPEM), 0o644); err != nil {
		return nil, err
	}
	addrs, err := gatewaytest.FreeAddrs(2)
	if err != nil {
		return nil, err
	}
	addr, admin := addrs[0], addrs[1]
	g := &child{addr: addr, admin: admin, out: &syncbuf.Buffer{Max: 1 << 20}}
	g.cmd = exec.Command(bin, "gateway", "--wasm", wasm, "--config", cfg, "--listen", addr,
		"--cert", filepath.Join(s.dir, "server.pem"), "--key", filepath.Join(s.dir, "server-key.pem"),
		"--broker", "tcp://"+s.broker, "--cluster", "authorizer="+s.authURL, "--admin", admin,
		"--workers", "2", "--log-level", "info")
	g.cmd.Stdout, g.cmd.Stderr = g.out, g.out
	if err := g.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + admin + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g, nil
			}
		}
		if time.Now().After(deadline) {
			g.stop()
			return nil, fmt.Errorf("iotauthz gateway not ready after 30s: %v\n%s", err, tail(g.out.String(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the child: SIGTERM, then SIGKILL after 15 s.
func (g *child) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = g.cmd.Process.Kill()
		<-done
	}
}

// rss is the child's VmRSS in KiB.
func (g *child) rss() (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(g.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", g.cmd.Process.Pid)
}

// settledRSS samples the child's RSS every 500 ms until two samples in a row are within 1%
// of each other (the garbage of the storm collected, the memory the runtime keeps settled), at
// most 20 s, and returns the last.
func (g *child) settledRSS() (int64, error) {
	prev, err := g.rss()
	if err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		cur, err := g.rss()
		if err != nil {
			return 0, err
		}
		if d := cur - prev; d*100 <= prev && -d*100 <= prev {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}

// cpuTime is the child's user and system CPU time so far (/proc/PID/stat, in clock ticks of
// 10 ms).
func (g *child) cpuTime() time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(g.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	// After the command: state is field 3 of the file, utime 14 and stime 15 (1-based).
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}
