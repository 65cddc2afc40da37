package session

// Authorize is the one-call answer to NeedAuth, for tests only: the plugin cannot write bytes when
// the authorizer answers and uses the in-place hand-off (PendingConnect, then Resume). Authorize
// checks iot:Connect like Resume, and then processes the held packets under p and returns them in
// Out, so a test sees the outcome of each packet pipelined behind the CONNECT. Allowed, Out is the
// CONNECT (user name rewritten if asked) followed by those packets; denied, the Status is Close.
func (s *Session) Authorize(p Policy) Result {
	if !s.answered(p, "Authorize") {
		return s.closedResult()
	}
	s.src, s.out, s.pass, s.mark = nil, s.cOut[:0], false, 0
	if s.authorizeConnect(s.connect) == Close {
		return s.closedResult()
	}
	s.phase = phaseOpen
	return s.run(s.cHeld, true, s.out, false, true)
}

// Authorize is Session.Authorize (tests only); Out is framed toward the broker.
func (w *WSSession) Authorize(p Policy) Result {
	r := w.s.Authorize(p)
	w.src, w.out, w.pass, w.mark = nil, w.c.outBuf[:0], false, 0
	w.emit(&w.c, r.Out)
	r.Out, r.Unchanged = w.out, false
	w.c.outBuf = w.out[:0]
	w.out = nil
	return r
}
