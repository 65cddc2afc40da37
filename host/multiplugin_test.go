package host_test

import (
	"context"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/host"
)

// whoami runs one request with x-action whoami on vm and returns the body.
func whoami(t *testing.T, vm *host.VM) string {
	t.Helper()
	return localBody(t, vm, host.Headers{{":method", "GET"}, {":path", "/"}, {":authority", "a"}, {"x-action", "whoami"}})
}

// Envoy runs plugins with one vm_id, VM configuration and code in one
// instance per worker: WasmBase::start gives each plugin its root context
// with the VM's next context id, and each runs proxy_on_context_create,
// proxy_on_vm_start and proxy_on_configure
// (proxy-wasm-cpp-host src/wasm.cc WasmBase::start, src/context.cc
// ContextBase::onStart/onConfigure; Envoy source/extensions/common/wasm/wasm.cc
// createWasm keys VMs by makeVmKey(vm_id, vm configuration, code)).
func TestPlugin_Join(t *testing.T) {
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		net, _ := newPlugin(t, host.Config{Module: guest(t, "multiplugin"), Profile: profile, Workers: 2,
			RootID: "net", PluginName: "iotauthz-net", PluginConfig: []byte("A")})
		httpP, err := net.Join(context.Background(), host.Config{RootID: "http", PluginName: "iotauthz-http", PluginConfig: []byte("B")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { httpP.Close() })
		for i := 0; i < 2; i++ {
			if a, b := net.Worker(i).RootContextID(), httpP.Worker(i).RootContextID(); a != 1 || b != 2 {
				t.Fatalf("worker %d: root ids %d, %d; want 1, 2", i, a, b)
			}
			if net.Worker(i).MemorySize() != httpP.Worker(i).MemorySize() {
				t.Fatalf("worker %d: two memories: not one instance", i)
			}
		}
		// Both configure calls ran in the same instance: the second saw two vm_starts.
		if !hasLog(net, "configure root=2 config=B vm_starts=2") {
			t.Fatalf("logs: %v", net.Logs())
		}
		// One Go global, two plugins: the counter goes on across them.
		got := whoami(t, net.Worker(0))
		if !strings.Contains(got, "root=1 config=A counter=1 name=iotauthz-net root_id=net") {
			t.Fatalf("plugin 1: %q", got)
		}
		got = whoami(t, httpP.Worker(0))
		if !strings.Contains(got, "root=2 config=B counter=2 name=iotauthz-http root_id=http") {
			t.Fatalf("plugin 2: %q", got)
		}
		// Worker 1 is another instance: its own globals.
		got = whoami(t, httpP.Worker(1))
		if !strings.Contains(got, "root=2 config=B counter=1") {
			t.Fatalf("plugin 2, worker 1: %q", got)
		}
		// Closing one plugin leaves the other running in the same instance.
		net.Close()
		got = whoami(t, httpP.Worker(0))
		if !strings.Contains(got, "root=2 config=B counter=3") {
			t.Fatalf("after closing plugin 1: %q", got)
		}
	})
}

func TestPlugin_JoinRefusesAnotherVMKey(t *testing.T) {
	p, _ := newPlugin(t, host.Config{Module: guest(t, "multiplugin"), PluginConfig: []byte("A")})
	for _, cfg := range []host.Config{
		{VMID: "other", PluginConfig: []byte("B")},
		{VMConfig: []byte("other"), PluginConfig: []byte("B")},
		{Module: guest(t, "passthrough"), PluginConfig: []byte("B")},
	} {
		if q, err := p.Join(context.Background(), cfg); err == nil {
			q.Close()
			t.Fatalf("Join(%+v) accepted another vm key", cfg)
		}
	}
	// A plugin whose configure fails is refused, and the VM goes on.
	p.Close()
	if _, err := p.Join(context.Background(), host.Config{PluginConfig: []byte("B")}); err == nil {
		t.Fatal("Join on a closed plugin")
	}
}
