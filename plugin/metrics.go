package main

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

// metrics are the plugin's wasmcustom.* statistics. Envoy shows each name under
// "wasmcustom.<name>"; Prometheus output drops the prefix and turns dots into underscores.
// README lists every one.
type metrics struct {
	allowed         proxywasm.MetricCounter   // iotauthz.decisions.allowed
	denied          proxywasm.MetricCounter   // iotauthz.decisions.denied
	calls           proxywasm.MetricCounter   // iotauthz.authorizer.calls
	callErrors      proxywasm.MetricCounter   // iotauthz.authorizer.errors
	callLatency     proxywasm.MetricHistogram // iotauthz.authorizer.latency_ms
	cacheHits       proxywasm.MetricCounter   // iotauthz.cache.hits
	cacheMisses     proxywasm.MetricCounter   // iotauthz.cache.misses
	sharedHits      proxywasm.MetricCounter   // iotauthz.cache.shared_hits
	staleServed     proxywasm.MetricCounter   // iotauthz.cache.stale_served
	sigFailures     proxywasm.MetricCounter   // iotauthz.signature.failures
	deniedConnect   proxywasm.MetricCounter   // iotauthz.mqtt.denied.connect
	deniedPublish   proxywasm.MetricCounter   // iotauthz.mqtt.denied.publish
	deniedSubscribe proxywasm.MetricCounter   // iotauthz.mqtt.denied.subscribe
	deniedReceive   proxywasm.MetricCounter   // iotauthz.mqtt.denied.receive
	mqttConns       proxywasm.MetricGauge     // iotauthz.mqtt.connections
	disconnects     proxywasm.MetricCounter   // iotauthz.mqtt.disconnects
}

// defineMetrics registers every metric. proxy_define_metric may not be called in init() (Envoy
// restricts _initialize to proxy_log), so this runs in OnPluginStart.
func defineMetrics() (m metrics, err error) {
	counters := []struct {
		dst  *proxywasm.MetricCounter
		name string
	}{
		{&m.allowed, "iotauthz.decisions.allowed"},
		{&m.denied, "iotauthz.decisions.denied"},
		{&m.calls, "iotauthz.authorizer.calls"},
		{&m.callErrors, "iotauthz.authorizer.errors"},
		{&m.cacheHits, "iotauthz.cache.hits"},
		{&m.cacheMisses, "iotauthz.cache.misses"},
		{&m.sharedHits, "iotauthz.cache.shared_hits"},
		{&m.staleServed, "iotauthz.cache.stale_served"},
		{&m.sigFailures, "iotauthz.signature.failures"},
		{&m.deniedConnect, "iotauthz.mqtt.denied.connect"},
		{&m.deniedPublish, "iotauthz.mqtt.denied.publish"},
		{&m.deniedSubscribe, "iotauthz.mqtt.denied.subscribe"},
		{&m.deniedReceive, "iotauthz.mqtt.denied.receive"},
		{&m.disconnects, "iotauthz.mqtt.disconnects"},
	}
	for _, c := range counters {
		if *c.dst, err = proxywasm.DefineCounterMetric(c.name); err != nil {
			return m, err
		}
	}
	if m.callLatency, err = proxywasm.DefineHistogramMetric("iotauthz.authorizer.latency_ms"); err != nil {
		return m, err
	}
	if m.mqttConns, err = proxywasm.DefineGaugeMetric("iotauthz.mqtt.connections"); err != nil {
		return m, err
	}
	return m, nil
}
