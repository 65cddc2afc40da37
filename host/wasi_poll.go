package host

// WASI poll_oneoff, sched_yield and proc_exit. poll_oneoff is where the two
// profiles differ: Envoy 1.33–1.38 answer ENOSYS without writing nevents
// (so a Go guest that sleeps throws), Envoy 1.39 writes nevents = 0.
//
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/exports.cc

func pollFuncs(profile Profile) map[string]wasiFunc {
	p, r := sig32(4)
	return map[string]wasiFunc{
		"poll_oneoff": {p, r, []string{"in", "out", "nsubscriptions", "result.nevents"},
			errnoFunc(func(vm *VM, s []uint64) uint32 { return pollOneoff(vm, s, profile) })},
		"sched_yield": {nil, types(i32), nil, answer(errnoSuccess)},
		"proc_exit":   {types(i32), nil, []string{"rval"}, procExit},
	}
}

func pollOneoff(vm *VM, s []uint64, profile Profile) uint32 {
	if profile == Envoy133 {
		return errnoNosys // nevents is not written
	}
	if !vm.writeU32(uint32(s[3]), 0) {
		return errnoFault
	}
	return errnoSuccess
}

// procExit only logs, as Envoy's stub does: the guest goes on.
func procExit(vm *VM, _ []uint64) { vm.p.log(vm, LogTrace, "wasi_unstable proc_exit") }
