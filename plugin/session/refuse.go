package session

import "github.com/iotauthz/iotauthz/plugin/mqtt"

// Refusing a CONNECT with a CONNACK.
//
// AWS IoT Core answers a refused CONNECT with CONNACK "not authorized" (MQTT 3.1.1 return code 5,
// MQTT 5 reason 0x87). The proxy can write to the client only in the broker's direction, so the
// refused CONNECT is replaced by one that every compliant broker must refuse with a CONNACK: an
// MQTT 3.1.1 CONNECT with a zero-byte ClientId and CleanSession 0 ([MQTT-3.1.3-8]: the server
// MUST answer CONNACK 0x02 "identifier rejected" and close). The broker's CONNACK, whatever it
// says, becomes the client's "not authorized" CONNACK in the client's protocol version, and the
// connection closes. The refusal carries nothing of the client (no client id, user name, Will),
// and whatever the broker answers, the client gets the refusal: it never fails open.

// refusalConnect is the MQTT 3.1.1 CONNECT a broker must refuse: protocol "MQTT" level 4, connect
// flags 0 (CleanSession 0, no Will, user name or password), keep-alive 60 s, zero-byte ClientId.
var refusalConnect = []byte{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x3c, 0x00, 0x00}

// maxRefusalAnswer bounds the broker's answer to the refusal CONNECT (a CONNACK has 4 bytes).
const maxRefusalAnswer = 64

// Refuse refuses the CONNECT that waits for the authorizer (after NeedAuth) and returns the
// refusal CONNECT to put in place of the paused buffer (the CONNECT and everything held behind
// it), or nil when no CONNECT waits. The session then behaves as after Status Refusing.
func (s *Session) Refuse() []byte {
	if s.phase != phaseAuth {
		return nil
	}
	s.startRefusal()
	return append(s.cOut[:0], refusalConnect...)
}

// startRefusal forgets everything the client sent and waits for the broker's CONNACK.
func (s *Session) startRefusal() {
	s.phase = phaseRefusing
	s.cHeld, s.toBroker, s.bHeld = s.cHeld[:0], s.toBroker[:0], s.bHeld[:0]
	s.preSent = 0
}

// refusalAnswer handles the broker's bytes while the refusal CONNECT waits for its CONNACK:
// nothing reaches the client until a whole packet (or an invalid one) arrived; then the client
// gets its "not authorized" CONNACK and the Status is Close.
func (s *Session) refusalAnswer(in []byte) Result {
	s.bHeld = append(s.bHeld, in...)
	p, n, err := mqtt.ReadPacket(s.bHeld, mqtt.V311, maxRefusalAnswer)
	if err == nil && n == 0 {
		return Result{Out: s.bOut[:0], Status: Refusing, Reason: s.reason, Details: s.details}
	}
	s.bHeld = s.bHeld[:0]
	s.phase = phaseClosed
	if s.details == "" {
		s.details = "CONNECT refused"
	}
	switch {
	case err != nil:
		s.details += "; the broker answered the refusal CONNECT with an invalid packet (" + err.Error() + ")"
	case p.Type != mqtt.Connack:
		s.details += "; the broker answered the refusal CONNECT with " + p.Type.String()
	case p.ReasonCode != 0x02:
		s.details += "; the broker answered the refusal CONNECT with CONNACK " + hexByte(p.ReasonCode) + ", not 0x02"
	}
	code := byte(5) // MQTT 3.1.1: connection refused, not authorized
	if s.version == mqtt.V5 {
		code = mqtt.ReasonNotAuthorized
	}
	if s.refuseCode != 0 {
		code = s.refuseCode // a limit: "Client Identifier not valid" (see Limits)
	}
	s.bOut = (&mqtt.Packet{Type: mqtt.Connack, ReasonCode: code}).Append(s.bOut[:0], s.version)
	return Result{Out: s.bOut, Status: Close, Reason: s.reason, Details: s.details}
}

func hexByte(b byte) string {
	const digits = "0123456789abcdef"
	return "0x" + string([]byte{digits[b>>4], digits[b&15]})
}
