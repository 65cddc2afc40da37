//go:build !wasm

package proxytest

import (
	"time"
	"unsafe"

	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm/internal/hostabi"
)

// The host functions, with Envoy's rules (see research/envoy-host.md §2–4). Each one acts on
// the effective context e.cur.

// host is the Emulator seen as the binding's host, keeping the raw ABI methods out of
// the Emulator's API.
type host Emulator

const (
	ok          = proxywasm.StatusOK
	notFound    = proxywasm.StatusNotFound
	badArgument = proxywasm.StatusBadArgument
)

// Log implements hostabi.Host (proxy_log).
func (h *host) Log(level uint32, msg unsafe.Pointer, size uint32) uint32 {
	e := (*Emulator)(h)
	if level > uint32(proxywasm.LogLevelCritical) {
		return badArgument
	}
	if proxywasm.LogLevel(level) < e.opts.LogLevel || e.opts.DiscardLogs {
		return ok
	}
	e.logs = append(e.logs, LogEntry{proxywasm.LogLevel(level), string(mem(msg, size))})
	return ok
}

// GetLogLevel implements hostabi.Host (proxy_get_log_level).
func (h *host) GetLogLevel(retLevel unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	putU32(retLevel, uint32(e.opts.LogLevel))
	return ok
}

// GetCurrentTimeNanoseconds implements hostabi.Host (proxy_get_current_time_nanoseconds).
func (h *host) GetCurrentTimeNanoseconds(retTime unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	*(*uint64)(retTime) = uint64(e.Now())
	return ok
}

// SetTickPeriodMilliseconds implements hostabi.Host (proxy_set_tick_period_milliseconds).
func (h *host) SetTickPeriodMilliseconds(period uint32) uint32 {
	e := (*Emulator)(h)
	e.tickPeriod = int64(period) * int64(time.Millisecond)
	e.nextTick = e.Now() + e.tickPeriod
	return ok
}

// SetEffectiveContext implements hostabi.Host (proxy_set_effective_context).
func (h *host) SetEffectiveContext(contextID uint32) uint32 {
	e := (*Emulator)(h)
	c := e.contexts[contextID]
	if c == nil {
		return badArgument
	}
	e.cur = c
	return ok
}

// Done implements hostabi.Host (proxy_done).
func (h *host) Done() uint32 { return ok }

// buffer returns the buffer bt of the effective context; writable says whether
// set_buffer_bytes may change it.
func (e *Emulator) buffer(bt uint32) (buf *[]byte, writable bool, st uint32) {
	c := e.cur
	switch proxywasm.BufferType(bt) {
	case proxywasm.BufferTypeHttpRequestBody:
		if c.http != nil {
			return &c.http.req.buf, true, ok
		}
	case proxywasm.BufferTypeHttpResponseBody:
		if c.http != nil {
			return &c.http.resp.buf, true, ok
		}
	case proxywasm.BufferTypeDownstreamData:
		if c.conn != nil {
			return &c.conn.down.buf, true, ok
		}
	case proxywasm.BufferTypeUpstreamData:
		if c.conn != nil {
			return &c.conn.up.buf, true, ok
		}
	case proxywasm.BufferTypeHttpCallResponseBody:
		if e.callResp != nil {
			return &e.callResp.body, false, ok
		}
	case proxywasm.BufferTypeVMConfiguration:
		if e.phase == phaseVMStart {
			return &e.opts.VMConfig, false, ok
		}
	case proxywasm.BufferTypePluginConfiguration:
		if e.phase == phaseConfigure {
			return &e.opts.PluginConfig, false, ok
		}
	default:
		return nil, false, badArgument
	}
	return nil, false, notFound
}

// GetBufferBytes implements hostabi.Host (proxy_get_buffer_bytes); start and size are clamped.
func (h *host) GetBufferBytes(bufferType, start, maxSize uint32, retData, retSize unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	buf, _, st := e.buffer(bufferType)
	if st != ok {
		return st
	}
	b := *buf
	s := min(int(start), len(b))
	end := len(b)
	if int(maxSize) < end-s {
		end = s + int(maxSize)
	}
	return e.retBytes(retData, retSize, b[s:end])
}

