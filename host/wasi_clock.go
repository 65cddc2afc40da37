package host

// WASI clocks: realtime (0) and monotonic (1) from Config.Clock.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#wasi_snapshot_preview1clock_time_get

func clockFuncs() map[string]wasiFunc {
	return map[string]wasiFunc{
		"clock_time_get": {types(i32, i64, i32), types(i32), []string{"id", "precision", "result.timestamp"}, errnoFunc(clockTimeGet)},
		"clock_res_get":  {types(i32, i32), types(i32), []string{"id", "result.resolution"}, errnoFunc(clockResGet)},
	}
}

func clockTimeGet(vm *VM, s []uint64) uint32 {
	var t uint64
	switch uint32(s[0]) {
	case 0:
		t = uint64(vm.p.clock.Now().UnixNano())
	case 1:
		t = uint64(vm.p.clock.Monotonic())
	default:
		return errnoNotsup
	}
	if !vm.writeU64(uint32(s[2]), t) {
		return errnoFault
	}
	return errnoSuccess
}

func clockResGet(vm *VM, s []uint64) uint32 {
	if id := uint32(s[0]); id != 0 && id != 1 {
		return errnoNotsup
	}
	if !vm.writeU64(uint32(s[1]), 1) {
		return errnoFault
	}
	return errnoSuccess
}
