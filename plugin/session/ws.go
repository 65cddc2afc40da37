package session

import "github.com/iotauthz/iotauthz/plugin/websocket"

// WSSession is the MQTT enforcement processor for MQTT over WebSocket, after the upgrade: the
// same Session, fed with the payload of the RFC 6455 frames of each direction.
//
// Frames may be split and merged arbitrarily across calls, MQTT packets may span frames. Client
// frames must be masked and broker frames must not. The output is a valid frame stream of its own:
// frames whose MQTT content passes as is are forwarded byte for byte (then Result.Unchanged may be
// true for the whole chunk); otherwise the processed MQTT bytes are re-framed as binary frames
// (continuation frames inside a fragmented message, keeping the input's message boundaries),
// masked toward the broker with fresh keys derived from the client's keys. Ping, pong and close
// frames pass through where they were. Text frames, RSV bits (extensions such as permessage-deflate
// cannot be inspected), bad fragmentation, wrong masking and data after a close frame close the
// connection.
type WSSession struct {
	s       *Session
	c, b    wsDir
	keySeed uint64
	pend    []byte // PendingConnect's frame

	// State of the current call.
	src  []byte
	out  []byte
	pass bool
	mark int
}

// wsDir is the frame-level state of one direction.
type wsDir struct {
	client    bool
	hold      []byte // incomplete frame header, or incomplete control frame
	remaining int64  // payload bytes left in the current data frame
	key       [4]byte
	masked    bool
	pos       int  // payload offset in the current frame (for unmasking)
	fin       bool // the current data frame is final
	inMessage bool // a data message is open in the input (set at a data frame header)
	outOpen   bool // a data message is open in the output
	closed    bool // a close frame went through
	clear     []byte
	outBuf    []byte
}

// NewWS returns a WebSocket session; Options as for New.
func NewWS(o Options) *WSSession {
	w := &WSSession{s: New(o)}
	w.c.client = true
	return w
}

// Version returns the MQTT protocol level (0 before the CONNECT).
func (w *WSSession) Version() byte { return w.s.Version() }

// Connect returns what the CONNECT carried, or nil before it arrived.
func (w *WSSession) Connect() *ConnectInfo { return w.s.Connect() }

// TakeAllowedCount: see Session.TakeAllowedCount.
func (w *WSSession) TakeAllowedCount() uint64 { return w.s.TakeAllowedCount() }

// SetPolicy replaces the policy; see Session.SetPolicy.
func (w *WSSession) SetPolicy(p Policy) { w.s.SetPolicy(p) }

// FromClient processes WebSocket bytes from the client toward the broker.
func (w *WSSession) FromClient(in []byte) Result { return w.process(&w.c, in) }

// FromBroker processes WebSocket bytes from the broker toward the client.
func (w *WSSession) FromBroker(in []byte) Result { return w.process(&w.b, in) }

func (w *WSSession) inner(d *wsDir, b []byte) Result {
	if d.client {
		return w.s.FromClient(b)
	}
	return w.s.FromBroker(b)
}

func (w *WSSession) fail(d *wsDir, details string) Result {
	reason := ReasonServerError
	if d.client {
		reason = ReasonClientError
	}
	w.s.closeWith(reason, details)
	return w.finish(d, Close)
}

func (w *WSSession) finish(d *wsDir, st Status) Result {
	r := Result{Status: st}
	if w.pass {
		r.Out = w.src[:w.mark]
		r.Unchanged = st == Continue && w.mark == len(w.src)
	} else {
		r.Out = w.out
		d.outBuf = w.out[:0]
	}
	if st == Close || st == Closing || st == Refusing {
		r.Reason, r.Details, r.Limit = w.s.reason, w.s.details, w.s.limit
	}
	w.src, w.out = nil, nil
	return r
}

func (w *WSSession) materialize() {
	if w.pass {
		w.out = append(w.out, w.src[:w.mark]...)
		w.pass = false
	}
}

// emit frames MQTT output o as the data for the input's current position: it ends the output's
// message when the input is at a message boundary.
func (w *WSSession) emit(d *wsDir, o []byte) {
	fin := !d.inMessage
	if len(o) == 0 && !(d.outOpen && fin) {
		return
	}
	f := websocket.Frame{Fin: fin, Opcode: websocket.OpBinary, Payload: o}
	if d.outOpen {
		f.Opcode = websocket.OpContinuation
	}
	if d.client {
		f.Masked, f.MaskKey = true, w.nextKey()
	}
	w.materialize()
	w.out = websocket.AppendFrame(w.out, &f)
	d.outOpen = !fin
}

// nextKey derives a fresh masking key (SplitMix64 over a state mixed with the client's keys).
func (w *WSSession) nextKey() [4]byte {
	w.keySeed += 0x9e3779b97f4a7c15
	z := w.keySeed
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return [4]byte{byte(z), byte(z >> 8), byte(z >> 16), byte(z >> 24)}
}

// handle applies an inner result; it reports whether processing stops (Close).
func (w *WSSession) handle(d *wsDir, r Result, status *Status) bool {
	w.emit(d, r.Out)
	switch r.Status {
	case Close:
		*status = Close
		return true
	case Closing, Refusing:
		// The PINGREQ that asks the broker for a turn toward the client (Closing), or the refusal
		// CONNECT (Refusing), ends the output: finish its message so the broker reads it, and
		// drop the rest of the client's bytes.
		if d.outOpen {
			open := d.inMessage
			d.inMessage = false
			w.emit(d, nil)
			d.inMessage = open
		}
		*status = r.Status
		return true
	case NeedAuth:
		*status = NeedAuth
	}
	return false
}