// GetBufferStatus implements hostabi.Host (proxy_get_buffer_status).
func (h *host) GetBufferStatus(bufferType uint32, retSize, retFlags unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	buf, _, st := e.buffer(bufferType)
	if st != ok {
		return st
	}
	putU32(retSize, uint32(len(*buf)))
	putU32(retFlags, 0)
	return ok
}

// SetBufferBytes implements hostabi.Host (proxy_set_buffer_bytes) with Envoy's rules: start 0
// drains size bytes and prepends the data; start at or past the end appends; anything else is
// BadArgument.
func (h *host) SetBufferBytes(bufferType, start, size uint32, data unsafe.Pointer, dataSize uint32) uint32 {
	e := (*Emulator)(h)
	buf, writable, st := e.buffer(bufferType)
	if st != ok {
		return st
	}
	if !writable {
		return badArgument
	}
	d := mem(data, dataSize)
	b := *buf
	switch {
	case start == 0:
		n := min(int(size), len(b))
		rest := b[n:]
		nb := make([]byte, 0, len(d)+len(rest))
		nb = append(append(nb, d...), rest...)
		*buf = nb
	case int(start) >= len(b):
		*buf = append(b, d...)
	default:
		return badArgument
	}
	return ok
}

// headerMap returns map mt of the effective context; with write set, a map that may be
// changed, made the emulator's own copy first.
func (e *Emulator) headerMap(mt uint32, write bool) (m *[][2]string, writable bool, st uint32) {
	m, owned, writable, st := e.lookupMap(mt)
	if st == ok && write && writable {
		own(m, owned)
	}
	return m, writable, st
}

func (e *Emulator) lookupMap(mt uint32) (m *[][2]string, owned *bool, writable bool, st uint32) {
	s := e.cur.http
	switch proxywasm.MapType(mt) {
	case proxywasm.MapTypeHttpRequestHeaders:
		if s != nil && s.req.gotHeaders && s.req.stage == stageHeaders {
			return &s.req.headers, &s.req.hOwned, true, ok
		}
	case proxywasm.MapTypeHttpRequestTrailers:
		if s != nil && s.req.stage == stageTrailers {
			return &s.req.trailers, &s.req.tOwned, true, ok
		}
	case proxywasm.MapTypeHttpResponseHeaders:
		if s != nil && s.resp.gotHeaders && s.resp.stage == stageHeaders {
			return &s.resp.headers, &s.resp.hOwned, true, ok
		}
	case proxywasm.MapTypeHttpResponseTrailers:
		if s != nil && s.resp.stage == stageTrailers {
			return &s.resp.trailers, &s.resp.tOwned, true, ok
		}
	case proxywasm.MapTypeHttpCallResponseHeaders:
		if e.callResp != nil {
			return &e.callResp.headers, nil, false, ok
		}
	case proxywasm.MapTypeHttpCallResponseTrailers:
		if e.callResp != nil {
			return &e.callResp.trailers, nil, false, ok
		}
	default:
		return nil, nil, false, badArgument
	}
	return nil, nil, false, notFound
}

// GetHeaderMapPairs implements hostabi.Host (proxy_get_header_map_pairs).
func (h *host) GetHeaderMapPairs(mapType uint32, retData, retSize unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	m, _, st := e.headerMap(mapType, false)
	if st != ok {
		return st
	}
	e.scratch = appendPairs(e.scratch[:0], *m)
	return e.retBytes(retData, retSize, e.scratch)
}

// SetHeaderMapPairs implements hostabi.Host (proxy_set_header_map_pairs).
func (h *host) SetHeaderMapPairs(mapType uint32, data unsafe.Pointer, size uint32) uint32 {
	e := (*Emulator)(h)
	m, writable, st := e.headerMap(mapType, true)
	if st != ok {
		return st
	}
	if !writable {
		return badArgument
	}
	hd := proxywasm.DeserializeHeaders(mem(data, size))
	if hd == nil && size > 4 {
		return proxywasm.StatusSerializationFailure
	}
	*m = lowerKeys(hd)
	return ok
}

