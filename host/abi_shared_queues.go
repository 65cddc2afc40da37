package host

// Shared Queues: not provided yet; every call answers Unimplemented (12).
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#shared-queues

func sharedQueueFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_register_shared_queue
		proxyFunc("proxy_register_shared_queue", unimplemented, "queue_name_data", "queue_name_size", "return_queue_id"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_resolve_shared_queue
		proxyFunc("proxy_resolve_shared_queue", unimplemented,
			"vm_id_data", "vm_id_size", "queue_name_data", "queue_name_size", "return_queue_id"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_enqueue_shared_queue
		proxyFunc("proxy_enqueue_shared_queue", unimplemented, "queue_id", "value_data", "value_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_dequeue_shared_queue
		proxyFunc("proxy_dequeue_shared_queue", unimplemented, "queue_id", "return_value_data", "return_value_size"),
	}
}
