package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// Shared Queues: proxy_register_shared_queue, proxy_resolve_shared_queue,
// proxy_enqueue_shared_queue, proxy_dequeue_shared_queue, and the
// proxy_on_queue_ready callback (sharedqueue.go).
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#shared-queues
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/exports.cc (register_shared_queue …)

func sharedQueueFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_register_shared_queue
		proxyFunc("proxy_register_shared_queue", proxyRegisterSharedQueue, "queue_name_data", "queue_name_size", "return_queue_id"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_resolve_shared_queue
		proxyFunc("proxy_resolve_shared_queue", proxyResolveSharedQueue,
			"vm_id_data", "vm_id_size", "queue_name_data", "queue_name_size", "return_queue_id"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_enqueue_shared_queue
		proxyFunc("proxy_enqueue_shared_queue", proxyEnqueueSharedQueue, "queue_id", "value_data", "value_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_dequeue_shared_queue
		proxyFunc("proxy_dequeue_shared_queue", proxyDequeueSharedQueue, "queue_id", "return_value_data", "return_value_size"),
	}
}

// proxyRegisterSharedQueue registers (or takes over) the queue of the VM's
// vm_id; proxy_on_queue_ready then goes to the caller's root context
// (ContextBase::registerSharedQueue: the parent of a stream context).
func proxyRegisterSharedQueue(vm *VM, s []uint64) abi.Status {
	name, good := vm.readStringArg(s, 0)
	if !good {
		return abi.StatusInvalidMemoryAccess
	}
	root := vm.activeRoot()
	token := registerQueue(&VM{instance: vm.instance, p: root.plugin, root: root}, root.id, root.plugin.cfg.VMID, name)
	return written(vm.writeU32(uint32(s[2]), token))
}

// proxyResolveSharedQueue finds a queue by vm_id (empty: the caller's) and
// name; NotFound if it was never registered.
func proxyResolveSharedQueue(vm *VM, s []uint64) abi.Status {
	vmID, g1 := vm.readStringArg(s, 0)
	name, g2 := vm.readStringArg(s, 2)
	if !g1 || !g2 {
		return abi.StatusInvalidMemoryAccess
	}
	if vmID == "" {
		vmID = vm.activeRoot().plugin.cfg.VMID
	}
	token := resolveQueue(vmID, name)
	if token == 0 {
		return abi.StatusNotFound
	}
	return written(vm.writeU32(uint32(s[4]), token))
}

func proxyEnqueueSharedQueue(vm *VM, s []uint64) abi.Status {
	v, good := vm.read(uint32(s[1]), uint32(s[2]))
	if !good {
		return abi.StatusInvalidMemoryAccess
	}
	return enqueue(uint32(s[0]), v)
}

// proxyDequeueSharedQueue: NotFound for an unknown queue, Empty (7) for an
// empty one.
func proxyDequeueSharedQueue(vm *VM, s []uint64) abi.Status {
	v, st := dequeue(uint32(s[0]))
	if st != abi.StatusOK {
		return st
	}
	return vm.copyOut(v, uint32(s[1]), uint32(s[2]))
}
