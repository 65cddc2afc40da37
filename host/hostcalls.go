package host

import (
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// The env module: proxy_* host functions of ABI v0.2.1 (and the ABI-specific
// ones of 0.2.0 and 0.1.0), with Envoy's semantics.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1

func ok(s []uint64, st abi.Status) { s[0] = uint64(st) }

func u32s(n int) []api.ValueType {
	t := make([]api.ValueType, n)
	for i := range t {
		t[i] = i32
	}
	return t
}

// hostModules returns env, wasi_snapshot_preview1 and wasi_unstable.
func (p *Plugin) hostModules() []*hostModule {
	env := &hostModule{name: "env"}
	add := func(name string, names []string, fn func(vm *VM, s []uint64)) {
		env.funcs = append(env.funcs, hostFunc{
			name: name, params: u32s(len(names)), results: u32s(1), paramNames: names,
			allowStart: name == "proxy_log", allowMalloc: name == "proxy_log", fn: fn,
		})
	}

	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_log
	add("proxy_log", []string{"log_level", "message_data", "message_size"}, func(vm *VM, s []uint64) {
		level := uint32(s[0])
		if level > uint32(LogCritical) {
			ok(s, abi.StatusBadArgument)
			return
		}
		msg, good := vm.readString(uint32(s[1]), uint32(s[2]))
		if !good {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		vm.p.log(vm, LogLevel(level), msg)
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_current_time_nanoseconds
	add("proxy_get_current_time_nanoseconds", []string{"return_time"}, func(vm *VM, s []uint64) {
		if !vm.writeU64(uint32(s[0]), uint64(vm.p.clock.Now().UnixNano())) {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_tick_period_milliseconds
	add("proxy_set_tick_period_milliseconds", []string{"tick_period"}, func(vm *VM, s []uint64) {
		vm.setTickPeriod(time.Duration(uint32(s[0])) * time.Millisecond)
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_effective_context
	add("proxy_set_effective_context", []string{"context_id"}, func(vm *VM, s []uint64) {
		id := uint32(s[0])
		if _, found := vm.contexts[id]; !found {
			ok(s, abi.StatusBadArgument)
			return
		}
		vm.effective = id
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_done
	add("proxy_done", nil, func(vm *VM, s []uint64) {
		if vm.active().isRoot {
			ok(s, abi.StatusOK)
			return
		}
		ok(s, abi.StatusNotFound)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_status
	add("proxy_get_status", []string{"return_status_code", "return_status_message_data", "return_status_message_size"}, func(vm *VM, s []uint64) {
		if !vm.writeU32(uint32(s[0]), vm.root.status) {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		ok(s, vm.copyOut([]byte(vm.root.statusMsg), uint32(s[1]), uint32(s[2])))
	})

	// Buffers.
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_buffer_bytes
	add("proxy_get_buffer_bytes", []string{"buffer_id", "start", "max_size", "return_buffer_data", "return_buffer_size"}, func(vm *VM, s []uint64) {
		t, start, length := uint32(s[0]), uint64(uint32(s[1])), uint64(uint32(s[2]))
		if t > abi.BufferMax {
			ok(s, abi.StatusBadArgument)
			return
		}
		b, found := vm.buffer(vm.active(), t)
		if !found {
			ok(s, abi.StatusNotFound)
			return
		}
		data := b.data
		size := uint64(len(data))
		if start > size {
			length = 0
		} else if start+length > size {
			length = size - start
		}
		if length == 0 {
			ok(s, vm.copyOut(nil, uint32(s[3]), uint32(s[4])))
			return
		}
		ok(s, vm.copyOut(data[start:start+length], uint32(s[3]), uint32(s[4])))
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_buffer_status
	add("proxy_get_buffer_status", []string{"buffer_id", "return_buffer_size", "return_unused"}, func(vm *VM, s []uint64) {
		t := uint32(s[0])
		if t > abi.BufferMax {
			ok(s, abi.StatusBadArgument)
			return
		}
		b, found := vm.buffer(vm.active(), t)
		if !found {
			ok(s, abi.StatusNotFound)
			return
		}
		if !vm.writeU32(uint32(s[1]), uint32(len(b.data))) || !vm.writeU32(uint32(s[2]), 0) {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_buffer_bytes
	add("proxy_set_buffer_bytes", []string{"buffer_id", "start", "size", "buffer_data", "buffer_size"}, func(vm *VM, s []uint64) {
		t, start, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
		if t > abi.BufferMax {
			ok(s, abi.StatusBadArgument)
			return
		}
		data, good := vm.read(uint32(s[3]), uint32(s[4]))
		if !good {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		b, found := vm.buffer(vm.active(), t)
		if !found {
			ok(s, abi.StatusNotFound)
			return
		}
		if b.set == nil {
			ok(s, abi.StatusBadArgument)
			return
		}
		cur := b.data
		switch {
		case start == 0:
			// Envoy: drain `size` bytes, then prepend the data.
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
			ok(s, abi.StatusBadArgument)
			return
		}
		ok(s, abi.StatusOK)
	})

	// Header maps.
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_pairs
	add("proxy_get_header_map_pairs", []string{"map_id", "return_map_data", "return_map_size"}, func(vm *VM, s []uint64) {
		t := uint32(s[0])
		if t > abi.MapMax {
			ok(s, abi.StatusBadArgument)
			return
		}
		m, _ := vm.headerMap(vm.active(), t)
		if m == nil || len(*m) == 0 {
			ok(s, vm.copyOut(nil, uint32(s[1]), uint32(s[2])))
			return
		}
		vm.pairsBuf = abi.AppendPairs(vm.pairsBuf[:0], *m)
		ok(s, vm.copyOut(vm.pairsBuf, uint32(s[1]), uint32(s[2])))
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_header_map_pairs
	add("proxy_set_header_map_pairs", []string{"map_id", "map_data", "map_size"}, func(vm *VM, s []uint64) {
		t := uint32(s[0])
		if t > abi.MapMax {
			ok(s, abi.StatusBadArgument)
			return
		}
		raw, good := vm.read(uint32(s[1]), uint32(s[2]))
		if !good {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		m, mutable := vm.headerMap(vm.active(), t)
		if m == nil || !mutable {
			ok(s, abi.StatusBadArgument)
			return
		}
		pairs, _ := abi.ParsePairs(raw)
		*m = normalizeHeaders(Headers(pairs))
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_size
	add("proxy_get_header_map_size", []string{"map_id", "return_map_size"}, func(vm *VM, s []uint64) {
		t := uint32(s[0])
		if t > abi.MapMax {
			ok(s, abi.StatusBadArgument)
			return
		}
		m, mutable := vm.headerMap(vm.active(), t)
		if m == nil || !mutable {
			ok(s, abi.StatusBadArgument)
			return
		}
		if !vm.writeU32(uint32(s[1]), m.byteSize()) {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_value
	add("proxy_get_header_map_value", []string{"map_id", "key_data", "key_size", "return_value_data", "return_value_size"}, func(vm *VM, s []uint64) {
		t := uint32(s[0])
		if t > abi.MapMax {
			ok(s, abi.StatusBadArgument)
			return
		}
		key, good := vm.readString(uint32(s[1]), uint32(s[2]))
		if !good {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		m, _ := vm.headerMap(vm.active(), t)
		if m == nil {
			ok(s, abi.StatusBadArgument)
			return
		}
		v, found := m.Get(key)
		if !found {
			ok(s, abi.StatusNotFound)
			return
		}
		ok(s, vm.copyOut([]byte(v), uint32(s[3]), uint32(s[4])))
	})
	mutate := func(name string, names []string, f func(m *Headers, key, value string)) {
		add(name, names, func(vm *VM, s []uint64) {
			t := uint32(s[0])
			if t > abi.MapMax {
				ok(s, abi.StatusBadArgument)
				return
			}
			key, good := vm.readString(uint32(s[1]), uint32(s[2]))
			value := ""
			if good && len(names) == 5 {
				value, good = vm.readString(uint32(s[3]), uint32(s[4]))
			}
			if !good {
				ok(s, abi.StatusInvalidMemoryAccess)
				return
			}
			m, mutable := vm.headerMap(vm.active(), t, true)
			if m == nil || !mutable {
				ok(s, abi.StatusBadArgument)
				return
			}
			f(m, strings.ToLower(key), value)
			ok(s, abi.StatusOK)
		})
	}
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_add_header_map_value
	mutate("proxy_add_header_map_value", []string{"map_id", "key_data", "key_size", "value_data", "value_size"},
		func(m *Headers, k, v string) { *m = m.add(k, v) })
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_replace_header_map_value
	// Envoy's setCopy removes every entry of the key, then adds one.
	mutate("proxy_replace_header_map_value", []string{"map_id", "key_data", "key_size", "value_data", "value_size"},
		func(m *Headers, k, v string) { *m = m.remove(k).add(k, v) })
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_remove_header_map_value
	mutate("proxy_remove_header_map_value", []string{"map_id", "key_data", "key_size"},
		func(m *Headers, k, _ string) { *m = m.remove(k) })

	// Stream control.
	if p.abi == "0.1.0" {
		add("proxy_continue_request", nil, func(vm *VM, s []uint64) { ok(s, vm.continueStream(abi.StreamHTTPRequest)) })
		add("proxy_continue_response", nil, func(vm *VM, s []uint64) { ok(s, vm.continueStream(abi.StreamHTTPResponse)) })
		add("proxy_clear_route_cache", nil, func(vm *VM, s []uint64) { ok(s, abi.StatusOK) })
		add("proxy_get_configuration", []string{"return_data", "return_size"}, func(vm *VM, s []uint64) {
			cfg := vm.p.cfg.VMConfig
			if vm.inConfigure {
				cfg = vm.p.cfg.PluginConfig
			}
			ok(s, vm.copyOut(cfg, uint32(s[0]), uint32(s[1])))
		})
	} else {
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_continue_stream
		add("proxy_continue_stream", []string{"stream_type"}, func(vm *VM, s []uint64) {
			ok(s, vm.continueStream(uint32(s[0])))
		})
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_close_stream
		add("proxy_close_stream", []string{"stream_type"}, func(vm *VM, s []uint64) {
			ok(s, vm.closeStream(uint32(s[0])))
		})
	}
	if p.abi == "0.2.1" {
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_log_level
		add("proxy_get_log_level", []string{"return_log_level"}, func(vm *VM, s []uint64) {
			if !vm.writeU32(uint32(s[0]), uint32(vm.p.cfg.LogLevel)) {
				ok(s, abi.StatusInvalidMemoryAccess)
				return
			}
			ok(s, abi.StatusOK)
		})
	}
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_send_local_response
	add("proxy_send_local_response", []string{"status_code", "status_code_details_data", "status_code_details_size",
		"body_data", "body_size", "headers_data", "headers_size", "grpc_status"}, func(vm *VM, s []uint64) {
		details, g1 := vm.readString(uint32(s[1]), uint32(s[2]))
		body, g2 := vm.read(uint32(s[3]), uint32(s[4]))
		hdrs, g3 := vm.read(uint32(s[5]), uint32(s[6]))
		if !g1 || !g2 || !g3 {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		pairs, _ := abi.ParsePairs(hdrs)
		r := LocalReply{
			Status:     int(uint32(s[0])),
			Body:       append([]byte(nil), body...),
			Headers:    normalizeHeaders(Headers(pairs)),
			Details:    replaceSpaces(details),
			GRPCStatus: int32(uint32(s[7])),
		}
		if st := vm.active().stream; st != nil {
			vm.defer_(func() { st.sendLocalReply(r) })
		}
		vm.stopNext = true
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_http_call
	add("proxy_http_call", []string{"upstream_name_data", "upstream_name_size", "headers_data", "headers_size",
		"body_data", "body_size", "trailers_data", "trailers_size", "timeout_milliseconds", "return_call_id"}, func(vm *VM, s []uint64) {
		up, g1 := vm.readString(uint32(s[0]), uint32(s[1]))
		hdrs, g2 := vm.read(uint32(s[2]), uint32(s[3]))
		body, g3 := vm.read(uint32(s[4]), uint32(s[5]))
		trl, g4 := vm.read(uint32(s[6]), uint32(s[7]))
		if !g1 || !g2 || !g3 || !g4 {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		if !vm.writeU32(uint32(s[9]), 0) {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		hp, _ := abi.ParsePairs(hdrs)
		tp, _ := abi.ParsePairs(trl)
		token, st := vm.httpCall(up, Headers(hp), append([]byte(nil), body...), Headers(tp), int32(uint32(s[8])))
		vm.writeU32(uint32(s[9]), token)
		ok(s, st)
	})

	// Shared data.
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_shared_data
	add("proxy_get_shared_data", []string{"key_data", "key_size", "return_value_data", "return_value_size", "return_cas"}, func(vm *VM, s []uint64) {
		key, good := vm.readString(uint32(s[0]), uint32(s[1]))
		if !good {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		v, cas, found := vm.p.shared.Get(key)
		if !found {
			ok(s, abi.StatusNotFound)
			return
		}
		if st := vm.copyOut(v, uint32(s[2]), uint32(s[3])); st != abi.StatusOK {
			ok(s, st)
			return
		}
		if !vm.writeU32(uint32(s[4]), cas) {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		ok(s, abi.StatusOK)
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_shared_data
	add("proxy_set_shared_data", []string{"key_data", "key_size", "value_data", "value_size", "cas"}, func(vm *VM, s []uint64) {
		key, g1 := vm.readString(uint32(s[0]), uint32(s[1]))
		val, g2 := vm.read(uint32(s[2]), uint32(s[3]))
		if !g1 || !g2 {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		if err := vm.p.shared.Set(key, val, uint32(s[4])); err != nil {
			ok(s, abi.StatusCasMismatch)
			return
		}
		ok(s, abi.StatusOK)
	})

	// Shared queues, gRPC, foreign functions: not provided (documented).
	unimpl := func(name string, names ...string) {
		add(name, names, func(vm *VM, s []uint64) { ok(s, abi.StatusUnimplemented) })
	}
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#shared-queues
	unimpl("proxy_register_shared_queue", "queue_name_data", "queue_name_size", "return_queue_id")
	unimpl("proxy_resolve_shared_queue", "vm_id_data", "vm_id_size", "queue_name_data", "queue_name_size", "return_queue_id")
	unimpl("proxy_enqueue_shared_queue", "queue_id", "value_data", "value_size")
	unimpl("proxy_dequeue_shared_queue", "queue_id", "return_value_data", "return_value_size")
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#grpc-calls
	unimpl("proxy_grpc_call", "grpc_service_data", "grpc_service_size", "service_name_data", "service_name_size",
		"method_name_data", "method_name_size", "initial_metadata_data", "initial_metadata_size",
		"grpc_message_data", "grpc_message_size", "timeout_milliseconds", "return_call_id")
	unimpl("proxy_grpc_stream", "grpc_service_data", "grpc_service_size", "service_name_data", "service_name_size",
		"method_name_data", "method_name_size", "initial_metadata_data", "initial_metadata_size", "return_stream_id")
	unimpl("proxy_grpc_send", "stream_id", "message_data", "message_size", "end_stream")
	unimpl("proxy_grpc_cancel", "call_or_stream_id")
	unimpl("proxy_grpc_close", "call_or_stream_id")
	// Envoy's own extension (ENV wasm.cc registers it).
	unimpl("envoy_resolve_dns", "dns_address_data", "dns_address_size", "return_token")
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_call_foreign_function
	add("proxy_call_foreign_function", []string{"function_name_data", "function_name_size", "parameters_data",
		"parameters_size", "return_results_data", "return_results_size"}, func(vm *VM, s []uint64) {
		ok(s, abi.StatusNotFound)
	})

	// Metrics.
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_define_metric
	add("proxy_define_metric", []string{"metric_type", "metric_name_data", "metric_name_size", "return_metric_id"}, func(vm *VM, s []uint64) {
		typ := uint32(s[0])
		if typ > abi.MetricHistogram {
			ok(s, abi.StatusBadArgument)
			return
		}
		name, good := vm.readString(uint32(s[1]), uint32(s[2]))
		if !good {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		vm.nextMetricID[typ] += abi.MetricIDStep
		id := vm.nextMetricID[typ]
		vm.metricIDs[id] = vm.p.metrics.define(int(typ), "wasmcustom."+name)
		if !vm.writeU32(uint32(s[3]), id) {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		ok(s, abi.StatusOK)
	})
	env.funcs = append(env.funcs,
		hostFunc{
			// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_increment_metric
			name: "proxy_increment_metric", params: []api.ValueType{i32, i64}, results: u32s(1),
			paramNames: []string{"metric_id", "offset"},
			fn: func(vm *VM, s []uint64) {
				ok(s, vm.p.metrics.increment(vm.metricIDs, uint32(s[0]), int64(s[1])))
			},
		},
		hostFunc{
			// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_record_metric
			name: "proxy_record_metric", params: []api.ValueType{i32, i64}, results: u32s(1),
			paramNames: []string{"metric_id", "value"},
			fn: func(vm *VM, s []uint64) {
				ok(s, vm.p.metrics.record(vm.metricIDs, uint32(s[0]), s[1]))
			},
		})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_metric
	add("proxy_get_metric", []string{"metric_id", "return_value"}, func(vm *VM, s []uint64) {
		v, st := vm.p.metrics.value(vm.metricIDs, uint32(s[0]))
		if st == abi.StatusOK && !vm.writeU64(uint32(s[1]), v) {
			st = abi.StatusInvalidMemoryAccess
		}
		ok(s, st)
	})

	// Properties.
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_property
	add("proxy_get_property", []string{"property_path_data", "property_path_size", "return_property_value_data", "return_property_value_size"}, func(vm *VM, s []uint64) {
		path, good := vm.readString(uint32(s[0]), uint32(s[1]))
		if !good {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		v, st := vm.property(vm.active(), path)
		if st != abi.StatusOK {
			ok(s, st)
			return
		}
		ok(s, vm.copyOut(v, uint32(s[2]), uint32(s[3])))
	})
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_property
	add("proxy_set_property", []string{"property_path_data", "property_path_size", "property_value_data", "property_value_size"}, func(vm *VM, s []uint64) {
		path, g1 := vm.readString(uint32(s[0]), uint32(s[1]))
		val, g2 := vm.read(uint32(s[2]), uint32(s[3]))
		if !g1 || !g2 {
			ok(s, abi.StatusInvalidMemoryAccess)
			return
		}
		ok(s, vm.setProperty(vm.active(), path, append([]byte(nil), val...)))
	})

	// Emscripten helpers every Envoy registers.
	env.funcs = append(env.funcs,
		hostFunc{name: "pthread_equal", params: u32s(2), results: u32s(1), paramNames: []string{"left", "right"},
			fn: func(vm *VM, s []uint64) {
				if uint32(s[0]) == uint32(s[1]) {
					s[0] = 1
				} else {
					s[0] = 0
				}
			}},
		hostFunc{name: "emscripten_notify_memory_growth", params: u32s(1), paramNames: []string{"memory_index"},
			allowStart: true, fn: func(vm *VM, s []uint64) {}},
	)
	return append([]*hostModule{env}, wasiModules(p.cfg.Profile)...)
}

func replaceSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return '_'
		}
		return r
	}, s)
}

// continueStream is proxy_continue_stream: the resumption is deferred until
// the current VM call returns; Envoy then forgets the request maps.
func (vm *VM) continueStream(t uint32) abi.Status {
	c := vm.active()
	switch t {
	case abi.StreamHTTPRequest, abi.StreamHTTPResponse:
		if st := c.stream; st != nil {
			d := &st.req
			if t == abi.StreamHTTPResponse {
				d = &st.resp
			}
			vm.defer_(func() { st.resume(d) })
			st.req.headersAvail, st.req.bodyAvail, st.req.trailersAvail = false, false, false
		}
		return abi.StatusOK
	case abi.StreamDownstream:
		if cn := c.conn; cn != nil {
			vm.defer_(cn.continueReading)
		}
		return abi.StatusOK
	case abi.StreamUpstream:
		return abi.StatusUnimplemented
	}
	return abi.StatusBadArgument
}

// closeStream is proxy_close_stream, deferred like Envoy's.
func (vm *VM) closeStream(t uint32) abi.Status {
	c := vm.active()
	switch t {
	case abi.StreamHTTPRequest, abi.StreamHTTPResponse:
		if st := c.stream; st != nil {
			vm.defer_(func() { st.resetStream("wasm_close_stream") })
		}
		return abi.StatusOK
	case abi.StreamDownstream:
		if cn := c.conn; cn != nil {
			vm.defer_(func() { cn.closeLocal("wasm_downstream_close") })
		}
		return abi.StatusOK
	case abi.StreamUpstream:
		if cn := c.conn; cn != nil {
			vm.defer_(func() { cn.closeLocal("wasm_upstream_close") })
		}
		return abi.StatusOK
	}
	return abi.StatusBadArgument
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
			d := &st.req
			if t == abi.BufferHTTPResponseBody {
				d = &st.resp
			}
			if d.bodyAvail {
				return bufferRef{data: d.body, set: func(b []byte) { d.body = b }}, true
			}
		}
		return bufferRef{}, true
	case abi.BufferDownstreamData, abi.BufferUpstreamData:
		if cn := c.conn; cn != nil {
			d := &cn.down
			if t == abi.BufferUpstreamData {
				d = &cn.up
			}
			if d.avail {
				return bufferRef{data: d.buf, set: func(b []byte) { d.buf = b }}, true
			}
		}
		return bufferRef{}, true
	case abi.BufferHTTPCallResponseBody:
		if r := vm.root.callResp; r != nil {
			return bufferRef{data: r.body}, true
		}
		return bufferRef{}, false
	case abi.BufferVMConfiguration:
		return bufferRef{data: vm.p.cfg.VMConfig}, true
	case abi.BufferPluginConfiguration:
		if vm.inConfigure {
			return bufferRef{data: vm.p.cfg.PluginConfig}, true
		}
		return bufferRef{}, false
	case abi.BufferGrpcReceiveBuffer, abi.BufferCallData:
		return bufferRef{}, true
	}
	return bufferRef{}, false
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
		d := &st.req
		if t == abi.MapResponseHeaders || t == abi.MapResponseTrailers {
			d = &st.resp
		}
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
		if r := vm.root.callResp; r != nil {
			return &r.headers, false
		}
	case abi.MapHTTPCallResponseTrailers:
		if r := vm.root.callResp; r != nil && r.trailers != nil {
			return &r.trailers, false
		}
	}
	return nil, false
}
