package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// Shared Key-Value Store: proxy_get_shared_data, proxy_set_shared_data over
// the vm_id's store (shareddata.go).
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#shared-key-value-store

func sharedDataFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_shared_data
		proxyFunc("proxy_get_shared_data", proxyGetSharedData,
			"key_data", "key_size", "return_value_data", "return_value_size", "return_cas"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_shared_data
		proxyFunc("proxy_set_shared_data", proxySetSharedData,
			"key_data", "key_size", "value_data", "value_size", "cas"),
	}
}

func proxyGetSharedData(vm *VM, s []uint64) abi.Status {
	key, good := vm.readStringArg(s, 0)
	if !good {
		return abi.StatusInvalidMemoryAccess
	}
	v, cas, found := vm.p.shared.Get(key)
	if !found {
		return abi.StatusNotFound
	}
	if st := vm.copyOut(v, uint32(s[2]), uint32(s[3])); st != abi.StatusOK {
		return st
	}
	return written(vm.writeU32(uint32(s[4]), cas))
}

func proxySetSharedData(vm *VM, s []uint64) abi.Status {
	key, g1 := vm.readStringArg(s, 0)
	val, g2 := vm.read(uint32(s[2]), uint32(s[3]))
	if !g1 || !g2 {
		return abi.StatusInvalidMemoryAccess
	}
	if err := vm.p.shared.Set(key, val, uint32(s[4])); err != nil {
		return abi.StatusCasMismatch
	}
	return abi.StatusOK
}