// GetHeaderMapValue implements hostabi.Host (proxy_get_header_map_value): the first value.
func (h *host) GetHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, retValue, retSize unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	m, _, st := e.headerMap(mapType, false)
	if st != ok {
		return st
	}
	v, found := lookup(*m, memString(key, keySize))
	if !found {
		return notFound
	}
	return e.retString(retValue, retSize, v)
}

// AddHeaderMapValue implements hostabi.Host (proxy_add_header_map_value).
func (h *host) AddHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	e := (*Emulator)(h)
	m, writable, st := e.headerMap(mapType, true)
	if st != ok {
		return st
	}
	if !writable {
		return badArgument
	}
	k, v := keyValue(key, keySize, value, valueSize)
	*m = append(*m, [2]string{k, v})
	return ok
}

// ReplaceHeaderMapValue implements hostabi.Host (proxy_replace_header_map_value).
func (h *host) ReplaceHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	e := (*Emulator)(h)
	m, writable, st := e.headerMap(mapType, true)
	if st != ok {
		return st
	}
	if !writable {
		return badArgument
	}
	k, v := keyValue(key, keySize, value, valueSize)
	*m = replaceKey(*m, k, v)
	return ok
}

// RemoveHeaderMapValue implements hostabi.Host (proxy_remove_header_map_value).
func (h *host) RemoveHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32) uint32 {
	e := (*Emulator)(h)
	m, writable, st := e.headerMap(mapType, true)
	if st != ok {
		return st
	}
	if !writable {
		return badArgument
	}
	*m = removeKey(*m, memString(key, keySize))
	return ok
}

// ContinueStream implements hostabi.Host (proxy_continue_stream); the continue runs after
// the current callback returns. Upstream answers Unimplemented, as in Envoy.
func (h *host) ContinueStream(streamType uint32) uint32 {
	e := (*Emulator)(h)
	c := e.cur
	switch proxywasm.StreamType(streamType) {
	case proxywasm.StreamTypeHttpRequest, proxywasm.StreamTypeHttpResponse:
		if c.http == nil {
			return badArgument
		}
		if streamType == uint32(proxywasm.StreamTypeHttpRequest) {
			c.http.req.cont = true
		} else {
			c.http.resp.cont = true
		}
	case proxywasm.StreamTypeDownstream:
		if c.conn == nil {
			return badArgument
		}
		c.conn.cont = true
	case proxywasm.StreamTypeUpstream:
		return proxywasm.StatusUnimplemented
	default:
		return badArgument
	}
	e.markDirty(c)
	return ok
}

// CloseStream implements hostabi.Host (proxy_close_stream); deferred like ContinueStream.
func (h *host) CloseStream(streamType uint32) uint32 {
	e := (*Emulator)(h)
	c := e.cur
	switch proxywasm.StreamType(streamType) {
	case proxywasm.StreamTypeHttpRequest, proxywasm.StreamTypeHttpResponse:
		if c.http == nil {
			return badArgument
		}
		c.http.resetReq = true
	case proxywasm.StreamTypeDownstream, proxywasm.StreamTypeUpstream:
		if c.conn == nil {
			return badArgument
		}
		if c.conn.closeReq == "" {
			if streamType == uint32(proxywasm.StreamTypeDownstream) {
				c.conn.closeReq = "wasm_downstream_close"
			} else {
				c.conn.closeReq = "wasm_upstream_close"
			}
		}
	default:
		return badArgument
	}
	e.markDirty(c)
	return ok
}

// GetStatus implements hostabi.Host (proxy_get_status).
func (h *host) GetStatus(retCode, retMessage, retMessageSize unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	putU32(retCode, e.status)
	return e.retString(retMessage, retMessageSize, e.statusMsg)
}

