package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/internal/syncbuf"
)

func TestAuthorizerCommand(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.json")
	os.WriteFile(rules, []byte(`{"rules":[{"match":{"token":"ok"},"isAuthenticated":true,"principalId":"p1"}]}`), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	reload := make(chan os.Signal, 1)
	pr, pw := io.Pipe()
	var stderr syncbuf.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- serveAuthorizer(ctx, reload, []string{"--rules", rules, "--listen", "127.0.0.1:0", "--admin"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v; stderr %s", err, stderr.String())
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "iotauthz authorizer: listening on "))
	ask := func() string {
		resp, err := http.Post(url+"/authorize", "application/json", strings.NewReader(`{"token":"ok"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := ask(); !strings.Contains(got, `"isAuthenticated":true,"principalId":"p1"`) {
		t.Fatalf("answer %s", got)
	}

	// A broken file keeps the old rules; a good one replaces them.
	os.WriteFile(rules, []byte(`{"rules":[{"match":{"tokn":"ok"}}]}`), 0o644)
	reload <- syscall.SIGHUP
	waitFor(t, func() bool { return strings.Contains(stderr.String(), "reload failed") })
	if got := ask(); !strings.Contains(got, `"principalId":"p1"`) {
		t.Fatalf("after a bad reload: %s", got)
	}
	os.WriteFile(rules, []byte(`{"rules":[{"match":{"token":"ok"},"isAuthenticated":true,"principalId":"p2"}]}`), 0o644)
	reload <- syscall.SIGHUP
	waitFor(t, func() bool { return strings.Contains(stderr.String(), "reloaded 1 rules") })
	if got := ask(); !strings.Contains(got, `"principalId":"p2"`) {
		t.Fatalf("after reload: %s", got)
	}
	if resp, err := http.Get(url + "/admin/hits?token=ok"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("--admin: %v", err)
	} else if b, _ := io.ReadAll(resp.Body); strings.TrimSpace(string(b)) != `{"hits":3}` {
		t.Fatalf("admin hits %s", b)
	}
	cancel()
	waitExit(t, exit, 5*time.Second, &stderr)
	if log := stderr.String(); !strings.Contains(log, `token "ok" hit 1 rule #0: 200 isAuthenticated=true`) || !strings.Contains(log, "stopped after 3 requests") {
		t.Errorf("log:\n%s", log)
	}
}

func TestAuthorizerCommand_Errors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"rules":[{"match":{"protocol":"x"}}]}`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "--rules is required"},
		{[]string{"--rules", filepath.Join(dir, "none.json")}, 1, "no such file"},
		{[]string{"--rules", bad}, 1, "rules[0].match.protocol"},
		{[]string{"--rules", bad, "extra"}, 2, "unexpected argument"},
	} {
		var out, errb bytes.Buffer
		code := serveAuthorizer(context.Background(), nil, tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.msg) {
			t.Errorf("%v: exit %d %q; want %d %q", tc.args, code, errb.String(), tc.code, tc.msg)
		}
	}
}

// waitExit waits up to d for the exit code of a command run in a goroutine and stopped by its
// context; the code must be 0.
func waitExit(t *testing.T, code <-chan int, d time.Duration, stderr fmt.Stringer) {
	t.Helper()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d after the signal\n%s", c, stderr.String())
		}
	case <-time.After(d):
		t.Fatalf("still running %v after the signal", d)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}
