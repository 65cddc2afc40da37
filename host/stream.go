package host

import (
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// FilterStatus is what the filter chain made of a callback's result, in
// Envoy's terms.
type FilterStatus int

const (
	// Continue: the data went on (to the upstream, or to the client).
	Continue FilterStatus = iota
	// StopIteration: trailers or L4 data held until the filter continues.
	StopIteration
	// StopAllIteration: headers paused (Envoy turns a headers Pause into
	// StopAllIterationAndWatermark); body and trailers are held and do not
	// reach the filter until it continues.
	StopAllIteration
	// StopIterationAndBuffer: a body Pause; later chunks accumulate and the
	// next body callback sees the whole buffered body.
	StopIterationAndBuffer
	// StopIterationNoBuffer: the filter sent a local reply in this callback.
	StopIterationNoBuffer
)

// String returns Envoy's name for s.
func (s FilterStatus) String() string {
	return [...]string{"Continue", "StopIteration", "StopAllIterationAndWatermark",
		"StopIterationAndBuffer", "StopIterationNoBuffer"}[s]
}

// LocalReply is a response the plugin sent with proxy_send_local_response.
type LocalReply struct {
	Status int
	Body   []byte
	// Headers are the additional headers the plugin asked for.
	Headers Headers
	// Details is the response code details, spaces replaced by "_".
	Details string
	// GRPCStatus is the grpc_status argument (-1: none).
	GRPCStatus int32
}

// UpstreamRequest is what reached the upstream, byte for byte.
type UpstreamRequest struct {
	Headers     Headers // final request headers, after the filter's changes
	HeadersSent bool
	Body        []byte
	Trailers    Headers
	End         bool // end of stream reached the upstream
}

// ClientResponse is what reached the client, byte for byte.
type ClientResponse struct {
	Status   int // :status of the headers sent (0: none yet)
	Headers  Headers
	Body     []byte
	Trailers Headers
	End      bool
	// LocalReply is set when the plugin (or a failed VM) answered locally.
	LocalReply *LocalReply
	// Reset is set when the stream was reset (proxy_close_stream, Close
	// before the response ended); Details says why ("wasm_close_stream").
	Reset   bool
	Details string
}

// HTTPSink receives, as they happen, what an HTTP stream sends to the
// upstream and to the client. A gateway implements it to write to its
// sockets. Methods are called from the goroutine running the VM; they must
// not call back into the same VM synchronously (hand the work to another
// goroutine instead).
type HTTPSink interface {
	OnUpstreamHeaders(h Headers, endStream bool)
	OnUpstreamData(b []byte, endStream bool)
	OnUpstreamTrailers(h Headers)
	OnClientHeaders(h Headers, endStream bool)
	OnClientData(b []byte, endStream bool)
	OnClientTrailers(h Headers)
	// OnLocalReply announces a local reply; its headers and body then
	// follow through OnClientHeaders/OnClientData, after the filter's own
	// response callbacks have seen them, as in Envoy.
	OnLocalReply(r LocalReply)
	// OnReset: the stream is reset; the gateway drops both sides.
	OnReset(details string)
}

// direction is one half of an HTTP stream (request: decoder side; response:
// encoder side) as Envoy's filter manager and wasm Context hold it.
type direction struct {
	resp bool

	headers       Headers // latest headers (kept for properties)
	headersAvail  bool    // the map is readable/writable by the filter
	trailers      Headers
	hasTrailers   bool
	trailersAvail bool
	body          []byte // the body buffer the filter sees
	bodyAvail     bool

	stoppedAll      bool   // headers paused: StopAllIteration
	held            []byte // data held while stoppedAll (not given to the filter)
	buffering       bool   // body paused: StopIterationAndBuffer
	trailersStopped bool
	addedTrailers   bool // the filter added trailers in its last body callback
	end             bool // end of stream received from the peer
	headersSent     bool
	sentEnd         bool
}

// HTTPStream is one HTTP stream through the plugin's HTTP filter on a VM.
// Drive it with the Request*/Response* methods, in protocol order; read what
// reached each side with Upstream and Client. Methods are safe for concurrent
// use (they serialize on the VM).
//
// A WebSocket (or any upgrade) is a stream whose response headers carry
// :status 101; after them the raw bytes go through RequestBody and
// ResponseBody, unframed, as Envoy passes them.
type HTTPStream struct {
	filter
	sink HTTPSink

	req, resp direction
	upstream  UpstreamRequest
	client    ClientResponse

	route  *Route // the route the request headers matched (nil: none)
	routed bool   // route resolved

	localReplied bool
	reset        bool
	finished     bool
	accessLog    bool // inside proxy_on_log
}

// NewHTTPStream starts a stream on the VM with the connection's properties.
// What reaches the upstream and the client is recorded (see Upstream,
// Client).
func (vm *VM) NewHTTPStream(props Properties) *HTTPStream {
	return vm.NewHTTPStreamSink(props, nil)
}

// NewHTTPStreamSink is NewHTTPStream delivering to sink. With a sink, bodies
// are not recorded (headers, status and end flags still are).
func (vm *VM) NewHTTPStreamSink(props Properties, sink HTTPSink) *HTTPStream {
	if props.ConnectionID == 0 {
		props.ConnectionID = vm.p.connSeq.Add(1)
	}
	return &HTTPStream{filter: filter{vm: vm, props: props}, sink: sink, resp: direction{resp: true}}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// ensure creates the stream context lazily, as Envoy does at decodeHeaders.
func (s *HTTPStream) ensure() {
	if s.ctx != nil || s.vm.failed != nil {
		return
	}
	s.ctx = s.vm.newContext()
	s.ctx.stream = s
	s.vm.call(s.ctx, s.vm.ex.contextCreate, uint64(s.ctx.id), uint64(s.vm.root.id))
	s.vm.runDeferred()
}

func (s *HTTPStream) do(f func() FilterStatus) FilterStatus {
	st := Continue
	if err := s.vm.run(func() { st = f() }); err != nil {
		return StopAllIteration
	}
	return st
}

// RequestHeaders delivers the request headers (proxy_on_request_headers).
func (s *HTTPStream) RequestHeaders(h Headers, endStream bool) FilterStatus {
	return s.headers(&s.req, h, endStream)
}

// RequestBody delivers a request body chunk (proxy_on_request_body).
func (s *HTTPStream) RequestBody(b []byte, endStream bool) FilterStatus {
	return s.body(&s.req, b, endStream)
}

// RequestTrailers delivers the request trailers (proxy_on_request_trailers).
func (s *HTTPStream) RequestTrailers(h Headers) FilterStatus { return s.trailers(&s.req, h) }

// ResponseHeaders delivers the upstream's response headers
// (proxy_on_response_headers). Ignored after a local reply.
func (s *HTTPStream) ResponseHeaders(h Headers, endStream bool) FilterStatus {
	return s.headers(&s.resp, h, endStream)
}

// ResponseBody delivers an upstream response body chunk.
func (s *HTTPStream) ResponseBody(b []byte, endStream bool) FilterStatus {
	return s.body(&s.resp, b, endStream)
}

// ResponseTrailers delivers the upstream's response trailers.
func (s *HTTPStream) ResponseTrailers(h Headers) FilterStatus { return s.trailers(&s.resp, h) }

// headers, body and trailers deliver one direction's headers, body chunk or trailers; nothing
// after the stream finished or answered locally, nor headers twice.
func (s *HTTPStream) headers(d *direction, h Headers, endStream bool) FilterStatus {
	return s.do(func() FilterStatus {
		if s.finished || s.localReplied || d.headersSent || d.stoppedAll {
			return Continue
		}
		s.ensure()
		if !d.resp && !s.routed && s.ctx != nil {
			s.routed = true
			s.route = s.ctx.root.plugin.cfg.route(h)
		}
		return s.onHeaders(d, h, endStream)
	})
}

func (s *HTTPStream) body(d *direction, b []byte, endStream bool) FilterStatus {
	return s.do(func() FilterStatus {
		if s.finished || s.localReplied {
			return Continue
		}
		return s.onData(d, b, endStream)
	})
}

func (s *HTTPStream) trailers(d *direction, h Headers) FilterStatus {
	return s.do(func() FilterStatus {
		if s.finished || s.localReplied {
			return Continue
		}
		return s.onTrailers(d, h)
	})
}

// Close ends the stream. If the response has not ended, this is a
// downstream disconnect: the stream is reset. Either way the filter's
// context ends with proxy_on_log, proxy_on_done and proxy_on_delete.
func (s *HTTPStream) Close() {
	_ = s.vm.run(func() {
		if s.finished {
			return
		}
		if !s.resp.sentEnd && !s.reset {
			s.reset = true
			s.client.Reset = true
			if s.client.Details == "" {
				s.client.Details = "downstream_remote_disconnect"
			}
		}
		s.finish()
	})
}

// Upstream returns what has reached the upstream so far.
func (s *HTTPStream) Upstream() UpstreamRequest {
	return runGet(s.vm, func() UpstreamRequest {
		u := s.upstream
		detach(&u.Headers, &u.Body, &u.Trailers)
		return u
	})
}

// Client returns what has reached the client so far.
func (s *HTTPStream) Client() ClientResponse {
	return runGet(s.vm, func() ClientResponse {
		c := s.client
		detach(&c.Headers, &c.Body, &c.Trailers)
		if c.LocalReply != nil {
			r := *c.LocalReply
			r.Headers, r.Body = r.Headers.Clone(), append([]byte(nil), r.Body...)
			c.LocalReply = &r
		}
		return c
	})
}

// detach replaces a copied message's headers, body and trailers with copies
// of their own, so that the caller's value no longer shares the stream's.
func detach(headers *Headers, body *[]byte, trailers *Headers) {
	*headers = headers.Clone()
	*body = append([]byte(nil), *body...)
	*trailers = trailers.Clone()
}

// Done reports whether the stream's context has ended.
func (s *HTTPStream) Done() bool { return runGet(s.vm, func() bool { return s.finished }) }

// ---- filter-manager logic (runs inside a VM task) ----

// dir is the response direction if resp, else the request one.
func (s *HTTPStream) dir(resp bool) *direction {
	if resp {
		return &s.resp
	}
	return &s.req
}

func (s *HTTPStream) fns(d *direction) (hdr, body, trl api.Function) {
	e := &s.vm.ex
	if d.resp {
		return e.responseHeaders, e.responseBody, e.responseTrailers
	}
	return e.requestHeaders, e.requestBody, e.requestTrailers
}

// failed handles a failed VM as Envoy's CHECK_FAIL_HTTP: fail open passes
// the data on, fail closed answers 503 "wasm_fail_stream".
func (s *HTTPStream) failed() bool {
	if s.vm.failed == nil {
		return false
	}
	if !s.vm.p.cfg.FailOpen && !s.localReplied && !s.finished {
		s.localReplied = true
		r := LocalReply{Status: 503, Details: "wasm_fail_stream", GRPCStatus: 14}
		s.client.LocalReply = &r
		s.client.Details = r.Details
		if s.sink != nil {
			s.sink.OnLocalReply(r)
		}
		s.resp = direction{resp: true}
		s.sendHeaders(&s.resp, Headers{{":status", "503"}}, true)
	}
	return true
}

func (s *HTTPStream) onHeaders(d *direction, h Headers, eos bool) FilterStatus {
	return s.onOwnedHeaders(d, normalizeHeaders(h), eos)
}

// onOwnedHeaders is onHeaders for a normalized map the stream owns (a local reply's, built
// here): it is not copied again.
func (s *HTTPStream) onOwnedHeaders(d *direction, h Headers, eos bool) FilterStatus {
	d.headers = h
	d.end = eos
	send := func() { s.sendHeaders(d, d.headers, eos) }
	if st, failed := s.afterFailure(StopAllIteration, send); failed {
		return st
	}
	fn, _, _ := s.fns(d)
	return s.filterFields(fn, &d.headersAvail, &d.stoppedAll, StopAllIteration, send,
		uint64(s.ctx.id), uint64(len(d.headers)), b2u(eos))
}

// afterFailure reports whether the VM has failed, and then what the stream does: with FailOpen it
// forwards (send) and continues, otherwise it stops with closed.
func (s *HTTPStream) afterFailure(closed FilterStatus, send func()) (FilterStatus, bool) {
	if !s.failed() {
		return Continue, false
	}
	if s.vm.p.cfg.FailOpen {
		send()
		return Continue, true
	}
	return closed, true
}

// filterFields runs a headers or trailers callback fn(args): the fields are readable while
// *avail. When the guest stops iteration (or asked to), *stopped is set and the stream stops
// with stop; otherwise send forwards the fields.
func (s *HTTPStream) filterFields(fn api.Function, avail, stopped *bool, stop FilterStatus, send func(), args ...uint64) FilterStatus {
	*avail = true
	r, _ := s.vm.call(s.ctx, fn, args...)
	if s.failed() {
		return stop
	}
	st := Continue
	if uint32(r) != 0 || s.vm.stopNext {
		*stopped = true
		st = stop
	} else {
		*avail = false
		send()
	}
	s.vm.runDeferred()
	return st
}

func (s *HTTPStream) onData(d *direction, b []byte, eos bool) FilterStatus {
	return s.onDataOwned(d, b, eos, false)
}

// onDataOwned is onData; when owned, b is the stream's own (a local reply's body) and becomes
// the filter's buffer without a copy.
func (s *HTTPStream) onDataOwned(d *direction, b []byte, eos, owned bool) FilterStatus {
	if eos {
		d.end = true
	}
	if st, failed := s.afterFailure(StopIterationNoBuffer, func() { s.sendData(d, append([]byte(nil), b...), eos) }); failed {
		return st
	}
	if d.stoppedAll || d.trailersStopped {
		d.held = append(d.held, b...)
		return StopAllIteration
	}
	var buf []byte
	if d.buffering {
		if lim := s.vm.p.cfg.BufferLimit; lim > 0 && len(d.body)+len(b) > lim {
			s.tooLarge(d)
			return StopIterationAndBuffer
		}
		buf = append(d.body, b...)
	} else if owned {
		buf = b
	} else {
		buf = append([]byte(nil), b...)
	}
	return s.filterData(d, buf, eos)
}

func (s *HTTPStream) filterData(d *direction, buf []byte, eos bool) FilterStatus {
	_, fn, _ := s.fns(d)
	d.body, d.bodyAvail = buf, true
	r, _ := s.vm.call(s.ctx, fn, uint64(s.ctx.id), uint64(len(buf)), b2u(eos))
	if s.failed() {
		return StopIterationNoBuffer
	}
	st := Continue
	switch {
	case s.vm.stopNext:
		d.buffering, d.bodyAvail, d.body = false, false, nil
		st = StopIterationNoBuffer
	case uint32(r) != 0:
		d.buffering = true
		st = StopIterationAndBuffer
	default:
		body := d.body
		d.buffering, d.bodyAvail, d.body = false, false, nil
		if d.addedTrailers {
			d.addedTrailers, d.trailersAvail = false, false
			s.sendData(d, body, false)
			s.sendTrailers(d)
		} else {
			s.sendData(d, body, eos)
		}
	}
	s.vm.runDeferred()
	return st
}

func (s *HTTPStream) onTrailers(d *direction, t Headers) FilterStatus {
	d.end = true
	d.trailers = normalizeHeaders(t)
	d.hasTrailers = true
	if st, failed := s.afterFailure(StopIteration, func() { s.sendTrailers(d) }); failed {
		return st
	}
	if d.stoppedAll {
		return StopAllIteration
	}
	return s.filterTrailers(d)
}

func (s *HTTPStream) filterTrailers(d *direction) FilterStatus {
	_, _, fn := s.fns(d)
	send := func() {
		if d.buffering {
			body := d.body
			d.buffering, d.bodyAvail, d.body = false, false, nil
			s.sendData(d, body, false)
		}
		s.sendTrailers(d)
	}
	return s.filterFields(fn, &d.trailersAvail, &d.trailersStopped, StopIteration, send,
		uint64(s.ctx.id), uint64(len(d.trailers)))
}

// resume is continueDecoding/continueEncoding, run after the VM call that
// asked for it. After a headers StopAll, Envoy restarts iteration at this
// filter: held body data and trailers are delivered to it.
func (s *HTTPStream) resume(d *direction) {
	if s.finished || s.reset || (!d.resp && s.localReplied) {
		return
	}
	if d.stoppedAll {
		d.stoppedAll = false
		d.headersAvail = false
		held := d.held
		d.held = nil
		s.sendHeaders(d, d.headers, d.end && len(held) == 0 && !d.hasTrailers)
		if len(held) > 0 {
			if st := s.filterData(d, held, d.end && !d.hasTrailers); st != Continue {
				return
			}
		}
		if d.hasTrailers && !d.sentEnd {
			s.filterTrailers(d)
		}
		return
	}
	if d.buffering {
		body := d.body
		d.buffering, d.bodyAvail, d.body = false, false, nil
		s.sendData(d, body, d.end && !d.hasTrailers)
	}
	if d.trailersStopped {
		d.trailersStopped = false
		d.trailersAvail = false
		if len(d.held) > 0 {
			held := d.held
			d.held = nil
			s.sendData(d, held, false)
		}
		s.sendTrailers(d)
	}
}

func (s *HTTPStream) sendHeaders(d *direction, h Headers, eos bool) {
	d.headersSent = true
	// h is not mutated after it is sent (the filter's access to the map
	// ends with Continue), so the record shares it; readers get clones.
	if d.resp {
		s.client.Headers = h
		if v, ok := h.Get(":status"); ok {
			s.client.Status, _ = strconv.Atoi(v)
		}
		if s.sink != nil {
			s.sink.OnClientHeaders(h.Clone(), eos)
		}
	} else {
		s.upstream.Headers = h
		s.upstream.HeadersSent = true
		if s.sink != nil {
			s.sink.OnUpstreamHeaders(h.Clone(), eos)
		}
	}
	if eos {
		s.ended(d)
	}
}

func (s *HTTPStream) sendData(d *direction, b []byte, eos bool) {
	if len(b) == 0 && !eos {
		return
	}
	// b is the stream's (a buffer the filter has given up): the first chunk is recorded as is.
	if d.resp {
		if s.sink != nil {
			s.sink.OnClientData(b, eos)
		} else {
			s.client.Body = appendOwned(s.client.Body, b)
		}
	} else {
		if s.sink != nil {
			s.sink.OnUpstreamData(b, eos)
		} else {
			s.upstream.Body = appendOwned(s.upstream.Body, b)
		}
	}
	if eos {
		s.ended(d)
	}
}

// appendOwned appends b to rec, taking b itself when rec is empty.
func appendOwned(rec, b []byte) []byte {
	if len(rec) == 0 {
		return b
	}
	return append(rec, b...)
}

func (s *HTTPStream) sendTrailers(d *direction) {
	t := d.trailers.Clone()
	if d.resp {
		s.client.Trailers = t
		if s.sink != nil {
			s.sink.OnClientTrailers(t.Clone())
		}
	} else {
		s.upstream.Trailers = t
		if s.sink != nil {
			s.sink.OnUpstreamTrailers(t.Clone())
		}
	}
	s.ended(d)
}

func (s *HTTPStream) ended(d *direction) {
	d.sentEnd = true
	if d.resp {
		s.client.End = true
		s.finish()
	} else {
		s.upstream.End = true
	}
}

// sendLocalReply is Envoy's sendLocalReply, deferred after the VM call: the
// reply is encoded through the encoder filters (this filter's response
// callbacks see it), then reaches the client; nothing more goes upstream.
// r.Body is the stream's own: it is recorded and handed on without a copy.
func (s *HTTPStream) sendLocalReply(r LocalReply) {
	if s.finished || s.reset || s.localReplied {
		return
	}
	if s.resp.headersSent {
		s.resetStream(r.Details)
		return
	}
	s.localReplied = true
	s.client.LocalReply = &r
	s.client.Details = r.Details
	if s.sink != nil {
		s.sink.OnLocalReply(r)
	}
	s.req.stoppedAll, s.req.buffering, s.req.held = false, false, nil
	if s.isGRPC() {
		s.grpcLocalReply(r)
		return
	}
	// Envoy's Utility::prepareLocalReply: the plugin's headers are added (addCopy) to :status,
	// then a body sets content-length and, when the plugin named none, content-type text/plain;
	// no body removes both.
	// h is built normalized (add keeps pseudo-headers first, names lower case), with room for
	// what the filter adds, and is the stream's: onOwnedHeaders does not copy it again.
	h := make(Headers, 1, len(r.Headers)+localReplyRoom)
	h[0] = [2]string{":status", statusText(r.Status)}
	for _, p := range r.Headers {
		h = h.add(p[0], p[1])
	}
	if len(r.Body) > 0 {
		h = h.set("content-length", strconv.Itoa(len(r.Body)))
		if _, ok := h.Get("content-type"); !ok {
			h = append(h, [2]string{"content-type", "text/plain"})
		}
	} else {
		h = h.remove("content-length").remove("content-type")
	}
	s.resp = direction{resp: true}
	s.onOwnedHeaders(&s.resp, h, len(r.Body) == 0)
	if len(r.Body) > 0 && !s.finished {
		s.onDataOwned(&s.resp, r.Body, true, true)
	}
}

// localReplyRoom is what a local reply's header map holds beyond the plugin's headers: :status,
// content-length and content-type, and room for headers the filter adds (as normalizeHeaders).
const localReplyRoom = 3 + 4

// statusCodes holds the decimal text of the codes 100…599, three bytes each.
var statusCodes = func() string {
	b := make([]byte, 0, 3*500)
	for c := 100; c < 600; c++ {
		b = strconv.AppendInt(b, int64(c), 10)
	}
	return string(b)
}()

// statusText is strconv.Itoa(code), without an allocation for an HTTP status code.
func statusText(code int) string {
	if code >= 100 && code < 600 {
		i := (code - 100) * 3
		return statusCodes[i : i+3]
	}
	return strconv.Itoa(code)
}

// tooLarge is Envoy's requestDataTooLarge / responseDataTooLarge for a
// buffering filter.
func (s *HTTPStream) tooLarge(d *direction) {
	d.buffering, d.bodyAvail, d.body = false, false, nil
	if !d.resp {
		s.sendLocalReply(LocalReply{Status: 413, Body: []byte("Payload Too Large"), Details: "request_payload_too_large", GRPCStatus: -1})
		return
	}
	if s.client.Status != 0 || s.resp.headersSent {
		s.resetStream("response_payload_too_large")
		return
	}
	s.localReplied = false
	s.sendLocalReply(LocalReply{Status: 500, Body: []byte("Internal Server Error"), Details: "response_payload_too_large", GRPCStatus: -1})
}

// resetStream is Envoy's resetStream (proxy_close_stream on HTTP).
func (s *HTTPStream) resetStream(details string) {
	if s.finished || s.reset {
		return
	}
	s.reset = true
	s.client.Reset = true
	if s.client.Details == "" {
		s.client.Details = details
	}
	if s.sink != nil {
		s.sink.OnReset(details)
	}
	s.finish()
}

// finish ends the context: proxy_on_log, proxy_on_done, proxy_on_delete
// (Envoy logs the stream before it destroys the filters).
func (s *HTTPStream) finish() {
	if s.finished {
		return
	}
	s.finished = true
	if s.ctx != nil && s.vm.failed == nil {
		// Envoy's Context::log: during proxy_on_log the final request and
		// response headers and response trailers are readable, not
		// writable (getConstMap serves the access-log maps); then
		// proxy_on_done and proxy_on_delete.
		// See https://github.com/envoyproxy/envoy/blob/main/source/extensions/common/wasm/context.cc
		s.accessLog = true
		s.vm.call(s.ctx, s.vm.ex.log, uint64(s.ctx.id))
		s.accessLog = false
		s.vm.runDeferred()
		s.vm.finishContext(s.ctx, false, false)
	}
}

// isGRPC is Envoy's Grpc::Common::isGrpcRequestHeaders: the request's
// content-type is application/grpc, or application/grpc+… / ;….
func (s *HTTPStream) isGRPC() bool {
	ct, _ := s.req.headers.Get("content-type")
	rest, ok := strings.CutPrefix(ct, "application/grpc")
	return ok && (rest == "" || rest[0] == '+' || rest[0] == ';')
}

// grpcLocalReply is Envoy's local reply to a gRPC request: trailers-only,
// :status 200, content-type application/grpc, the plugin's headers,
// grpc-status from the plugin (0…16) or else mapped from the HTTP status,
// the body percent-encoded as grpc-message (not for HEAD), no body.
// See https://github.com/envoyproxy/envoy/blob/main/source/common/http/utility.cc (sendLocalReply, is_grpc_)
func (s *HTTPStream) grpcLocalReply(r LocalReply) {
	h := append(make(Headers, 0, len(r.Headers)+localReplyRoom+1), [2]string{":status", "200"}, [2]string{"content-type", "application/grpc"})
	for _, p := range r.Headers {
		h = h.add(p[0], p[1])
	}
	if _, set := h.Get("grpc-status"); !set {
		code := httpToGRPCStatus(r.Status)
		if r.GRPCStatus >= 0 && r.GRPCStatus <= 16 {
			code = int(r.GRPCStatus)
		}
		h = append(h, [2]string{"grpc-status", strconv.Itoa(code)})
	}
	if method, _ := s.req.headers.Get(":method"); len(r.Body) > 0 && method != "HEAD" {
		h = append(h, [2]string{"grpc-message", percentEncode(r.Body)})
	}
	h = h.remove("content-length")
	s.resp = direction{resp: true}
	s.onOwnedHeaders(&s.resp, h, true)
}

// httpToGRPCStatus is Envoy's Grpc::Utility::httpToGrpcStatus.
// See https://github.com/envoyproxy/envoy/blob/main/source/common/grpc/status.cc
func httpToGRPCStatus(code int) int {
	switch code {
	case 400:
		return 13 // Internal
	case 401:
		return 16 // Unauthenticated
	case 403:
		return 7 // PermissionDenied
	case 404:
		return 12 // Unimplemented
	case 429, 502, 503, 504:
		return 14 // Unavailable
	}
	return 2 // Unknown
}

// percentEncode is Envoy's PercentEncoding::encode with the default
// reserved set: bytes outside ' '…'~', and '%', become %XX.
func percentEncode(b []byte) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for _, c := range b {
		if c < ' ' || c > '~' || c == '%' {
			sb.WriteByte('%')
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