// SendLocalResponse implements hostabi.Host (proxy_send_local_response); applied after the
// current callback, which then counts as paused.
func (h *host) SendLocalResponse(statusCode uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpcStatus int32) uint32 {
	e := (*Emulator)(h)
	s := e.cur.http
	if s == nil {
		return badArgument
	}
	hd := proxywasm.DeserializeHeaders(mem(headers, headersSize))
	if hd == nil && headersSize > 4 {
		return proxywasm.StatusSerializationFailure
	}
	lr := &LocalResponse{
		Status:  statusCode,
		Headers: lowerKeys(hd),
		Body:    append([]byte(nil), mem(body, bodySize)...),
		Details: string(mem(details, detailsSize)),
	}
	if grpcStatus >= 0 && grpcStatus <= 16 {
		g := grpcStatus
		lr.GRPCStatus = &g
	}
	if s.local == nil {
		s.local = lr
	}
	e.markDirty(e.cur)
	return ok
}

// HttpCall implements hostabi.Host (proxy_http_call): an unknown cluster or missing
// :method/:path/:authority is BadArgument; otherwise the call is recorded for the test.
func (h *host) HttpCall(upstream unsafe.Pointer, upstreamSize uint32, headers unsafe.Pointer, headersSize uint32, body unsafe.Pointer, bodySize uint32, trailers unsafe.Pointer, trailersSize uint32, timeoutMilliseconds uint32, retToken unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	cluster := string(mem(upstream, upstreamSize))
	if e.opts.Clusters != nil {
		found := false
		for _, c := range e.opts.Clusters {
			found = found || c == cluster
		}
		if !found {
			return badArgument
		}
	}
	hd := lowerKeys(proxywasm.DeserializeHeaders(mem(headers, headersSize)))
	for _, k := range [...]string{":method", ":path", ":authority"} {
		if _, found := lookup(hd, k); !found {
			return badArgument
		}
	}
	e.nextToken++
	c := &HttpCall{
		ID:            e.nextToken,
		Cluster:       cluster,
		Headers:       hd,
		Body:          append([]byte(nil), mem(body, bodySize)...),
		Trailers:      lowerKeys(proxywasm.DeserializeHeaders(mem(trailers, trailersSize))),
		Timeout:       time.Duration(timeoutMilliseconds) * time.Millisecond,
		RootContextID: e.root.id,
	}
	e.calls[c.ID] = c
	putU32(retToken, c.ID)
	return ok
}

// GetSharedData implements hostabi.Host (proxy_get_shared_data).
func (h *host) GetSharedData(key unsafe.Pointer, keySize uint32, retValue, retSize, retCas unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	s := e.shared[memString(key, keySize)]
	if s == nil {
		return notFound
	}
	putU32(retCas, s.cas)
	return e.retBytes(retValue, retSize, s.value)
}

// SetSharedData implements hostabi.Host (proxy_set_shared_data): cas 0 is unconditional; a
// missing key is always written; otherwise cas must match.
func (h *host) SetSharedData(key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32, cas uint32) uint32 {
	e := (*Emulator)(h)
	k := memString(key, keySize)
	if s := e.shared[k]; s != nil && cas != 0 && cas != s.cas {
		return proxywasm.StatusCasMismatch
	}
	e.setShared(string(mem(key, keySize)), append([]byte(nil), mem(value, valueSize)...))
	return ok
}

// DefineMetric implements hostabi.Host (proxy_define_metric): a name defined twice gets a new
// id for the same stat.
func (h *host) DefineMetric(metricType uint32, name unsafe.Pointer, nameSize uint32, retID unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	if metricType > uint32(proxywasm.MetricTypeHistogram) {
		return badArgument
	}
	n := string(mem(name, nameSize))
	s := e.stats[n]
	if s == nil {
		s = &stat{typ: proxywasm.MetricType(metricType)}
		e.stats[n] = s
	}
	e.metricDefs = append(e.metricDefs, s)
	putU32(retID, uint32(len(e.metricDefs)))
	return ok
}

func (e *Emulator) metric(id uint32) *stat {
	if id == 0 || int(id) > len(e.metricDefs) {
		return nil
	}
	return e.metricDefs[id-1]
}

