package host

import (
	"strings"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// HTTP fields: the proxy_*_header_map_* calls over the request and response
// headers and trailers and the HTTP-call response maps.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#http-fields

func httpFieldFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_pairs
		proxyFunc("proxy_get_header_map_pairs", proxyGetHeaderMapPairs, "map_id", "return_map_data", "return_map_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_header_map_pairs
		proxyFunc("proxy_set_header_map_pairs", proxySetHeaderMapPairs, "map_id", "map_data", "map_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_size
		proxyFunc("proxy_get_header_map_size", proxyGetHeaderMapSize, "map_id", "return_map_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_value
		proxyFunc("proxy_get_header_map_value", proxyGetHeaderMapValue,
			"map_id", "key_data", "key_size", "return_value_data", "return_value_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_add_header_map_value
		proxyFunc("proxy_add_header_map_value", proxyAddHeaderMapValue,
			"map_id", "key_data", "key_size", "value_data", "value_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_replace_header_map_value
		proxyFunc("proxy_replace_header_map_value", proxyReplaceHeaderMapValue,
			"map_id", "key_data", "key_size", "value_data", "value_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_remove_header_map_value
		proxyFunc("proxy_remove_header_map_value", proxyRemoveHeaderMapValue, "map_id", "key_data", "key_size"),
	}
}

func proxyGetHeaderMapPairs(vm *VM, s []uint64) abi.Status {
	t := uint32(s[0])
	if t > abi.MapMax {
		return abi.StatusBadArgument
	}
	m, _ := vm.headerMap(vm.active(), t)
	if m == nil || len(*m) == 0 {
		return vm.copyOut(nil, uint32(s[1]), uint32(s[2]))
	}
	vm.pairsBuf = abi.AppendPairs(vm.pairsBuf[:0], *m)
	return vm.copyOut(vm.pairsBuf, uint32(s[1]), uint32(s[2]))
}

func proxySetHeaderMapPairs(vm *VM, s []uint64) abi.Status {
	t, raw, st := vm.typedArg(s, abi.MapMax, 1)
	if st != abi.StatusOK {
		return st
	}
	m, mutable := vm.headerMap(vm.active(), t)
	if m == nil || !mutable {
		return abi.StatusBadArgument
	}
	pairs, _ := abi.ParsePairs(raw)
	*m = normalizeHeaders(Headers(pairs))
	return abi.StatusOK
}

func proxyGetHeaderMapSize(vm *VM, s []uint64) abi.Status {
	t := uint32(s[0])
	if t > abi.MapMax {
		return abi.StatusBadArgument
	}
	m, mutable := vm.headerMap(vm.active(), t)
	if m == nil || !mutable {
		return abi.StatusBadArgument
	}
	return written(vm.writeU32(uint32(s[1]), m.byteSize()))
}

func proxyGetHeaderMapValue(vm *VM, s []uint64) abi.Status {
	t, key, st := vm.typedArg(s, abi.MapMax, 1)
	if st != abi.StatusOK {
		return st
	}
	m, _ := vm.headerMap(vm.active(), t)
	if m == nil {
		return abi.StatusBadArgument
	}
	v, found := m.Get(string(key))
	if !found {
		return abi.StatusNotFound
	}
	return vm.copyOut([]byte(v), uint32(s[3]), uint32(s[4]))
}

func proxyAddHeaderMapValue(vm *VM, s []uint64) abi.Status {
	return vm.mutateHeaderMap(s, true, func(m *Headers, k, v string) { *m = m.add(k, v) })
}

// proxyReplaceHeaderMapValue is Envoy's setCopy: every entry of the key is
// removed, then one is added.
func proxyReplaceHeaderMapValue(vm *VM, s []uint64) abi.Status {
	return vm.mutateHeaderMap(s, true, func(m *Headers, k, v string) { *m = m.remove(k).add(k, v) })
}

func proxyRemoveHeaderMapValue(vm *VM, s []uint64) abi.Status {
	return vm.mutateHeaderMap(s, false, func(m *Headers, k, _ string) { *m = m.remove(k) })
}

// mutateHeaderMap is the common part of add, replace and remove: map id,
// key (and value), a mutable map, the key lowercased.
func (vm *VM) mutateHeaderMap(s []uint64, withValue bool, f func(m *Headers, key, value string)) abi.Status {
	t, key, st := vm.typedArg(s, abi.MapMax, 1)
	if st != abi.StatusOK {
		return st
	}
	value := ""
	if withValue {
		v, good := vm.readStringArg(s, 3)
		if !good {
			return abi.StatusInvalidMemoryAccess
		}
		value = v
	}
	m, mutable := vm.headerMap(vm.active(), t, true)
	if m == nil || !mutable {
		return abi.StatusBadArgument
	}
	f(m, strings.ToLower(string(key)), value)
	return abi.StatusOK
}

// headerMap resolves a map type for context c. mutable is false for the
// HTTP-call response maps, which Envoy exposes read-only.
//
// With create, asking for the trailers of a direction whose body callback
// is at end of stream adds them (Envoy's addDecodedTrailers /
// addEncodedTrailers).
func (vm *VM) headerMap(c *vmContext, t uint32, create ...bool) (m *Headers, mutable bool) {
	switch t {
	case abi.MapRequestHeaders, abi.MapRequestTrailers, abi.MapResponseHeaders, abi.MapResponseTrailers:
		st := c.stream
		if st == nil {
			return nil, false
		}
		if st.accessLog {
			return st.accessLogMap(t), false
		}
		d := st.dir(t == abi.MapResponseHeaders || t == abi.MapResponseTrailers)
		if t == abi.MapRequestHeaders || t == abi.MapResponseHeaders {
			if d.headersAvail {
				return &d.headers, true
			}
			return nil, false
		}
		if !d.trailersAvail && len(create) > 0 && create[0] && d.bodyAvail && d.end && !d.hasTrailers {
			d.trailers, d.hasTrailers, d.trailersAvail, d.addedTrailers = Headers{}, true, true, true
		}
		if d.trailersAvail {
			return &d.trailers, true
		}
		return nil, false
	case abi.MapHTTPCallResponseHeaders:
		if r := c.root.callResp; r != nil {
			return &r.headers, false
		}
	case abi.MapHTTPCallResponseTrailers:
		if r := c.root.callResp; r != nil && r.trailers != nil {
			return &r.trailers, false
		}
	}
	return nil, false
}

// accessLogMap is Envoy's getConstMap in the access-log phase: the request
// headers as the filter chain left them, the response headers and trailers
// the client got (nil when there were none).
func (s *HTTPStream) accessLogMap(t uint32) *Headers {
	switch t {
	case abi.MapRequestHeaders:
		if s.req.headers != nil {
			return &s.req.headers
		}
	case abi.MapResponseHeaders:
		if s.resp.headers != nil {
			return &s.resp.headers
		}
	case abi.MapResponseTrailers:
		if s.resp.hasTrailers {
			return &s.resp.trailers
		}
	}
	return nil
}
