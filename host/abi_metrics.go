package host

import (
	"github.com/tetratelabs/wazero/api"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// Metrics: proxy_define_metric, proxy_increment_metric, proxy_record_metric,
// proxy_get_metric, with Envoy's rules (metrics.go).
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#metrics

func metricFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_define_metric
		proxyFunc("proxy_define_metric", proxyDefineMetric,
			"metric_type", "metric_name_data", "metric_name_size", "return_metric_id"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_increment_metric
		{
			name: "proxy_increment_metric", params: []api.ValueType{i32, i64}, results: u32s(1),
			paramNames: []string{"metric_id", "offset"},
			fn:         func(vm *VM, s []uint64) { s[0] = uint64(proxyIncrementMetric(vm, s)) },
		},
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_record_metric
		{
			name: "proxy_record_metric", params: []api.ValueType{i32, i64}, results: u32s(1),
			paramNames: []string{"metric_id", "value"},
			fn:         func(vm *VM, s []uint64) { s[0] = uint64(proxyRecordMetric(vm, s)) },
		},
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_metric
		proxyFunc("proxy_get_metric", proxyGetMetric, "metric_id", "return_value"),
	}
}

// proxyDefineMetric names the stat "wasmcustom.<name>"; each definition gets
// a new id of the VM (low two bits: the type) for the same stat.
func proxyDefineMetric(vm *VM, s []uint64) abi.Status {
	typ, name, st := vm.typedArg(s, abi.MetricHistogram, 1)
	if st != abi.StatusOK {
		return st
	}
	vm.nextMetricID[typ] += abi.MetricIDStep
	id := vm.nextMetricID[typ]
	vm.metricIDs[id] = vm.p.metrics.define(int(typ), "wasmcustom."+string(name))
	return written(vm.writeU32(uint32(s[3]), id))
}

func proxyIncrementMetric(vm *VM, s []uint64) abi.Status {
	return vm.p.metrics.increment(vm.metricIDs, uint32(s[0]), int64(s[1]))
}

func proxyRecordMetric(vm *VM, s []uint64) abi.Status {
	return vm.p.metrics.record(vm.metricIDs, uint32(s[0]), s[1])
}

func proxyGetMetric(vm *VM, s []uint64) abi.Status {
	v, st := vm.p.metrics.value(vm.metricIDs, uint32(s[0]))
	if st == abi.StatusOK && !vm.writeU64(uint32(s[1]), v) {
		st = abi.StatusInvalidMemoryAccess
	}
	return st
}