// IncrementMetric implements hostabi.Host (proxy_increment_metric): counters need offset > 0,
// histograms cannot be incremented.
func (h *host) IncrementMetric(metricID uint32, offset int64) uint32 {
	e := (*Emulator)(h)
	s := e.metric(metricID)
	switch {
	case s == nil:
		return notFound
	case s.typ == proxywasm.MetricTypeCounter && offset <= 0,
		s.typ == proxywasm.MetricTypeHistogram:
		return badArgument
	}
	s.value += offset
	return ok
}

// RecordMetric implements hostabi.Host (proxy_record_metric): adds to a counter, sets a
// gauge, records into a histogram.
func (h *host) RecordMetric(metricID uint32, value uint64) uint32 {
	e := (*Emulator)(h)
	s := e.metric(metricID)
	if s == nil {
		return notFound
	}
	switch s.typ {
	case proxywasm.MetricTypeCounter:
		s.value += int64(value)
	case proxywasm.MetricTypeGauge:
		s.value = int64(value)
	default:
		s.hist = append(s.hist, value)
	}
	return ok
}

// GetMetric implements hostabi.Host (proxy_get_metric); histograms are BadArgument.
func (h *host) GetMetric(metricID uint32, retValue unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	s := e.metric(metricID)
	if s == nil {
		return notFound
	}
	if s.typ == proxywasm.MetricTypeHistogram {
		return badArgument
	}
	*(*uint64)(retValue) = uint64(s.value)
	return ok
}

// dotted converts a NUL-joined property path to the dotted key of the property maps.
func (e *Emulator) dotted(path unsafe.Pointer, pathSize uint32) []byte {
	e.pathBuf = append(e.pathBuf[:0], mem(path, pathSize)...)
	for i, c := range e.pathBuf {
		if c == 0 {
			e.pathBuf[i] = '.'
		}
	}
	return e.pathBuf
}

// GetProperty implements hostabi.Host (proxy_get_property): the effective context's
// properties, then the plugin-wide ones; connection.id defaults to the context id.
func (h *host) GetProperty(path unsafe.Pointer, pathSize uint32, retValue, retSize unsafe.Pointer) uint32 {
	e := (*Emulator)(h)
	k := e.dotted(path, pathSize)
	if v, found := e.cur.props[string(k)]; found {
		return e.retString(retValue, retSize, v)
	}
	if v, found := e.root.props[string(k)]; found {
		return e.retString(retValue, retSize, v)
	}
	if ks := string(k); (ks == "connection.id" || ks == "connection_id") && e.cur != &e.root {
		var b [8]byte // default: unique per stream, as host/ assigns it
		for i := range b {
			b[i] = byte(uint64(e.cur.id) >> (8 * i))
		}
		return e.retBytes(retValue, retSize, b[:])
	}
	return notFound
}

// SetProperty implements hostabi.Host (proxy_set_property).
func (h *host) SetProperty(path unsafe.Pointer, pathSize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	e := (*Emulator)(h)
	c := e.cur
	if !c.owned {
		m := make(map[string]string, len(c.props)+1)
		for k, v := range c.props {
			m[k] = v
		}
		c.props, c.owned = m, true
	}
	c.props[string(e.dotted(path, pathSize))] = string(mem(value, valueSize))
	return ok
}

// keyValue copies a header key (lowercased) and value out of guest memory in one allocation.
func keyValue(key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) (string, string) {
	b := make([]byte, 0, keySize+valueSize)
	b = append(append(b, mem(key, keySize)...), mem(value, valueSize)...)
	for i := 0; i < int(keySize); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	s := unsafe.String(unsafe.SliceData(b), len(b))
	return s[:keySize], s[keySize:]
}

// appendPairs serializes h like proxywasm.SerializeHeaders, into dst.
func appendPairs(dst []byte, h [][2]string) []byte {
	put := func(b []byte, v int) []byte {
		return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	dst = put(dst, len(h))
	for _, kv := range h {
		dst = put(put(dst, len(kv[0])), len(kv[1]))
	}
	for _, kv := range h {
		dst = append(append(dst, kv[0]...), 0)
		dst = append(append(dst, kv[1]...), 0)
	}
	return dst
}

var _ hostabi.Host = (*host)(nil)
