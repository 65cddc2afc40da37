//go:build !wasm

package proxytest

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

// Message is what passed the filter in one direction: the request as it reached the
// upstream, or the response as it reached the client.
type Message struct {
	HeadersSent bool
	Headers     [][2]string
	Body        []byte
	Trailers    [][2]string
	EndStream   bool
}

// Header returns the first value of key in m's headers.
func (m *Message) Header(key string) string { v, _ := lookup(m.Headers, key); return v }

// LocalResponse is a proxy_send_local_response.
type LocalResponse struct {
	Status     uint32
	Headers    [][2]string
	Body       []byte
	GRPCStatus *int32 // nil: none
	Details    string
}

// Header returns the first value of key in the local response's headers.
func (r *LocalResponse) Header(key string) string { v, _ := lookup(r.Headers, key); return v }

const (
	stageHeaders = iota
	stageBody
	stageTrailers
	stageDone
)

// direction is one side of an HTTP stream as Envoy's filter manager drives it for this
// filter: headers, then body chunks, then trailers; Pause on headers holds everything
// (StopAllIteration, body buffered without callbacks), Pause on a body buffers and the next
// body callback reports the accumulated size; Continue passes what is buffered on. As in
// Envoy, the headers (trailers) are readable only until they are passed on: during their
// callback and while the filter holds them.
type direction struct {
	headers, trailers       [][2]string
	hOwned, tOwned          bool // headers/trailers are the emulator's copy (else the caller's)
	buf                     []byte
	gotHeaders, gotTrailers bool
	eos                     bool // the source has ended the stream
	stage                   int
	paused                  bool
	cont                    bool // continue requested, applied after the callback
	out                     Message
}

// HTTPStream is one HTTP stream through the filter. Feed it with RequestHeaders,
// RequestBody, RequestTrailers and their Response twins; read what passed with Upstream,
// Client and LocalResponse. The context ends (proxy_on_log, proxy_on_done, proxy_on_delete)
// when the response has reached the client, on a reset, or on Close.
type HTTPStream struct {
	ctxState
	e            *Emulator
	req, resp    direction
	local        *LocalResponse
	localApplied bool
	resetReq     bool
	wasReset     bool
	finished     bool
	lastAction   proxywasm.Action
}

// NewHTTPStream opens a stream context under the root context (proxy_on_context_create).
// props are the stream's properties by dotted path ("source.address",
// "connection.requested_server_name", "request.protocol"); the map is not modified.
func (e *Emulator) NewHTTPStream(props map[string]string) *HTTPStream {
	s := &HTTPStream{e: e}
	s.id = e.newID()
	s.props = props
	s.http = s
	e.contexts[s.id] = &s.ctxState
	e.call(&s.ctxState, func() { e.guest.OnContextCreate(s.id, e.root.id) })
	return s
}

// ID is the stream's context id.
func (s *HTTPStream) ID() uint32 { return s.id }

func (s *HTTPStream) stopped() bool { return s.wasReset || s.finished }

// RequestHeaders delivers request headers (proxy_on_request_headers) and returns the
// filter's action (ActionPause also when the filter sent a local response). The emulator
// may keep h (copying it before any change): do not modify it afterwards.
func (s *HTTPStream) RequestHeaders(h [][2]string, endOfStream bool) proxywasm.Action {
	return s.headers(&s.req, true, h, endOfStream)
}

// RequestBody delivers a request body chunk. While the filter holds the headers the chunk
// is only buffered (no callback, ActionPause).
func (s *HTTPStream) RequestBody(b []byte, endOfStream bool) proxywasm.Action {
	return s.body(&s.req, true, b, endOfStream)
}

// RequestTrailers delivers request trailers (ends the request).
func (s *HTTPStream) RequestTrailers(t [][2]string) proxywasm.Action {
	return s.trailers(&s.req, true, t)
}

// ResponseHeaders delivers the upstream's response headers (proxy_on_response_headers);
// ignored (ActionPause) after a local response.
func (s *HTTPStream) ResponseHeaders(h [][2]string, endOfStream bool) proxywasm.Action {
	return s.headers(&s.resp, false, h, endOfStream)
}

// ResponseBody delivers a response body chunk.
func (s *HTTPStream) ResponseBody(b []byte, endOfStream bool) proxywasm.Action {
	return s.body(&s.resp, false, b, endOfStream)
}

// ResponseTrailers delivers response trailers (ends the response).
func (s *HTTPStream) ResponseTrailers(t [][2]string) proxywasm.Action {
	return s.trailers(&s.resp, false, t)
}

// Upstream is the request as it reached the upstream so far.
func (s *HTTPStream) Upstream() *Message { return &s.req.out }

