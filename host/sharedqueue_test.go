package host_test

import (
	"context"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/host"
)

func queueReq(action string, kv ...string) host.Headers {
	h := host.Headers{{":method", "GET"}, {":path", "/"}, {":authority", "a"}, {"x-action", action}}
	for i := 0; i+1 < len(kv); i += 2 {
		h = append(h, [2]string{kv[i], kv[i+1]})
	}
	return h
}

// Shared queues as proxy-wasm-cpp-host runs them (src/shared_queue.cc,
// src/context.cc registerSharedQueue/lookupSharedQueue, src/exports.cc): a
// queue registered in proxy_on_configure, filled from another plugin of the
// vm_id and from another vm_id, is drained in proxy_on_queue_ready on the
// registrant's root context; unknown queues are NotFound, an empty one is
// Empty (7); registering a name again keeps its token.
func TestSharedQueue(t *testing.T) {
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		vmID := uniqueVMID(t)
		owner, _ := newPlugin(t, host.Config{Module: guest(t, "multiplugin"), Profile: profile, VMID: vmID, PluginConfig: []byte("queue-owner")})
		if !hasLog(owner, "register st=0 queue=") {
			t.Fatalf("register: %v", owner.Logs())
		}
		producer, _ := newPlugin(t, host.Config{Module: guest(t, "multiplugin"), Profile: profile, VMID: vmID, PluginConfig: []byte("producer")})
		got := localBody(t, producer.Worker(0), queueReq("enqueue", "x-queue", "jobs", "x-value", "first"))
		if !strings.HasPrefix(got, "resolve=0 id=") || !strings.HasSuffix(got, " enqueue=0") {
			t.Fatalf("enqueue from the same vm_id: %q", got)
		}
		other, _ := newPlugin(t, host.Config{Module: guest(t, "multiplugin"), Profile: profile, PluginConfig: []byte("other")})
		got = localBody(t, other.Worker(0), queueReq("enqueue", "x-vm-id", vmID, "x-queue", "jobs", "x-value", "second"))
		if !strings.HasSuffix(got, " enqueue=0") {
			t.Fatalf("enqueue from another vm_id: %q", got)
		}
		// Another vm_id's own namespace does not have the queue.
		got = localBody(t, other.Worker(0), queueReq("enqueue", "x-queue", "jobs", "x-value", "lost"))
		if !strings.HasPrefix(got, "resolve=1 ") || !strings.HasSuffix(got, " enqueue=1") {
			t.Fatalf("resolve in another vm_id's namespace: %q", got)
		}
		settle(t, owner)
		settle(t, producer)
		settle(t, other)
		ready := localBody(t, owner.Worker(0), queueReq("ready"))
		if !strings.HasPrefix(ready, "1:") || !strings.Contains(ready, " first") || !strings.Contains(ready, " second") || !strings.Contains(ready, "end=7") || strings.Contains(ready, "lost") {
			t.Fatalf("proxy_on_queue_ready on the owner's root: %q", ready)
		}
		got = localBody(t, producer.Worker(0), queueReq("queue-errors"))
		if want := "dequeue_unknown=1 enqueue_unknown=1 resolve_unknown=1 empty=7 same_id=true bad_memory=6,6,6"; got != want {
			t.Fatalf("errors: %q, want %q", got, want)
		}
		// The queues of a vm_id go with its last plugin.
		owner.Close()
		producer.Close()
		got = localBody(t, other.Worker(0), queueReq("enqueue", "x-vm-id", vmID, "x-queue", "jobs", "x-value", "late"))
		if !strings.HasPrefix(got, "resolve=1 ") {
			t.Fatalf("queue outlived its vm_id: %q", got)
		}
	})
}

// A plugin that joined another's VM registers its own queue: the callback
// goes to its root context (2), not the first plugin's.
func TestSharedQueue_JoinedPluginRoot(t *testing.T) {
	first, _ := newPlugin(t, host.Config{Module: guest(t, "multiplugin"), PluginConfig: []byte("first")})
	second, err := first.Join(context.Background(), host.Config{PluginConfig: []byte("queue-owner")})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	localBody(t, first.Worker(0), queueReq("enqueue", "x-queue", "jobs", "x-value", "v"))
	settle(t, first)
	if got := localBody(t, first.Worker(0), queueReq("ready")); !strings.HasPrefix(got, "2:") {
		t.Fatalf("ready: %q", got)
	}
}
