//go:build !wasm

package proxywasm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

// TestWasm_AllocationLoad drives an allocation-heavy guest (testdata/load) through host/ in
// the envoy-1.33 profile, where only proxy_log, fd_write and clock_time_get may be called
// inside proxy_on_memory_allocate: a million values handed over by the host, with the Go GC
// running throughout, must not trap.
func TestWasm_AllocationLoad(t *testing.T) {
	module := wasmbuild.ModuleOrSkip(t, "./testdata/load") // -short skips the build and the load
	ctx := context.Background()
	p, err := host.New(ctx, host.Config{Module: module, Profile: host.Envoy133})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	vm := p.Worker(0)
	req := host.Headers{{":method", "GET"}, {":path", "/"}, {":authority", "a"},
		{"x-key", strings.Repeat("v", 40)}}
	const streams = 20000 // × 55 values handed over = 1.1 M allocations
	var early uint32
	for i := 0; i < streams; i++ {
		if i == streams/4 {
			early = vm.MemorySize()
		}
		s := vm.NewHTTPStream(host.Properties{})
		if st := s.RequestHeaders(req, true); st != host.Continue {
			t.Fatalf("stream %d: %v; logs %q", i, st, p.LogMessages(host.LogError))
		}
		if v, _ := s.Upstream().Headers.Get("x-total"); v != "ok" {
			t.Fatalf("stream %d: upstream %v", i, s.Upstream().Headers)
		}
		s.ResponseHeaders(host.Headers{{":status", "200"}}, true)
	}
	// Linear memory stays flat: nothing handed out by proxy_on_memory_allocate leaks.
	if late := vm.MemorySize(); late > early+4<<20 {
		t.Fatalf("linear memory grew from %d to %d bytes", early, late)
	}
	t.Logf("linear memory %d bytes after %d streams (%d at a quarter)", vm.MemorySize(), streams, early)
}