// Client is the response as it reached the client so far, a local response included (it
// goes through the filter's response callbacks first, as in Envoy).
func (s *HTTPStream) Client() *Message { return &s.resp.out }

// LocalResponse is the local response the filter sent, or nil.
func (s *HTTPStream) LocalResponse() *LocalResponse { return s.local }

// WasReset reports whether the stream was reset (proxy_close_stream, a local response after
// the response headers went out, or Close before the response ended).
func (s *HTTPStream) WasReset() bool { return s.wasReset }

// Finished reports whether the stream's context has ended.
func (s *HTTPStream) Finished() bool { return s.finished }

// RequestPaused reports whether the filter holds the request.
func (s *HTTPStream) RequestPaused() bool { return s.req.paused }

// ResponsePaused reports whether the filter holds the response.
func (s *HTTPStream) ResponsePaused() bool { return s.resp.paused }

// Close ends the stream; before the response has ended this is a client disconnect and
// resets the stream. Pending http calls stay pending.
func (s *HTTPStream) Close() {
	if s.finished {
		return
	}
	if !s.resp.out.EndStream {
		s.wasReset = true
	}
	s.finish()
	s.e.settle()
}

// finish ends the context: proxy_on_log, proxy_on_done, proxy_on_delete (Envoy logs the
// stream before it destroys the filter).
func (s *HTTPStream) finish() {
	if s.finished {
		return
	}
	s.finished = true
	e := s.e
	e.call(&s.ctxState, func() {
		if e.guest.OnLog != nil {
			e.guest.OnLog(s.id)
		}
		e.guest.OnDone(s.id)
		e.guest.OnDelete(s.id)
	})
	delete(e.contexts, s.id)
}

func (s *HTTPStream) headers(d *direction, isReq bool, h [][2]string, eos bool) proxywasm.Action {
	if s.stopped() || d.gotHeaders || (!isReq && s.local != nil) {
		return proxywasm.ActionPause
	}
	d.headers, d.hOwned = adopt(h)
	d.gotHeaders, d.eos = true, eos
	s.lastAction = proxywasm.ActionContinue
	s.pump(d, isReq)
	s.e.settle()
	return s.lastAction
}

func (s *HTTPStream) body(d *direction, isReq bool, b []byte, eos bool) proxywasm.Action {
	if s.stopped() || d.eos || (!isReq && s.local != nil) {
		return proxywasm.ActionPause
	}
	d.buf = append(d.buf, b...)
	d.eos = eos
	if d.stage == stageHeaders {
		s.lastAction = proxywasm.ActionPause // held with the headers, no callback
	} else {
		d.paused = false // a paused body is delivered again with the accumulated size
		s.lastAction = proxywasm.ActionContinue
	}
	s.pump(d, isReq)
	s.e.settle()
	return s.lastAction
}

func (s *HTTPStream) trailers(d *direction, isReq bool, t [][2]string) proxywasm.Action {
	if s.stopped() || d.eos || (!isReq && s.local != nil) {
		return proxywasm.ActionPause
	}
	d.trailers, d.tOwned = adopt(t)
	d.gotTrailers, d.eos = true, true
	if d.stage == stageHeaders {
		s.lastAction = proxywasm.ActionPause
	} else {
		if d.stage == stageBody {
			d.stage, d.paused = stageTrailers, false
		}
		s.lastAction = proxywasm.ActionContinue
	}
	s.pump(d, isReq)
	s.e.settle()
	return s.lastAction
}

// invoke runs one guest callback and records its action. interrupted reports that the
// callback sent a local response or reset the stream, which has been carried out: the
// caller must not look at its direction again.
func (s *HTTPStream) invoke(f func() uint32) (act proxywasm.Action, interrupted bool) {
	var a uint32
	s.e.call(&s.ctxState, func() { a = f() })
	act = proxywasm.Action(a)
	if s.resetReq || (s.local != nil && !s.localApplied) {
		s.applyDeferred()
		s.lastAction = proxywasm.ActionPause // Envoy stops the iteration after a local response
		return proxywasm.ActionPause, true
	}
	s.lastAction = act
	return act, s.stopped()
}