func (w *WSSession) process(d *wsDir, in []byte) Result {
	if w.s.phase == phaseClosed {
		return w.s.closedResult()
	}
	if d.client && w.s.phase == phaseClosing {
		return Result{Status: Closing, Reason: w.s.reason, Details: w.s.details}
	}
	w.src, w.out, w.pass, w.mark = in, d.outBuf[:0], true, 0
	status := Continue
	if d.client && w.s.phase == phaseAuth {
		status = NeedAuth
	}
	if len(d.hold) > 0 || d.remaining > 0 {
		w.pass = false
	}
	if d.client && len(w.s.toBroker) > 0 {
		if w.handle(d, w.s.FromClient(nil), &status) {
			return w.finish(d, status)
		}
	}
	pos := 0
	for pos < len(in) {
		if d.remaining > 0 {
			n := int(min(d.remaining, int64(len(in)-pos)))
			if w.portion(d, in[pos:pos+n], &status) {
				return w.finish(d, status)
			}
			pos += n
			continue
		}
		// At a frame start: the header (and a control frame's payload) may be split.
		buf, held := in[pos:], len(d.hold)
		if held > 0 {
			d.hold = append(d.hold, in[pos:min(len(in), pos+14+websocket.MaxControlPayload)]...)
			buf = d.hold
		}
		f, n, err := websocket.ReadHeader(buf, 0)
		if err != nil {
			return w.fail(d, "websocket protocol error: "+err.(*websocket.Error).Reason)
		}
		total := n
		if f.Opcode.IsControl() {
			total += int(f.Length)
		}
		if n == 0 || len(buf) < total {
			if held == 0 {
				d.hold = append(d.hold[:0], buf...)
			}
			pos = len(in)
			break
		}
		frame := buf[:total]
		pos += total - held
		d.hold = d.hold[:0]
		if msg := d.check(&f); msg != "" {
			return w.fail(d, "websocket protocol error: "+msg)
		}
		if f.Masked {
			k := uint64(f.MaskKey[0]) | uint64(f.MaskKey[1])<<8 | uint64(f.MaskKey[2])<<16 | uint64(f.MaskKey[3])<<24
			w.keySeed ^= k<<32 | k
		}
		if f.Opcode.IsControl() {
			if f.Opcode == websocket.OpClose {
				d.closed = true
			}
			if w.pass && held == 0 {
				w.mark = pos
			} else {
				w.materialize()
				w.out = append(w.out, frame...)
			}
			continue
		}
		// A data frame.
		d.remaining, d.key, d.masked, d.pos, d.fin = f.Length, f.MaskKey, f.Masked, 0, f.Fin
		agree := d.inMessage == d.outOpen
		d.inMessage = true
		whole := held == 0 && int64(len(in)-pos) >= f.Length
		if !whole {
			w.materialize()
			if f.Length == 0 {
				if w.portion(d, nil, &status) {
					return w.finish(d, status)
				}
			}
			continue
		}
		end := pos + int(f.Length)
		clear := w.unmask(d, in[pos:end])
		d.pos, d.remaining = int(f.Length), 0
		if d.fin {
			d.inMessage = false
		}
		r := w.inner(d, clear)
		if r.Unchanged && agree && r.Status == Continue {
			// The frame goes as it came.
			d.outOpen = d.inMessage
			if w.pass {
				w.mark = end
			} else {
				w.out = append(w.out, in[pos-n:end]...)
			}
		} else {
			w.materialize()
			if w.handle(d, r, &status) {
				return w.finish(d, status)
			}
		}
		pos = end
	}
	return w.finish(d, status)
}

// portion processes payload bytes of the current data frame (not all of it, or held over calls).
func (w *WSSession) portion(d *wsDir, b []byte, status *Status) bool {
	w.materialize()
	clear := w.unmask(d, b)
	d.pos += len(b)
	d.remaining -= int64(len(b))
	if d.remaining == 0 && d.fin {
		d.inMessage = false
	}
	return w.handle(d, w.inner(d, clear), status)
}

func (w *WSSession) unmask(d *wsDir, b []byte) []byte {
	if !d.masked {
		return b
	}
	d.clear = append(d.clear[:0], b...)
	websocket.Mask(d.key, d.pos, d.clear)
	return d.clear
}

// check applies the rules that need the direction's state.
func (d *wsDir) check(f *websocket.Frame) string {
	if f.Rsv != 0 {
		return "RSV bits set (WebSocket extensions are not supported)"
	}
	if d.client && !f.Masked {
		return "unmasked frame from the client"
	}
	if !d.client && f.Masked {
		return "masked frame from the server"
	}
	if d.closed {
		return "frame after a close frame"
	}
	switch f.Opcode {
	case websocket.OpText:
		return "text frame (MQTT needs binary frames)"
	case websocket.OpBinary:
		if d.inMessage {
			return "new data frame inside a fragmented message"
		}
	case websocket.OpContinuation:
		if !d.inMessage {
			return "continuation frame outside a fragmented message"
		}
	}
	return ""
}

// WillAllowed re-checks the Will; see Session.WillAllowed.
func (w *WSSession) WillAllowed() bool { return w.s.WillAllowed() }

// EndToBroker is Session.EndToBroker framed toward the broker: a message left open by the
// client's fragments is finished first, so the DISCONNECT is a message of its own.
func (w *WSSession) EndToBroker() []byte {
	d := w.s.EndToBroker()
	w.src, w.out, w.pass, w.mark = nil, nil, false, 0
	w.c.inMessage = false
	if w.c.outOpen {
		w.emit(&w.c, nil)
	}
	w.emit(&w.c, d)
	out := w.out
	w.out = nil
	return out
}
