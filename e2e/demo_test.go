package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/internal/syncbuf"
)

// TestDemo is `make run` as a person uses it: it starts `iotauthz demo`, takes the commands it
// prints and runs them as printed (through sh), and checks that each does what its comment says:
// the allowed publishes (MQTT and HTTPS) reach the subscriber, the denied publish, subscribe and
// HTTPS publish are refused. Then Ctrl-C (SIGINT) stops the demo cleanly.
func TestDemo(t *testing.T) {
	embeddedOnly(t, "the demo runs on loopback only")
	checkMosquitto(t, false)
	if _, err := exec.LookPath("curl"); err != nil {
		msg := "TestDemo needs curl: sudo apt-get install -y curl"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	pluginWasm(t) // builds the plugin into wasmPath
	dir := t.TempDir()
	bin := iotauthzBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	demo := exec.CommandContext(ctx, bin, "demo", "--wasm", wasmPath, "--listen", "127.0.0.1:0", "--dir", filepath.Join(dir, "demo"))
	stdout, err := demo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncbuf.Buffer{}
	demo.Stderr = stderr
	dieWithTest(demo)
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	defer demo.Process.Kill()
	logs := func() string { return "---- demo stderr ----\n" + stderr.String() }

	// The printed commands, in order.
	var printed []string
	var outMu sync.Mutex
	var out strings.Builder
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			outMu.Lock()
			out.WriteString(sc.Text() + "\n")
			outMu.Unlock()
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(60 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the demo stopped before printing its commands\n%s", logs())
			}
			if strings.HasPrefix(l, "mosquitto_") || strings.HasPrefix(l, "curl ") {
				printed = append(printed, l)
			}
			done = strings.Contains(l, "Ctrl-C stops everything")
		case <-deadline:
			t.Fatalf("the demo printed no commands within 60s\n%s", logs())
		}
	}
	go func() {
		for range lines {
		}
	}()
	if len(printed) != 6 {
		t.Fatalf("the demo printed %d commands, want 6:\n%s", len(printed), strings.Join(printed, "\n"))
	}
	subOK, pubOK, pubDenied, subDenied, curlOK, curlDenied := printed[0], printed[1], printed[2], printed[3], printed[4], printed[5]
	run := func(cmd string) string {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		b, err := exec.CommandContext(c, "sh", "-c", cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("%s\n%v\n%s\n%s", cmd, err, b, logs())
		}
		return string(b)
	}

	// 1 and 2, 5: the subscriber gets the MQTT and the HTTPS publish (it exits after two).
	sub := exec.CommandContext(ctx, "sh", "-c", subOK+" -C 2 -W 30")
	subOut := &syncbuf.Buffer{}
	sub.Stdout, sub.Stderr = subOut, subOut
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer sub.Process.Kill()
	subDone := make(chan error, 1)
	go func() { subDone <- sub.Wait() }()
	// mosquitto_sub's output is buffered on a pipe: the plugin's decision log says when it has
	// subscribed.
	eventually(t, 20*time.Second, func() bool {
		return strings.Contains(stderr.String(), `"eventType":"Subscribe","protocol":"MQTT","clientId":"sensor-1"`)
	}, func() string { return "sensor-1 did not subscribe\n" + subOut.String() + logs() })
	if o := run(pubOK); strings.TrimSpace(o) != "" {
		t.Errorf("allowed mosquitto_pub printed %q", o)
	}
	if o := run(curlOK); !strings.Contains(o, `"message":"OK"`) || !strings.Contains(o, "HTTP 200") {
		t.Errorf("allowed HTTPS publish: %q\n%s", o, logs())
	}
	select {
	case err := <-subDone:
		if err != nil {
			t.Fatalf("mosquitto_sub: %v\n%s\n%s", err, subOut, logs())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("mosquitto_sub did not receive two messages:\n%s\n%s", subOut, logs())
	}
	if got, want := strings.TrimSpace(subOut.String()), "demo/sensor-1/temperature 21.5\ndemo/sensor-1/humidity 40"; got != want {
		t.Errorf("mosquitto_sub printed %q, want %q", got, want)
	}

	// 3, 4, 6: refused, as the comments say.
	if o := run(pubDenied); !strings.Contains(o, "Not authorized") {
		t.Errorf("denied mosquitto_pub printed %q, want the PUBACK's Not authorized\n%s", o, logs())
	}
	if o := run(subDenied); !strings.Contains(o, "All subscription requests were denied") {
		t.Errorf("denied mosquitto_sub printed %q\n%s", o, logs())
	}
	if o := run(curlDenied); !strings.Contains(o, `"message":"Forbidden"`) || !strings.Contains(o, "HTTP 403") {
		t.Errorf("denied HTTPS publish: %q\n%s", o, logs())
	}

	// Ctrl-C: a clean stop.
	if err := demo.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- demo.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the demo exited with %v after SIGINT\n%s", err, logs())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the demo still runs 15s after SIGINT\n%s", logs())
	}
	outMu.Lock()
	defer outMu.Unlock()
	if !strings.Contains(out.String(), "iotauthz demo: stopping") {
		t.Errorf("no stop message in:\n%s", out.String())
	}
}
