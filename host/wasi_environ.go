package host

import "sort"

// WASI environment and arguments: Config.Env (Envoy's
// vm_config.environment_variables); no arguments.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#environment-variables

func environFuncs() map[string]wasiFunc {
	p, r := sig32(2)
	return map[string]wasiFunc{
		"environ_sizes_get": {p, r, []string{"result.environc", "result.environv_len"}, errnoFunc(environSizesGet)},
		"environ_get":       {p, r, []string{"environ", "environ_buf"}, errnoFunc(environGet)},
		"args_sizes_get":    {p, r, []string{"result.argc", "result.argv_len"}, errnoFunc(argsSizesGet)},
		"args_get":          {p, r, []string{"argv", "argv_buf"}, answer(errnoSuccess)},
	}
}

func environSizesGet(vm *VM, s []uint64) uint32 {
	env := vm.p.environ()
	n := 0
	for _, e := range env {
		n += len(e) + 1
	}
	if !vm.writeU32(uint32(s[0]), uint32(len(env))) || !vm.writeU32(uint32(s[1]), uint32(n)) {
		return errnoFault
	}
	return errnoSuccess
}

func environGet(vm *VM, s []uint64) uint32 {
	arr, buf := uint32(s[0]), uint32(s[1])
	for i, e := range vm.p.environ() {
		b := append([]byte(e), 0)
		if !vm.writeU32(arr+uint32(4*i), buf) || !vm.mem.Write(buf, b) {
			return errnoFault
		}
		buf += uint32(len(b))
	}
	return errnoSuccess
}

func argsSizesGet(vm *VM, s []uint64) uint32 {
	if !vm.writeU32(uint32(s[0]), 0) || !vm.writeU32(uint32(s[1]), 0) {
		return errnoFault
	}
	return errnoSuccess
}

func (p *Plugin) environ() []string {
	env := make([]string, 0, len(p.cfg.Env))
	for k, v := range p.cfg.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}
