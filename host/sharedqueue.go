package host

import (
	"sync"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// Shared queues as proxy-wasm-cpp-host keeps them (src/shared_queue.cc):
// one process-wide registry keyed by (vm_id, queue name), each queue with a
// token that is never 0. Registering a name again keeps the queue and its
// data and makes the registrant the one proxy_on_queue_ready goes to: the
// root context of the registering context, on the registrant's VM, posted
// after the enqueueing call as Envoy's dispatcher post does. The queues of a
// vm_id are dropped with its shared data (VmIdHandle), when the last plugin
// of the vm_id closes.
var queues = struct {
	sync.Mutex
	next   uint32
	tokens map[queueKey]uint32
	byID   map[uint32]*sharedQueue
}{next: 1, tokens: map[queueKey]uint32{}, byID: map[uint32]*sharedQueue{}}

type queueKey struct{ vmID, name string }

type sharedQueue struct {
	key   queueKey
	items [][]byte
	// Who proxy_on_queue_ready goes to: the last registrant.
	vm   *VM
	root uint32
}

func registerQueue(vm *VM, root uint32, vmID, name string) uint32 {
	queues.Lock()
	defer queues.Unlock()
	k := queueKey{vmID, name}
	token, ok := queues.tokens[k]
	if !ok {
		for {
			token = queues.next
			queues.next++
			if _, used := queues.byID[token]; token != 0 && !used {
				break
			}
		}
		queues.tokens[k] = token
		queues.byID[token] = &sharedQueue{key: k}
	}
	q := queues.byID[token]
	q.vm, q.root = vm, root
	return token
}

func resolveQueue(vmID, name string) uint32 {
	queues.Lock()
	defer queues.Unlock()
	return queues.tokens[queueKey{vmID, name}]
}

func dequeue(token uint32) ([]byte, abi.Status) {
	queues.Lock()
	defer queues.Unlock()
	q := queues.byID[token]
	if q == nil {
		return nil, abi.StatusNotFound
	}
	if len(q.items) == 0 {
		return nil, abi.StatusEmpty
	}
	v := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return v, abi.StatusOK
}

func enqueue(token uint32, value []byte) abi.Status {
	queues.Lock()
	q := queues.byID[token]
	if q == nil {
		queues.Unlock()
		return abi.StatusNotFound
	}
	q.items = append(q.items, append([]byte(nil), value...))
	vm, root := q.vm, q.root
	queues.Unlock()
	vm.post(func() {
		c := vm.contexts[root]
		if c == nil || vm.failed != nil {
			return
		}
		vm.call(c, vm.ex.queueReady, uint64(root), uint64(token))
		vm.runDeferred()
	})
	return abi.StatusOK
}

// dropQueues is SharedQueue::deleteByVmId.
func dropQueues(vmID string) {
	queues.Lock()
	defer queues.Unlock()
	for k, token := range queues.tokens {
		if k.vmID == vmID {
			delete(queues.tokens, k)
			delete(queues.byID, token)
		}
	}
}