// pump delivers whatever d has for the filter until it pauses or runs out.
func (s *HTTPStream) pump(d *direction, isReq bool) {
	g := s.e.guest
	for {
		if s.stopped() || d.paused || (isReq && s.local != nil) {
			return
		}
		var act proxywasm.Action
		var stop bool
		switch d.stage {
		case stageHeaders:
			if !d.gotHeaders {
				return
			}
			eos := d.eos && len(d.buf) == 0 && !d.gotTrailers
			n, e := uint32(len(d.headers)), b2u(eos)
			if isReq {
				act, stop = s.invoke(func() uint32 { return g.OnRequestHeaders(s.id, n, e) })
			} else {
				act, stop = s.invoke(func() uint32 { return g.OnResponseHeaders(s.id, n, e) })
			}
			if stop {
				return
			}
			if act != proxywasm.ActionContinue {
				d.paused = true
				return
			}
			s.forwardHeaders(d, eos)
		case stageBody:
			eos := d.eos && !d.gotTrailers
			if len(d.buf) == 0 && !eos {
				if d.gotTrailers {
					d.stage = stageTrailers
					continue
				}
				return
			}
			n, e := uint32(len(d.buf)), b2u(eos)
			if isReq {
				act, stop = s.invoke(func() uint32 { return g.OnRequestBody(s.id, n, e) })
			} else {
				act, stop = s.invoke(func() uint32 { return g.OnResponseBody(s.id, n, e) })
			}
			if stop {
				return
			}
			if act != proxywasm.ActionContinue {
				d.paused = true
				return
			}
			s.forwardBody(d, eos)
		case stageTrailers:
			n := uint32(len(d.trailers))
			if isReq {
				act, stop = s.invoke(func() uint32 { return g.OnRequestTrailers(s.id, n) })
			} else {
				act, stop = s.invoke(func() uint32 { return g.OnResponseTrailers(s.id, n) })
			}
			if stop {
				return
			}
			if act != proxywasm.ActionContinue {
				d.paused = true
				return
			}
			s.forwardTrailers(d)
		default:
			return
		}
	}
}

func (s *HTTPStream) forwardHeaders(d *direction, eos bool) {
	d.out.HeadersSent = true
	d.out.Headers = d.headers // no longer reachable by the filter
	d.stage = stageBody
	if eos {
		s.ended(d)
	}
}

func (s *HTTPStream) forwardBody(d *direction, eos bool) {
	d.out.Body = append(d.out.Body, d.buf...)
	d.buf = d.buf[:0]
	if eos {
		s.ended(d)
	}
}

func (s *HTTPStream) forwardTrailers(d *direction) {
	d.out.Body = append(d.out.Body, d.buf...)
	d.buf = d.buf[:0]
	d.out.Trailers = d.trailers
	s.ended(d)
}

// ended marks d's end; the response's end completes the stream.
func (s *HTTPStream) ended(d *direction) {
	d.out.EndStream = true
	d.stage = stageDone
	if d == &s.resp {
		s.finish()
	}
}

// resume applies a deferred proxy_continue_stream: what the filter held goes on.
func (s *HTTPStream) resume(d *direction, isReq bool) {
	d.cont = false
	if !d.paused || s.stopped() || (isReq && s.local != nil) {
		return
	}
	d.paused = false
	switch d.stage {
	case stageHeaders:
		s.forwardHeaders(d, d.eos && len(d.buf) == 0 && !d.gotTrailers)
	case stageBody:
		s.forwardBody(d, d.eos && !d.gotTrailers)
	case stageTrailers:
		s.forwardTrailers(d)
	}
	s.pump(d, isReq)
}

// applyLocal carries out a local response: nothing more goes upstream; the response
// (":status", content-length and content-type for a body, the plugin's headers, the body)
// goes through the filter's response callbacks to the client. After the response headers
// went out, Envoy resets the stream instead.
func (s *HTTPStream) applyLocal() {
	s.localApplied = true
	if s.resp.out.HeadersSent {
		s.wasReset = true
		s.finish()
		return
	}
	lr := s.local
	h := [][2]string{{":status", itoa(lr.Status)}}
	if len(lr.Body) > 0 {
		h = append(h, [2]string{"content-length", itoa(uint32(len(lr.Body)))}, [2]string{"content-type", "text/plain"})
	}
	h = append(h, lr.Headers...)
	s.req.paused = false
	s.resp = direction{headers: h, hOwned: true, gotHeaders: true, buf: append([]byte(nil), lr.Body...), eos: true}
	s.pump(&s.resp, false)
}

// applyDeferred runs the resets, local responses and continues requested during callbacks.
func (s *HTTPStream) applyDeferred() {
	if s.finished {
		return
	}
	if s.resetReq && !s.wasReset {
		s.wasReset = true
		s.finish()
		return
	}
	if s.local != nil && !s.localApplied {
		s.applyLocal()
		return
	}
	if s.req.cont {
		s.resume(&s.req, true)
	}
	if s.resp.cont {
		s.resume(&s.resp, false)
	}
}

func itoa(v uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
