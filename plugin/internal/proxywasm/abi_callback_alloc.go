package proxywasm

import "unsafe"

// Memory the host asks for with proxy_on_memory_allocate is a Go []byte kept in pending until
// the host call that asked for it returns and the binding takes it (takeAlloc). The taker owns
// it from then on (strings returned by getters alias it, so a header value costs one
// allocation). Whatever else is pending at that point is dropped, so memory the host asked for
// but never handed back cannot pile up. The Go GC does not move objects, so the address the
// host writes into stays valid while the slice is referenced here.
var pending [][]byte

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_memory_allocate
//
// # Notes
//
// Envoy allows only proxy_log, fd_write and clock_time_get inside this call.
//
//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) unsafe.Pointer {
	if size == 0 {
		size = 1
	}
	b := make([]byte, size)
	pending = append(pending, b)
	return unsafe.Pointer(unsafe.SliceData(b))
}

// takeAlloc returns the pending buffer at addr, cut to size, and releases every other pending
// buffer. addr 0 or size 0 give nil (the host allocates nothing for an empty result). An
// address the binding did not hand out also gives nil.
func takeAlloc(addr uintptr, size uint32) []byte {
	var out []byte
	if addr != 0 && size != 0 {
		for i := len(pending) - 1; i >= 0; i-- {
			b := pending[i]
			if uintptr(unsafe.Pointer(unsafe.SliceData(b))) == addr {
				if int(size) <= len(b) {
					out = b[:size:size]
				}
				break
			}
		}
	}
	releaseAll()
	return out
}

// releaseAll drops every pending buffer.
func releaseAll() {
	if len(pending) == 0 {
		return
	}
	clear(pending)
	pending = pending[:0]
}

// liveAllocations is the number of buffers handed to the host and not yet taken.
func liveAllocations() int { return len(pending) }
