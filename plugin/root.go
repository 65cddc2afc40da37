package main

import (
	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/credentials"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

type vmContext struct {
	proxywasm.DefaultVMContext
}

// OnVMStart implements proxywasm.VMContext.
func (*vmContext) OnVMStart(int) bool { return true }

// NewPluginContext implements proxywasm.VMContext.
func (*vmContext) NewPluginContext(id uint32) proxywasm.PluginContext {
	return &pluginContext{id: id}
}

// pluginContext is the root context of one worker VM: it runs the engine and is the engine's
// host (authz.Host) on the proxy-wasm ABI.
type pluginContext struct {
	proxywasm.DefaultPluginContext
	id uint32
	e  *authz.Engine

	counters   [authz.NumMetrics]proxywasm.MetricCounter
	gauges     [authz.NumMetrics]proxywasm.MetricGauge
	histograms [authz.NumMetrics]proxywasm.MetricHistogram

	hdrBuf [][2]string // scratch for the request headers (the strings are each request's own)
	sni    sniMemo     // SNI by downstream connection id
	// freeStreams are finished HTTP streams nothing refers to any more, for reuse.
	freeStreams []*httpStream
}

// OnPluginStart implements proxywasm.PluginContext. An invalid configuration is refused with one
// log line naming the field; nothing of it is applied.
func (p *pluginContext) OnPluginStart(int) bool {
	raw, err := proxywasm.GetPluginConfiguration()
	if err != nil && err != proxywasm.ErrNotFound {
		proxywasm.LogCritical("iotauthz: cannot read the plugin configuration: " + err.Error())
		return false
	}
	e, err := authz.New(raw, p)
	if err != nil {
		proxywasm.LogCritical("iotauthz: configuration rejected: " + err.Error())
		return false
	}
	if err := p.defineMetrics(); err != nil {
		proxywasm.LogCritical("iotauthz: cannot define metrics: " + err.Error())
		return false
	}
	if err := proxywasm.SetTickPeriodMilliSeconds(authz.TickMillis); err != nil {
		proxywasm.LogCritical("iotauthz: cannot set the tick period: " + err.Error())
		return false
	}
	p.e = e
	e.Started()
	return true
}

// defineMetrics registers every metric of the engine. proxy_define_metric may not be called in
// init() (Envoy restricts _initialize to proxy_log), so this runs in OnPluginStart.
func (p *pluginContext) defineMetrics() (err error) {
	for m := authz.Metric(0); m < authz.NumMetrics; m++ {
		switch m.Kind() {
		case authz.Counter:
			p.counters[m], err = proxywasm.DefineCounterMetric(m.Name())
		case authz.Gauge:
			p.gauges[m], err = proxywasm.DefineGaugeMetric(m.Name())
		case authz.Histogram:
			p.histograms[m], err = proxywasm.DefineHistogramMetric(m.Name())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// OnTick implements proxywasm.PluginContext: MQTT refresh and disconnect deadlines.
func (p *pluginContext) OnTick() { p.e.Tick() }

// NewHttpContext implements proxywasm.PluginContext.
func (p *pluginContext) NewHttpContext(id uint32) proxywasm.HttpContext {
	var s *httpStream
	if n := len(p.freeStreams); n > 0 {
		s = p.freeStreams[n-1]
		p.freeStreams = p.freeStreams[:n-1]
		*s = httpStream{p: p, wsTransport: wsTransport{id: id}}
	} else {
		s = &httpStream{p: p, wsTransport: wsTransport{id: id}}
	}
	p.e.InitStream(&s.s, s)
	return s
}

// NewTcpContext implements proxywasm.PluginContext.
func (p *pluginContext) NewTcpContext(id uint32) proxywasm.TcpContext {
	return &tcpConn{p: p, t: tcpTransport{id: id}}
}

// Call implements authz.Host: the event goes to the authorizer's cluster through
// proxy_http_call; the answer comes in proxy_on_http_call_response on the root context.
func (p *pluginContext) Call(a *config.Authorizer, body []byte, done func(authz.Response)) error {
	headers := [][2]string{
		{":method", "POST"},
		{":path", a.Path},
		{":authority", a.Authority},
		{"content-type", "application/json"},
	}
	_, err := proxywasm.DispatchHttpCall(a.Cluster, headers, body, nil, uint32(a.TimeoutMillis),
		func(numHeaders, bodySize, _ int) {
			done(callResponse(numHeaders, bodySize))
			// A waiter may have switched the effective context; give it back to the root.
			_ = proxywasm.SetEffectiveContext(p.id)
		})
	return err
}

// callResponse reads the answer of the call being completed.
func callResponse(numHeaders, bodySize int) (r authz.Response) {
	if numHeaders == 0 {
		r.Failed = true
		r.Code, r.Message, _ = proxywasm.GetStatus()
		return r
	}
	headers, _ := proxywasm.GetHttpCallResponseHeaders()
	r.Status, _ = credentials.Header(headers, ":status")
	r.FunctionError, _ = credentials.Header(headers, "x-amz-function-error")
	r.Size = bodySize
	if r.Status == "200" && bodySize > 0 && bodySize <= authz.MaxResponseBytes {
		r.Body, r.BodyErr = proxywasm.GetHttpCallResponseBody(0, bodySize)
	}
	return r
}

// Now implements authz.Host.
func (*pluginContext) Now() int64 { return proxywasm.GetCurrentTimeNanoseconds() }

// SharedData implements authz.Host.
func (*pluginContext) SharedData(key string) ([]byte, uint32, error) {
	return proxywasm.GetSharedData(key)
}

// SetSharedData implements authz.Host.
func (*pluginContext) SetSharedData(key string, value []byte, cas uint32) error {
	return proxywasm.SetSharedData(key, value, cas)
}

// Log implements authz.Host.
func (*pluginContext) Log(level authz.LogLevel, msg []byte) {
	proxywasm.Log(proxywasm.LogLevel(level), msg)
}

// Record implements authz.Host.
func (p *pluginContext) Record(m authz.Metric, delta int64) {
	switch m.Kind() {
	case authz.Counter:
		p.counters[m].Increment(uint64(delta))
	case authz.Gauge:
		p.gauges[m].Add(delta)
	case authz.Histogram:
		p.histograms[m].Record(uint64(delta))
	}
}

// action maps an engine answer to the ABI's.
func action(a authz.Action) proxywasm.Action {
	if a == authz.Pause {
		return proxywasm.ActionPause
	}
	return proxywasm.ActionContinue
}

var (
	_ proxywasm.VMContext     = (*vmContext)(nil)
	_ proxywasm.PluginContext = (*pluginContext)(nil)
	_ authz.Host              = (*pluginContext)(nil)
)
