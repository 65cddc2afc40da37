//go:build !wasm

package main

import (
	"strings"
	"testing"
	"time"
)

// TestRefresh_HostileAnswers: an answer at refresh that is not JSON, is truncated, or is larger
// than the 64 KiB the plugin reads closes the connection with REFRESH_FAILED and the answer's
// fault in the details; the next client, answered well, connects and publishes.
func TestRefresh_HostileAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, body, why string
	}{
		{"not JSON", "<html>oops</html>", "AUTHORIZER_INVALID_RESPONSE"},
		{"truncated", refreshPolicy(10)[:40], "AUTHORIZER_INVALID_RESPONSE"},
		{"oversized", `{"isAuthenticated":true,"principalId":"` + strings.Repeat("a", 70000) + `"}`,
			"bytes, at most 65536 accepted"},
		{"empty", "", "AUTHORIZER_INVALID_RESPONSE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, p := refreshed(t, transports[0], "c1", respond(200, tc.body))
			refreshClosed(t, e, p, tc.why)
			e.auth.setAnswer(respond(200, refreshPolicy(10)))
			next := openTLS(e, 1)
			connect(t, e, next, 4, "c2")
			b0 := len(next.toBroker())
			next.client(publishPkt(4, "t/c2", 0, false, 0, "ok"))
			e.settle()
			if next.closed() || len(next.toBroker()) == b0 {
				t.Fatalf("the next client cannot publish\n%s", e.logs())
			}
		})
	}
}

// TestRefresh_StaleIfError: with cache.staleIfErrorSeconds (token scope, where decisions are
// kept by token), a refresh the authorizer fails keeps the connection on the expired decision,
// logged, and retries within the stale window (every 30 s, and when it ends), not a whole refresh
// interval later; once the window is over, a failed refresh closes the connection. Without the
// setting (AWS's behaviour), the first failed refresh closes it (TestAWSParity).
func TestRefresh_StaleIfError(t *testing.T) {
	e := newEnv(t, func(c map[string]any) {
		c["testOverrides"] = map[string]any{"minIntervalSeconds": 1}
		c["cache"] = map[string]any{"scope": "token", "maxEntries": 100, "staleIfErrorSeconds": 60}
	})
	start := e.clock.Now()
	e.auth.setAnswer(respond(200, refreshPolicy(100)))
	p := openTLS(e, 0)
	connect(t, e, p, 4, "c1") // the decision expires 100 s from now, the stale window 60 s later
	e.auth.setAnswer(respond(503, "down"))
	e.clock.Advance(101 * time.Second)
	e.settle()
	if p.closed() || e.auth.hits.Load() != 2 {
		t.Fatalf("closed %v after %d calls: the stale decision did not stand in\n%s", p.closed(), e.auth.hits.Load(), e.logs())
	}
	if l := lastDecision(e, "Connect"); l == nil || !strings.Contains(l["details"].(string), "stale decision served") {
		t.Fatalf("no stale line: %v", l)
	}
	b0 := len(p.toBroker())
	p.client(publishPkt(4, "t/c1", 0, false, 0, "still"))
	e.settle()
	if len(p.toBroker()) == b0 {
		t.Fatalf("the stale decision does not govern the publish\n%s", e.logs())
	}
	for !p.closed() && e.clock.Now().Sub(start) < 170*time.Second {
		e.clock.Advance(time.Second)
		e.settle()
	}
	refreshClosed(t, e, p, "AUTHORIZER_CALL_FAILED")
	if at := e.clock.Now().Sub(start); at < 160*time.Second || at > 162*time.Second {
		t.Fatalf("closed %v after the CONNECT, want when the stale window ends (160 s)", at)
	}
	if n := e.auth.hits.Load(); n != 4 {
		t.Errorf("%d calls, want 4: the CONNECT, the refresh, a retry 30 s later, one at the window's end", n)
	}
}
