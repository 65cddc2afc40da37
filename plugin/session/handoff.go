package session

import (
	"bytes"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
	"github.com/iotauthz/iotauthz/plugin/websocket"
)

// The in-place hand-off, for a glue that can write the client's bytes only inside the callback
// that delivered them (a proxy-wasm filter: Envoy forwards the bytes held by a pause without
// calling the filter again, and nothing can be written from the authorizer's answer).
//
// On NeedAuth the glue puts Out + PendingConnect() in place of the input and pauses the
// connection; the CONNECT, and the complete packets the client pipelined behind it, then go to the
// broker exactly when the glue resumes it. When the authorizer answers, Resume checks iot:Connect
// and judges those pipelined packets: if every one passes unchanged the glue resumes; if one is
// denied or must be rewritten (a reject answer), the bytes already in place cannot be changed any
// more, so the connection closes (never fails open). Bytes that arrive while the connection is
// paused, and an incomplete packet, are processed then and go to the broker at the start of the
// next FromClient output.

// PendingConnect returns the CONNECT as it goes to the broker if the authorizer allows it (user
// name rewritten by Options.RewriteUsername), while the session waits after NeedAuth; nil
// otherwise. The bytes are valid until the next call on the session.
func (s *Session) PendingConnect() []byte {
	if s.phase != phaseAuth {
		return nil
	}
	if q := s.rewrittenConnect(); q != nil {
		s.pend = q.Append(s.pend[:0], s.version)
	} else {
		s.pend = append(s.pend[:0], s.connect...)
	}
	s.preSent = s.completePackets(s.cHeld)
	return append(s.pend, s.cHeld[:s.preSent]...)
}

// completePackets returns the length of the whole packets at the start of b.
func (s *Session) completePackets(b []byte) int {
	off := 0
	for off < len(b) {
		_, n, err := mqtt.ReadPacket(b[off:], s.version, s.max)
		if err != nil || n == 0 {
			break
		}
		off += n
	}
	return off
}

// Resume answers NeedAuth with the connection's policy p, for the in-place hand-off: the CONNECT
// is in the paused buffer (PendingConnect). It checks iot:Connect on the client id and the Will;
// denied, the Status is Refusing and Out is the refusal CONNECT to put in place of the paused
// buffer (see Refuse). Allowed, it processes the packets held since the CONNECT under p and
// queues their output for the next FromClient; Out is empty, and the Status is Close when a held
// packet closes the connection.
func (s *Session) Resume(p Policy) Result {
	if !s.answered(p, "Resume") {
		return s.closedResult()
	}
	if s.checkConnect() != Continue {
		s.startRefusal()
		s.cOut = append(s.cOut[:0], refusalConnect...)
		return Result{Out: s.cOut, Status: Refusing, Reason: s.reason, Details: s.details}
	}
	s.phase = phaseOpen
	if n := s.preSent; n > 0 {
		// The pipelined packets already sit in the paused buffer: they must pass unchanged.
		s.preSent = 0
		sent := append([]byte(nil), s.cHeld[:n]...)
		tail := append([]byte(nil), s.cHeld[n:]...)
		s.cHeld = append(s.cHeld[:0], sent...)
		r := s.run(s.cHeld, true, s.cOut[:0], false, true)
		if r.Status == Close {
			return r
		}
		if !bytes.Equal(r.Out, sent) {
			s.closeWith(ReasonForbidden, "a packet sent before the CONNACK was denied or needed an answer")
			return s.closedResult()
		}
		s.cHeld = append(s.cHeld[:0], tail...)
	}
	if len(s.cHeld) == 0 {
		return Result{Status: Continue}
	}
	r := s.run(s.cHeld, true, s.cOut[:0], false, true)
	s.toBroker = append(s.toBroker, r.Out...)
	r.Out, r.Unchanged = nil, false
	return r
}

// PendingConnect returns the CONNECT as it goes to the broker if allowed, framed: see
// Session.PendingConnect. Call it once per NeedAuth.
func (w *WSSession) PendingConnect() []byte {
	c := w.s.PendingConnect()
	if c == nil {
		return nil
	}
	w.src, w.out, w.pass, w.mark = nil, w.pend[:0], false, 0
	w.emit(&w.c, c)
	out := w.out
	w.pend, w.out = out[:0], nil
	return out
}

// Resume is Session.Resume; the queued output is framed by the next FromClient. When the
// CONNECT is refused (Status Refusing), Out is the refusal CONNECT framed (see Refuse).
func (w *WSSession) Resume(p Policy) Result {
	r := w.s.Resume(p)
	if r.Status == Refusing {
		r.Out = w.refusalFrame()
		return r
	}
	r.Out = nil
	return r
}

// Refuse is Session.Refuse: the refusal CONNECT in one final binary frame, masked as a client's.
func (w *WSSession) Refuse() []byte {
	if w.s.Refuse() == nil {
		return nil
	}
	return w.refusalFrame()
}

func (w *WSSession) refusalFrame() []byte {
	f := websocket.Frame{Fin: true, Opcode: websocket.OpBinary, Payload: refusalConnect, Masked: true, MaskKey: w.nextKey()}
	w.c.outOpen = false
	return websocket.AppendFrame(w.pend[:0], &f)
}
