// Command missingimport is a minimal proxy-wasm module that imports
// wasi_snapshot_preview1.path_filestat_get, which Envoy 1.33–1.38 do not
// provide (standard Go's os.Stat needs it). The host must refuse it under the
// envoy-1.33 profile and accept it under envoy-1.39.
package main

import "unsafe"

//go:wasmimport wasi_snapshot_preview1 path_filestat_get
func pathFilestatGet(fd, flags uint32, path unsafe.Pointer, pathLen uint32, buf unsafe.Pointer) uint32

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32

func main() {}

var live [][]byte

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) uint32 {
	b := make([]byte, size+1)
	live = append(live, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 {
	var buf [64]byte
	p := "x"
	r := pathFilestatGet(3, 0, unsafe.Pointer(unsafe.StringData(p)), 1, unsafe.Pointer(&buf[0]))
	msg := "path_filestat_get=" + string(rune('0'+r/10)) + string(rune('0'+r%10))
	proxyLog(2, unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
	return 1
}
