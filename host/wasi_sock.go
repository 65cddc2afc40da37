package host

// WASI sock_* (Envoy 1.39's list): no sockets; each answers ENOTSUP and
// zeroes its results.
//
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/exports.cc

func sockFuncs() map[string]wasiFunc {
	w := func(n int, names []string, fn func(vm *VM, s []uint64)) wasiFunc {
		p, r := sig32(n)
		return wasiFunc{p, r, names, fn}
	}
	return map[string]wasiFunc{
		"sock_accept": w(3, []string{"fd", "flags", "result.fd"}, errnoFunc(func(vm *VM, s []uint64) uint32 { return zeroThenNotsup(vm, s[2]) })),
		"sock_recv": w(6, []string{"fd", "ri_data", "ri_data_len", "ri_flags", "result.ro_datalen", "result.ro_flags"},
			errnoFunc(func(vm *VM, s []uint64) uint32 { return zeroThenNotsup(vm, s[4], s[5]) })),
		"sock_send": w(5, []string{"fd", "si_data", "si_data_len", "si_flags", "result.so_datalen"},
			errnoFunc(func(vm *VM, s []uint64) uint32 { return zeroThenNotsup(vm, s[4]) })),
		"sock_shutdown": w(2, []string{"fd", "how"}, answer(errnoNotsup)),
	}
}

// zeroThenNotsup writes 0 at each result pointer and answers ENOTSUP
// (EFAULT if a pointer is out of range).
func zeroThenNotsup(vm *VM, ptrs ...uint64) uint32 {
	for _, p := range ptrs {
		if !vm.writeU32(uint32(p), 0) {
			return errnoFault
		}
	}
	return errnoNotsup
}
