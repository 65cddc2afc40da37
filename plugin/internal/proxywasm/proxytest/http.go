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
// body callback reports the accumulated size; Continue passes what is buffered on.
type direction struct {
	headers, trailers       [][2]string
	buf                     []byte
	gotHeaders, gotTrailers bool
	eos                     bool // the source has ended the stream
	stage                   int
	paused                  bool
	cont                    bool // continue requested, applied after the callback
	dropped                 bool // the host forgot headers and trailers after a continue
	out                     Message
}

// HTTPStream is one HTTP stream through the filter. Feed it with RequestHeaders,
// RequestBody, RequestTrailers and their Response twins; read what passed with Upstream,
// Client and LocalResponse; end it with Close.
type HTTPStream struct {
	ctxState
	e          *Emulator
	req, resp  direction
	local      *LocalResponse
	resetReq   bool
	wasReset   bool
	closed     bool
	lastAction proxywasm.Action
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

func (s *HTTPStream) stopped() bool { return s.local != nil || s.wasReset || s.closed }

// RequestHeaders delivers request headers (proxy_on_request_headers) and returns the
// filter's action (ActionPause also when the filter sent a local response).
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

// ResponseHeaders delivers response headers (proxy_on_response_headers).
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

// Client is the response as it reached the client so far (see also LocalResponse).
func (s *HTTPStream) Client() *Message { return &s.resp.out }

// LocalResponse is the local response the filter sent, or nil.
func (s *HTTPStream) LocalResponse() *LocalResponse { return s.local }

// WasReset reports whether the filter reset the stream (proxy_close_stream).
func (s *HTTPStream) WasReset() bool { return s.wasReset }

// RequestPaused reports whether the filter holds the request.
func (s *HTTPStream) RequestPaused() bool { return s.req.paused }

// ResponsePaused reports whether the filter holds the response.
func (s *HTTPStream) ResponsePaused() bool { return s.resp.paused }

// Close ends the stream: proxy_on_done, proxy_on_log, proxy_on_delete. Pending calls stay.
func (s *HTTPStream) Close() {
	if s.closed {
		return
	}
	s.closed = true
	e := s.e
	e.call(&s.ctxState, func() {
		e.guest.OnDone(s.id)
		e.guest.OnLog(s.id)
		e.guest.OnDelete(s.id)
	})
	delete(e.contexts, s.id)
	e.settle()
}

func (s *HTTPStream) headers(d *direction, isReq bool, h [][2]string, eos bool) proxywasm.Action {
	if s.stopped() || d.gotHeaders {
		return proxywasm.ActionPause
	}
	d.headers, d.gotHeaders, d.eos = lowerKeys(h), true, eos
	if d.headers == nil {
		d.headers = [][2]string{}
	}
	s.lastAction = proxywasm.ActionContinue
	s.pump(d, isReq)
	s.e.settle()
	return s.lastAction
}

func (s *HTTPStream) body(d *direction, isReq bool, b []byte, eos bool) proxywasm.Action {
	if s.stopped() || d.eos {
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
	if s.stopped() || d.eos {
		return proxywasm.ActionPause
	}
	d.trailers, d.gotTrailers, d.eos = lowerKeys(t), true, true
	if d.trailers == nil {
		d.trailers = [][2]string{}
	}
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

// callHeaders etc. run one guest callback for d's side and record its action.
func (s *HTTPStream) invoke(f func() uint32) proxywasm.Action {
	var a uint32
	s.e.call(&s.ctxState, func() { a = f() })
	act := proxywasm.Action(a)
	if s.local != nil || s.resetReq {
		act = proxywasm.ActionPause // Envoy forces a stop after a local response
	}
	s.lastAction = act
	return act
}

// pump delivers whatever d has for the filter until it pauses or runs out.
func (s *HTTPStream) pump(d *direction, isReq bool) {
	g := s.e.guest
	for {
		s.applyReset()
		if s.stopped() || d.paused {
			return
		}
		switch d.stage {
		case stageHeaders:
			if !d.gotHeaders {
				return
			}
			eos := d.eos && len(d.buf) == 0 && !d.gotTrailers
			n, e := uint32(len(d.headers)), b2u(eos)
			var act proxywasm.Action
			if isReq {
				act = s.invoke(func() uint32 { return g.OnRequestHeaders(s.id, n, e) })
			} else {
				act = s.invoke(func() uint32 { return g.OnResponseHeaders(s.id, n, e) })
			}
			if s.stopped() {
				return
			}
			if act != proxywasm.ActionContinue {
				d.paused = true
				return
			}
			d.forwardHeaders(eos)
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
			var act proxywasm.Action
			if isReq {
				act = s.invoke(func() uint32 { return g.OnRequestBody(s.id, n, e) })
			} else {
				act = s.invoke(func() uint32 { return g.OnResponseBody(s.id, n, e) })
			}
			if s.stopped() {
				return
			}
			if act != proxywasm.ActionContinue {
				d.paused = true
				return
			}
			d.forwardBody(eos)
		case stageTrailers:
			n := uint32(len(d.trailers))
			var act proxywasm.Action
			if isReq {
				act = s.invoke(func() uint32 { return g.OnRequestTrailers(s.id, n) })
			} else {
				act = s.invoke(func() uint32 { return g.OnResponseTrailers(s.id, n) })
			}
			if s.stopped() {
				return
			}
			if act != proxywasm.ActionContinue {
				d.paused = true
				return
			}
			d.forwardTrailers()
		default:
			return
		}
	}
}

func (d *direction) forwardHeaders(eos bool) {
	d.out.HeadersSent = true
	d.out.Headers = cloneHeaders(d.headers)
	if eos {
		d.out.EndStream = true
		d.stage = stageDone
	} else {
		d.stage = stageBody
	}
}

func (d *direction) forwardBody(eos bool) {
	d.out.Body = append(d.out.Body, d.buf...)
	d.buf = d.buf[:0]
	if eos {
		d.out.EndStream = true
		d.stage = stageDone
	}
}

func (d *direction) forwardTrailers() {
	d.forwardBody(false)
	d.out.Trailers = cloneHeaders(d.trailers)
	d.out.EndStream = true
	d.stage = stageDone
}

// resume applies a deferred proxy_continue_stream: what the filter held goes on, and the
// host forgets the headers (Envoy drops its pointers).
func (s *HTTPStream) resume(d *direction, isReq bool) {
	d.cont = false
	if !d.paused || s.stopped() {
		return
	}
	d.paused = false
	d.dropped = true
	switch d.stage {
	case stageHeaders:
		d.forwardHeaders(d.eos && len(d.buf) == 0 && !d.gotTrailers)
	case stageBody:
		d.forwardBody(d.eos && !d.gotTrailers)
	case stageTrailers:
		d.forwardTrailers()
	}
	s.pump(d, isReq)
}

func (s *HTTPStream) applyReset() {
	if s.resetReq && !s.wasReset {
		s.wasReset = true
	}
}

// applyDeferred runs the continues, resets and local responses requested during callbacks.
func (s *HTTPStream) applyDeferred() {
	s.applyReset()
	if s.req.cont {
		s.resume(&s.req, true)
	}
	if s.resp.cont {
		s.resume(&s.resp, false)
	}
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
