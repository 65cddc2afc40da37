package authz

// Metric identifies one of the engine's statistics. The host defines each under Name (Envoy
// shows it as "wasmcustom.<name>"; Prometheus output drops the prefix and turns dots into
// underscores) with its Kind. docs/logs-metrics.md lists every one.
type Metric uint8

// The metrics, in the order the host defines them.
const (
	MetricAllowed         Metric = iota // iotauthz.decisions.allowed
	MetricDenied                        // iotauthz.decisions.denied
	MetricCalls                         // iotauthz.authorizer.calls
	MetricCallErrors                    // iotauthz.authorizer.errors
	MetricCacheHits                     // iotauthz.cache.hits
	MetricCacheMisses                   // iotauthz.cache.misses
	MetricSharedHits                    // iotauthz.cache.shared_hits
	MetricStaleServed                   // iotauthz.cache.stale_served
	MetricSigFailures                   // iotauthz.signature.failures
	MetricDeniedConnect                 // iotauthz.mqtt.denied.connect
	MetricDeniedPublish                 // iotauthz.mqtt.denied.publish
	MetricDeniedSubscribe               // iotauthz.mqtt.denied.subscribe
	MetricDeniedReceive                 // iotauthz.mqtt.denied.receive
	MetricDisconnects                   // iotauthz.mqtt.disconnects
	MetricCallLatency                   // iotauthz.authorizer.latency_ms (histogram)
	MetricMQTTConnections               // iotauthz.mqtt.connections (gauge)

	// NumMetrics is the number of metrics.
	NumMetrics = iota
)

// MetricKind is how a metric accumulates what Host.Record gives it.
type MetricKind uint8

const (
	Counter   MetricKind = iota // adds delta (never negative)
	Gauge                       // adds delta (may be negative)
	Histogram                   // records delta as one sample
)

var metricNames = [NumMetrics]string{
	MetricAllowed:         "iotauthz.decisions.allowed",
	MetricDenied:          "iotauthz.decisions.denied",
	MetricCalls:           "iotauthz.authorizer.calls",
	MetricCallErrors:      "iotauthz.authorizer.errors",
	MetricCacheHits:       "iotauthz.cache.hits",
	MetricCacheMisses:     "iotauthz.cache.misses",
	MetricSharedHits:      "iotauthz.cache.shared_hits",
	MetricStaleServed:     "iotauthz.cache.stale_served",
	MetricSigFailures:     "iotauthz.signature.failures",
	MetricDeniedConnect:   "iotauthz.mqtt.denied.connect",
	MetricDeniedPublish:   "iotauthz.mqtt.denied.publish",
	MetricDeniedSubscribe: "iotauthz.mqtt.denied.subscribe",
	MetricDeniedReceive:   "iotauthz.mqtt.denied.receive",
	MetricDisconnects:     "iotauthz.mqtt.disconnects",
	MetricCallLatency:     "iotauthz.authorizer.latency_ms",
	MetricMQTTConnections: "iotauthz.mqtt.connections",
}

// Name is the metric's name, "iotauthz.decisions.allowed" for MetricAllowed.
func (m Metric) Name() string { return metricNames[m] }

// Kind is the metric's kind.
func (m Metric) Kind() MetricKind {
	switch m {
	case MetricCallLatency:
		return Histogram
	case MetricMQTTConnections:
		return Gauge
	}
	return Counter
}

// count adds n to counter m.
func (e *Engine) count(m Metric, n int64) { e.h.Record(m, n) }
