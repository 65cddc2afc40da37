package proxywasm

import "unsafe"

// Metrics are defined by name (Envoy exposes them as "wasmcustom.<name>") and used by id.
// Define them in OnVMStart or OnPluginStart, never in init().

// MetricCounter is a monotonically increasing metric.
type MetricCounter uint32

// MetricGauge is a metric that goes up and down.
type MetricGauge uint32

// MetricHistogram records a distribution.
type MetricHistogram uint32

func defineMetric(t MetricType, name string) (uint32, error) {
	ret.u32 = 0
	st := proxyDefineMetric(uint32(t), stringPtr(name), uint32(len(name)), unsafe.Pointer(&ret.u32))
	return ret.u32, StatusToError(st)
}

// DefineCounterMetric defines a counter (proxy_define_metric(Counter)).
func DefineCounterMetric(name string) (MetricCounter, error) {
	id, err := defineMetric(MetricTypeCounter, name)
	return MetricCounter(id), err
}

// DefineGaugeMetric defines a gauge (proxy_define_metric(Gauge)).
func DefineGaugeMetric(name string) (MetricGauge, error) {
	id, err := defineMetric(MetricTypeGauge, name)
	return MetricGauge(id), err
}

// DefineHistogramMetric defines a histogram (proxy_define_metric(Histogram)).
func DefineHistogramMetric(name string) (MetricHistogram, error) {
	id, err := defineMetric(MetricTypeHistogram, name)
	return MetricHistogram(id), err
}

// Increment adds delta (> 0: Envoy rejects 0) to the counter (proxy_increment_metric).
func (m MetricCounter) Increment(delta uint64) {
	proxyIncrementMetric(uint32(m), int64(delta))
}

// Value reads the counter (proxy_get_metric).
func (m MetricCounter) Value() (uint64, error) {
	ret.u64 = 0
	st := proxyGetMetric(uint32(m), unsafe.Pointer(&ret.u64))
	return ret.u64, StatusToError(st)
}

// Add adds delta, which may be negative, to the gauge (proxy_increment_metric).
func (m MetricGauge) Add(delta int64) {
	proxyIncrementMetric(uint32(m), delta)
}

// Set sets the gauge to v (proxy_record_metric).
func (m MetricGauge) Set(v int64) {
	proxyRecordMetric(uint32(m), uint64(v))
}

// Value reads the gauge (proxy_get_metric).
func (m MetricGauge) Value() (int64, error) {
	ret.u64 = 0
	st := proxyGetMetric(uint32(m), unsafe.Pointer(&ret.u64))
	return int64(ret.u64), StatusToError(st)
}

// Record adds v to the histogram (proxy_record_metric).
func (m MetricHistogram) Record(v uint64) {
	proxyRecordMetric(uint32(m), v)
}
