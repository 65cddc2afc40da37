package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// Properties: proxy_get_property, proxy_set_property. What each path answers
// is in properties.go.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#properties

func propertyFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_property
		proxyFunc("proxy_get_property", proxyGetProperty,
			"property_path_data", "property_path_size", "return_property_value_data", "return_property_value_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_property
		proxyFunc("proxy_set_property", proxySetProperty,
			"property_path_data", "property_path_size", "property_value_data", "property_value_size"),
	}
}

func proxyGetProperty(vm *VM, s []uint64) abi.Status {
	path, good := vm.readStringArg(s, 0)
	if !good {
		return abi.StatusInvalidMemoryAccess
	}
	v, st := vm.property(vm.active(), path)
	if st != abi.StatusOK {
		return st
	}
	return vm.copyOut(v, uint32(s[2]), uint32(s[3]))
}

func proxySetProperty(vm *VM, s []uint64) abi.Status {
	path, g1 := vm.readStringArg(s, 0)
	val, g2 := vm.read(uint32(s[2]), uint32(s[3]))
	if !g1 || !g2 {
		return abi.StatusInvalidMemoryAccess
	}
	return vm.setProperty(vm.active(), path, append([]byte(nil), val...))
}
