package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// Buffers: proxy_get_buffer_bytes, proxy_get_buffer_status,
// proxy_set_buffer_bytes, with the buffer types Envoy's Context::getBuffer
// serves.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#buffers

func bufferFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_buffer_bytes
		proxyFunc("proxy_get_buffer_bytes", proxyGetBufferBytes,
			"buffer_id", "start", "max_size", "return_buffer_data", "return_buffer_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_buffer_status
		proxyFunc("proxy_get_buffer_status", proxyGetBufferStatus,
			"buffer_id", "return_buffer_size", "return_unused"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_buffer_bytes
		proxyFunc("proxy_set_buffer_bytes", proxySetBufferBytes,
			"buffer_id", "start", "size", "buffer_data", "buffer_size"),
	}
}

// proxyGetBufferBytes clamps start and length to the buffer, as Envoy does.
func proxyGetBufferBytes(vm *VM, s []uint64) abi.Status {
	t, start, length := uint32(s[0]), uint64(uint32(s[1])), uint64(uint32(s[2]))
	if t > abi.BufferMax {
		return abi.StatusBadArgument
	}
	b, found := vm.buffer(vm.active(), t)
	if !found {
		return abi.StatusNotFound
	}
	data := b.data
	size := uint64(len(data))
	if start > size {
		length = 0
	} else if start+length > size {
		length = size - start
	}
	if length == 0 {
		return vm.copyOut(nil, uint32(s[3]), uint32(s[4]))
	}
	return vm.copyOut(data[start:start+length], uint32(s[3]), uint32(s[4]))
}

func proxyGetBufferStatus(vm *VM, s []uint64) abi.Status {
	t := uint32(s[0])
	if t > abi.BufferMax {
		return abi.StatusBadArgument
	}
	b, found := vm.buffer(vm.active(), t)
	if !found {
		return abi.StatusNotFound
	}
	return written(vm.writeU32(uint32(s[1]), uint32(len(b.data))) && vm.writeU32(uint32(s[2]), 0))
}

// proxySetBufferBytes follows Envoy's Buffer::copyFrom: start 0 drains size
// bytes and prepends the data; start at or past the end appends; anything
// else is BadArgument.
func proxySetBufferBytes(vm *VM, s []uint64) abi.Status {
	t, data, st := vm.typedArg(s, abi.BufferMax, 3)
	if st != abi.StatusOK {
		return st
	}
	start, size := uint32(s[1]), uint32(s[2])
	b, found := vm.buffer(vm.active(), t)
	if !found {
		return abi.StatusNotFound
	}
	if b.set == nil {
		return abi.StatusBadArgument
	}
	cur := b.data
	switch {
	case start == 0:
		n := int(size)
		if n > len(cur) {
			n = len(cur)
		}
		nb := make([]byte, 0, len(data)+len(cur)-n)
		nb = append(nb, data...)
		nb = append(nb, cur[n:]...)
		b.set(nb)
	case int(start) >= len(cur):
		b.set(append(cur, data...))
	default:
		return abi.StatusBadArgument
	}
	return abi.StatusOK
}

// bufferRef is a buffer as get/set_buffer_bytes see it; set is nil when the
// buffer is read-only.
type bufferRef struct {
	data []byte
	set  func([]byte)
}

// buffer resolves a buffer type for context c (Envoy's Context::getBuffer).
func (vm *VM) buffer(c *vmContext, t uint32) (bufferRef, bool) {
	switch t {
	case abi.BufferHTTPRequestBody, abi.BufferHTTPResponseBody:
		if st := c.stream; st != nil {
			if d := st.dir(t == abi.BufferHTTPResponseBody); d.bodyAvail {
				return bufferRef{data: d.body, set: func(b []byte) { d.body = b }}, true
			}
		}
		return bufferRef{}, true
	case abi.BufferDownstreamData, abi.BufferUpstreamData:
		if cn := c.conn; cn != nil {
			if d := cn.dir(t == abi.BufferUpstreamData); d.avail {
				return bufferRef{data: d.buf, set: func(b []byte) { d.buf = b }}, true
			}
		}
		return bufferRef{}, true
	case abi.BufferHTTPCallResponseBody:
		if r := c.root.callResp; r != nil {
			return bufferRef{data: r.body}, true
		}
		return bufferRef{}, false
	case abi.BufferVMConfiguration:
		return bufferRef{data: vm.p.cfg.VMConfig}, true
	case abi.BufferPluginConfiguration:
		if vm.configuring != nil {
			return bufferRef{data: vm.configuring.cfg.PluginConfig}, true
		}
		return bufferRef{}, false
	case abi.BufferGrpcReceiveBuffer, abi.BufferCallData:
		return bufferRef{}, true
	}
	return bufferRef{}, false
}
