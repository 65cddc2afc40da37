package host

import (
	"sync"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// metricStore holds a plugin's metrics by full name ("wasmcustom.<name>"),
// shared by its VMs as Envoy's stats scope is. Each VM maps its own ids
// (low two bits: the type) to these.
type metricStore struct {
	mu      sync.Mutex
	byName  map[string]*metric
	buckets []HistogramBuckets // SetHistogramBuckets; nil: Envoy's default bounds
}

type metric struct {
	kind  int
	value int64
	hist  []uint64
}

func (s *metricStore) define(kind int, name string) *metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName == nil {
		s.byName = map[string]*metric{}
	}
	// Defining a name again gives a new id for the same stat.
	if m, ok := s.byName[name]; ok && m.kind == kind {
		return m
	}
	m := &metric{kind: kind}
	s.byName[name] = m
	return m
}

// increment is Envoy's Context::incrementMetric: counters need delta > 0,
// gauges add or subtract, histograms refuse.
func (s *metricStore) increment(ids map[uint32]*metric, id uint32, delta int64) abi.Status {
	switch id & abi.MetricTypeMask {
	case abi.MetricCounter, abi.MetricGauge:
	default:
		return abi.StatusBadArgument
	}
	m, ok := ids[id]
	if !ok {
		return abi.StatusNotFound
	}
	if m.kind == abi.MetricCounter && delta <= 0 {
		return abi.StatusBadArgument
	}
	s.mu.Lock()
	m.value += delta
	s.mu.Unlock()
	return abi.StatusOK
}

// record is Envoy's Context::recordMetric: counters add, gauges set,
// histograms record.
func (s *metricStore) record(ids map[uint32]*metric, id uint32, v uint64) abi.Status {
	m, ok := ids[id]
	if !ok {
		return abi.StatusNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.kind {
	case abi.MetricCounter:
		m.value += int64(v)
	case abi.MetricGauge:
		m.value = int64(v)
	default:
		m.hist = append(m.hist, v)
	}
	return abi.StatusOK
}

// value is Envoy's Context::getMetric: counters and gauges only.
func (s *metricStore) value(ids map[uint32]*metric, id uint32) (uint64, abi.Status) {
	switch id & abi.MetricTypeMask {
	case abi.MetricCounter, abi.MetricGauge:
	default:
		return 0, abi.StatusBadArgument
	}
	m, ok := ids[id]
	if !ok {
		return 0, abi.StatusNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(m.value), abi.StatusOK
}

func (s *metricStore) get(name string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byName[name]
	if !ok || m.kind == abi.MetricHistogram {
		return 0, false
	}
	return m.value, true
}

func (s *metricStore) histogram(name string) ([]uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byName[name]
	if !ok || m.kind != abi.MetricHistogram {
		return nil, false
	}
	return append([]uint64(nil), m.hist...), true
}

func (s *metricStore) all() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.byName))
	for n, m := range s.byName {
		if m.kind != abi.MetricHistogram {
			out[n] = m.value
		}
	}
	return out
}
