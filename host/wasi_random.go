package host

import "crypto/rand"

// WASI random_get: crypto/rand, at most 64 KiB per call as
// proxy-wasm-cpp-host allows.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#wasi_snapshot_preview1random_get

const randomGetMaxBytes = 64 * 1024

func randomFuncs() map[string]wasiFunc {
	p, r := sig32(2)
	return map[string]wasiFunc{"random_get": {p, r, []string{"buf", "buf_len"}, errnoFunc(randomGet)}}
}

func randomGet(vm *VM, s []uint64) uint32 {
	n := uint32(s[1])
	if n > randomGetMaxBytes {
		return errnoInval
	}
	if n == 0 {
		return errnoSuccess
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	if !vm.mem.Write(uint32(s[0]), b) {
		return errnoFault
	}
	return errnoSuccess
}
