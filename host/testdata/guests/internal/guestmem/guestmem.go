// Package guestmem is the memory side of proxy-wasm ABI v0.2.1 shared by the
// host's test guests conformance and multiplugin: it exports
// proxy_on_memory_allocate and proxy_abi_version_0_2_1, and keeps what it
// hands to the host reachable until the guest's next callback calls Enter.
package guestmem

import "unsafe"

var live [][]byte // memory handed to the host, kept until the next callback

// Hook, when set, runs once inside the next proxy_on_memory_allocate (it is
// cleared first), so that a test can make a host call where Envoy forbids
// one.
var Hook func()

// Enter starts a callback: the memory handed out by earlier ones is let go.
func Enter() { live = live[:0] }

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) uint32 {
	if Hook != nil {
		h := Hook
		Hook = nil
		h()
	}
	if size == 0 {
		size = 1
	}
	b := make([]byte, size)
	live = append(live, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}
