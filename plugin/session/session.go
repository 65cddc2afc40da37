package session

import (
	"bytes"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

type phase uint8

const (
	phaseConnect  phase = iota // waiting for the CONNECT
	phaseAuth                  // CONNECT held, waiting for Resume
	phaseOpen                  // CONNECT forwarded
	phaseClosing               // MQTT 5 protocol error: waiting for the PINGRESP to answer with DISCONNECT
	phaseRefusing              // CONNECT refused: the refusal CONNECT went to the broker, waiting for its CONNACK
	phaseClosed
)

// Limits on state a peer can make the session keep.
const (
	maxPending = 4096 // synthetic answers waiting for a PINGRESP, SUBACK fixes, QoS 2 ids
)

// Session is the MQTT enforcement processor of one connection (MQTT over TLS: the bytes of the
// MQTT stream itself). It is not safe for concurrent use; a proxy-wasm VM is single-threaded.
type Session struct {
	o       Options
	max     int
	phase   phase
	version byte
	policy  Policy
	memo    memo

	reason, details string
	limit           string // the Decision reason when a limit caused the close (Result.Limit)
	refuseCode      byte   // the refused client's CONNACK code when not "not authorized" (limits)
	keepAlive       uint16 // the keep-alive the broker gets (Options.Limits)

	connect []byte      // copy of the CONNECT packet
	conn    mqtt.Packet // decoded from connect
	info    ConnectInfo

	cHeld, cOut  []byte // client → broker: bytes held (incomplete packet, or all while NeedAuth); output
	toBroker     []byte // acknowledgements owed to the broker, sent before the next client bytes
	pend         []byte // PendingConnect's output
	preSent      int    // bytes of cHeld that PendingConnect put in place, judged by Resume
	quietAllowed uint64 // allowed publish decisions not reported (Options.QuietAllowedPublish)
	bHeld, bOut  []byte // broker → client
	connack      bool
	clientGone   bool // the client sent DISCONNECT

	fifo      []pending // answers owed for PINGREQs, in order
	fifoHead  int
	subs      []subFix // partially denied SUBSCRIBEs waiting for their SUBACK
	rejected2 []uint16 // MQTT 3.1.1: client QoS 2 publishes answered with PUBREC, waiting for PUBREL
	relay1    []uint16 // broker QoS 1 publishes denied: PUBREL sent to the client, its PUBCOMP becomes the PUBACK
	relay2    []uint16 // broker QoS 2 publishes denied: PUBREL sent to the client, its PUBCOMP becomes the PUBREC
	verdicts  []bool   // scratch: per-filter verdicts of one SUBSCRIBE
	fails     []byte   // scratch: per-filter failure codes of one SUBSCRIBE (0: allowed)
	payload   []byte   // scratch: rebuilt SUBSCRIBE payload

	cAlias, bAlias aliases // topic aliases set by the client, by the broker

	// State of the current run.
	src  []byte
	out  []byte
	pass bool // the output so far is src[:mark] itself
	mark int  // offset of the current packet in src
}

// pending is one PINGRESP the broker owes: either for pings client PINGREQs (a run of them), or for
// a PINGREQ the session sent in place of a packet, to be replaced by pkt.
type pending struct {
	pings int
	pkt   []byte
	close bool // pkt is the DISCONNECT that ends the connection (phaseClosing)
}

type subFix struct {
	id    uint16
	codes []byte // one per filter of the client's SUBSCRIBE: the failure code, or placeholder
}

const placeholder = 0xff // not a valid SUBACK code

// New returns a session for one connection.
func New(o Options) *Session {
	s := &Session{o: o, max: o.MaxPacketBytes}
	if s.max <= 0 {
		s.max = DefaultMaxPacketBytes
	}
	n := o.MemoEntries
	if n == 0 {
		n = DefaultMemoEntries
	}
	s.memo.init(n)
	return s
}

// Version returns the MQTT protocol level of the connection: 4 (3.1.1) or 5, or 0 before the
// CONNECT.
func (s *Session) Version() byte { return s.version }

// Connect returns what the CONNECT carried, or nil before it arrived.
func (s *Session) Connect() *ConnectInfo {
	if s.connect == nil {
		return nil
	}
	return &s.info
}

// TakeAllowedCount returns the allowed publish decisions counted since the last call (see
// Options.QuietAllowedPublish) and resets the count.
func (s *Session) TakeAllowedCount() uint64 {
	n := s.quietAllowed
	s.quietAllowed = 0
	return n
}

// SetPolicy replaces the policy (a refresh): the next packet is judged by p. The memo is cleared.
func (s *Session) SetPolicy(p Policy) {
	s.policy = p
	s.memo.reset()
}

// FromClient processes bytes from the client toward the broker. See Result.
func (s *Session) FromClient(in []byte) Result {
	switch s.phase {
	case phaseClosed:
		return s.closedResult()
	case phaseClosing:
		// The client already broke the protocol: nothing more of it reaches the broker.
		return Result{Out: s.cOut[:0], Status: Closing, Reason: s.reason, Details: s.details}
	case phaseRefusing:
		// The CONNECT was refused: nothing more of the client reaches the broker.
		return Result{Out: s.cOut[:0], Status: Refusing, Reason: s.reason, Details: s.details}
	case phaseAuth:
		if len(s.cHeld)+len(in) > 2*s.max {
			s.closeWith(ReasonClientError, "protocol error: too much data before the CONNECT was authorized")
			return s.closedResult()
		}
		s.cHeld = append(s.cHeld, in...)
		return Result{Out: s.cOut[:0], Status: NeedAuth}
	}
	out := s.cOut[:0]
	direct := true
	if len(s.toBroker) > 0 {
		out = append(out, s.toBroker...)
		s.toBroker = s.toBroker[:0]
		direct = false
	}
	if len(s.cHeld) > 0 {
		s.cHeld = append(s.cHeld, in...)
		return s.run(s.cHeld, true, out, false, true)
	}
	return s.run(in, false, out, direct, true)
}

// FromBroker processes bytes from the broker toward the client. See Result.
func (s *Session) FromBroker(in []byte) Result {
	switch s.phase {
	case phaseClosed:
		return s.closedResult()
	case phaseRefusing:
		return s.refusalAnswer(in)
	case phaseConnect, phaseAuth:
		if len(in) == 0 {
			return Result{Out: in, Unchanged: true}
		}
		s.closeWith(ReasonServerError, "protocol error: the broker sent data before the CONNECT")
		return s.closedResult()
	}
	if len(s.bHeld) > 0 {
		s.bHeld = append(s.bHeld, in...)
		return s.run(s.bHeld, true, s.bOut[:0], false, false)
	}
	return s.run(in, false, s.bOut[:0], true, false)
}

// answered starts Resume (or the tests' Authorize; caller names it): it applies p if a CONNECT
// waits for the authorizer's answer, and reports false if the session is closed or closes it now
// with a server error (no CONNECT waits).
func (s *Session) answered(p Policy, caller string) bool {
	if s.phase == phaseClosed {
		return false
	}
	if s.phase != phaseAuth {
		s.closeWith(ReasonServerError, caller+" called without a CONNECT waiting")
		return false
	}
	s.SetPolicy(p)
	return true
}

func (s *Session) closedResult() Result {
	return Result{Status: Close, Reason: s.reason, Details: s.details}
}

// run processes the packets of src. held: src is the direction's held buffer (so the remainder is
// moved down rather than copied). direct: out is empty and src is the caller's input, so the output
// may be src itself.
func (s *Session) run(src []byte, held bool, out []byte, direct bool, client bool) Result {
	s.src, s.out, s.pass, s.mark = src, out, direct, 0
	if client && s.phase == phaseConnect && len(src) > 0 && mqtt.Type(src[0]>>4) != mqtt.Connect {
		s.closeWith(ReasonClientError, "protocol error: the first packet is not CONNECT")
		return s.result(client, Close, 0, held)
	}
	off := 0
	for off < len(src) {
		p, n, err := mqtt.ReadPacket(src[off:], s.version, s.max)
		if err != nil {
			if client {
				code := mqtt.ReasonMalformed
				if e, ok := err.(*mqtt.Error); ok {
					code = e.ReasonCode()
				}
				st := s.clientFault(code, "protocol error: "+err.Error())
				return s.result(client, st, off, held)
			} else {
				s.closeWith(ReasonServerError, "broker protocol error: "+err.Error())
			}
			return s.result(client, Close, off, held)
		}
		if n == 0 {
			break
		}
		s.mark = off
		raw := src[off : off+n]
		var st Status
		if client {
			st = s.clientPacket(&p, raw)
		} else {
			st = s.brokerPacket(&p, raw)
		}
		off += n
		if st == Continue {
			s.mark = off
			continue
		}
		return s.result(client, st, off, held) // on Close or Closing, a pass-through output ends before this packet
	}
	return s.result(client, Continue, off, held)
}

// result finishes a run: the output, and the bytes from off kept for later.
func (s *Session) result(client bool, st Status, off int, held bool) Result {
	var r Result
	r.Status = st
	if s.pass {
		r.Out = s.src[:s.mark]
		r.Unchanged = st == Continue && off == len(s.src)
	} else {
		r.Out = s.out
	}
	rest := s.src[off:]
	if st == Close || st == Closing || st == Refusing {
		rest = nil
		r.Reason, r.Details, r.Limit = s.reason, s.details, s.limit
	}
	if client {
		if !s.pass {
			s.cOut = s.out[:0]
		}
		s.cHeld = keepRest(s.cHeld, rest, held)
	} else {
		if !s.pass {
			s.bOut = s.out[:0]
		}
		s.bHeld = keepRest(s.bHeld, rest, held)
	}
	s.src, s.out = nil, nil
	return r
}

func keepRest(buf, rest []byte, held bool) []byte {
	if held {
		return buf[:copy(buf, rest)]
	}
	return append(buf[:0], rest...)
}

// Output helpers for the current run.

// materialize switches from pass-through to a built output.
func (s *Session) materialize() {
	if s.pass {
		s.out = append(s.out, s.src[:s.mark]...)
		s.pass = false
	}
}

func (s *Session) keep(raw []byte) {
	if !s.pass {
		s.out = append(s.out, raw...)
	}
}

func (s *Session) drop() { s.materialize() }

func (s *Session) emit(p *mqtt.Packet) {
	s.materialize()
	s.out = p.Append(s.out, s.version)
}

var pingreq = []byte{0xc0, 0x00}

// replaceByPing replaces the current packet by a PINGREQ whose PINGRESP becomes answer.
func (s *Session) replaceByPing(answer *mqtt.Packet) Status {
	if len(s.fifo)-s.fifoHead >= maxPending {
		return s.closeWith(ReasonClientError, "protocol error: too many rejected packets waiting for the broker")
	}
	s.materialize()
	s.out = append(s.out, pingreq...)
	s.fifo = append(s.fifo, pending{pkt: answer.Append(nil, s.version)})
	return Continue
}

// clientFault ends the connection for a client's protocol error. MQTT 5 says a server sends a
// DISCONNECT with the reason code before closing ([MQTT-4.13.1-1]); the proxy can reach the
// client only through the broker's direction, so the current packet becomes a PINGREQ whose
// PINGRESP is replaced by that DISCONNECT (status Closing). MQTT 3.1.1 has no such packet: the
// connection closes at once, as its specification says.
func (s *Session) clientFault(code byte, details string) Status {
	if s.version != mqtt.V5 || s.phase != phaseOpen {
		return s.closeWith(ReasonClientError, details)
	}
	s.closeWith(ReasonClientError, details)
	s.phase = phaseClosing
	s.materialize()
	s.out = append(s.out, pingreq...)
	d := mqtt.Packet{Type: mqtt.Disconnect, ReasonCode: code}
	s.fifo = append(s.fifo, pending{pkt: d.Append(nil, s.version), close: true})
	return Closing
}

func (s *Session) closeWith(reason, details string) Status {
	s.phase = phaseClosed
	s.reason, s.details = reason, details
	if s.o.OnDecision != nil {
		s.o.OnDecision(Decision{Event: EventDisconnect, Allowed: true, Reason: reason, Details: details})
	}
	return Close
}

func (s *Session) event(reason string) {
	if s.o.OnDecision != nil {
		s.o.OnDecision(Decision{Event: EventDisconnect, Allowed: true, Reason: reason})
	}
}

// allow decides one action, through the memo, and reports the decision.
func (s *Session) allow(ev string, a Action, name []byte, qos byte, retain bool) bool {
	h := memoHash(a, name)
	ok, hit := s.memo.get(h, a, name)
	if !hit {
		ok = s.policy != nil && s.policy.Allow(a, name)
		s.memo.put(h, a, name, ok)
	}
	if ok && s.o.QuietAllowedPublish && a != Connect && a != Subscribe {
		s.quietAllowed++
		return ok
	}
	if s.o.OnDecision != nil {
		d := Decision{Event: ev, Action: a, Name: name, Allowed: ok, QoS: qos, Retain: retain}
		if !ok {
			d.Reason = ReasonAuthorization
		}
		s.o.OnDecision(d)
	}
	return ok
}

// rejects says whether a denied PUBLISH or SUBSCRIBE is answered (DenyReject) rather than
// closing the connection, with DenyByVersion resolved by the CONNECT's protocol version.
func (s *Session) rejects() bool {
	return s.o.DenyAction == DenyReject || s.o.DenyAction == DenyByVersion && s.version == mqtt.V5
}

func (s *Session) reject() byte {
	if s.version == mqtt.V5 {
		return mqtt.ReasonNotAuthorized
	}
	return 0
}

func (s *Session) subackFailure() byte {
	if s.version == mqtt.V5 {
		return mqtt.ReasonNotAuthorized
	}
	return mqtt.SubackFailure
}

// ---- client → broker ----

func (s *Session) clientPacket(p *mqtt.Packet, raw []byte) Status {
	if s.phase == phaseConnect {
		return s.onConnect(p, raw)
	}
	if s.clientGone {
		return s.closeWith(ReasonClientError, "protocol error: "+p.Type.String()+" after DISCONNECT")
	}
	switch p.Type {
	case mqtt.Publish:
		return s.clientPublish(p, raw)
	case mqtt.Subscribe:
		return s.clientSubscribe(p, raw)
	case mqtt.Pubrel:
		if len(s.rejected2) > 0 && removeID(&s.rejected2, p.PacketID) {
			return s.replaceByPing(&mqtt.Packet{Type: mqtt.Pubcomp, PacketID: p.PacketID})
		}
		s.keep(raw)
	case mqtt.Pingreq:
		if n := len(s.fifo); n > s.fifoHead && s.fifo[n-1].pkt == nil {
			s.fifo[n-1].pings++
		} else {
			s.fifo = append(s.fifo, pending{pings: 1})
		}
		s.keep(raw)
	case mqtt.Disconnect:
		s.clientGone = true
		s.event(ReasonClientDisconnect)
		s.keep(raw)
	case mqtt.Pubcomp:
		// The client's answer to a PUBREL that replaced a denied PUBLISH of the broker: the
		// acknowledgement the broker waits for (see brokerPublish).
		switch {
		case len(s.relay1) > 0 && removeID(&s.relay1, p.PacketID):
			s.emit(&mqtt.Packet{Type: mqtt.Puback, PacketID: p.PacketID})
		case len(s.relay2) > 0 && removeID(&s.relay2, p.PacketID):
			s.emit(&mqtt.Packet{Type: mqtt.Pubrec, PacketID: p.PacketID})
		default:
			s.keep(raw)
		}
	case mqtt.Puback, mqtt.Pubrec, mqtt.Unsubscribe, mqtt.Auth:
		s.keep(raw)
	case mqtt.Connect:
		return s.clientFault(mqtt.ReasonProtocolError, "protocol error: second CONNECT")
	default:
		return s.clientFault(mqtt.ReasonProtocolError, "protocol error: "+p.Type.String()+" sent by the client")
	}
	return Continue
}

func (s *Session) onConnect(p *mqtt.Packet, raw []byte) Status {
	if p.ProtocolLevel == mqtt.V31 {
		return s.closeWith(ReasonClientError, "protocol error: unsupported protocol version 3 (MQTT 3.1)")
	}
	s.version = p.ProtocolLevel
	s.connect = append(s.connect[:0], raw...)
	s.conn, _, _ = mqtt.ReadPacket(s.connect, 0, 0)
	c := &s.conn
	s.info = ConnectInfo{Version: s.version, ClientID: c.ClientID, Username: c.Username, HasUsername: c.HasUsername,
		Password: c.Password, HasPassword: c.HasPassword, KeepAlive: c.KeepAlive, CleanStart: c.CleanStart,
		HasWill: c.Will, WillTopic: c.WillTopic, WillRetain: c.WillRetain, WillQoS: c.WillQoS}
	if pr, ok := c.Properties.Get(mqtt.PropTopicAliasMaximum); ok {
		s.bAlias.max = uint16(pr.Int)
	}
	s.keepAlive = s.o.Limits.keepAlive(c.KeepAlive)
	if r := s.connectLimit(); r.reason != "" {
		return s.refuseForLimit(r)
	}
	if s.o.Preauthorized != nil {
		s.SetPolicy(s.o.Preauthorized)
		if s.authorizeConnect(raw) == Close {
			// The CONNECT is in the caller's buffer: the refusal CONNECT takes its place.
			s.startRefusal()
			s.materialize()
			s.out = append(s.out, refusalConnect...)
			return Refusing
		}
		s.phase = phaseOpen
		return Continue
	}
	s.phase = phaseAuth
	s.drop()
	return NeedAuth
}

// authorizeConnect checks iot:Connect and writes the CONNECT (raw, or rewritten).
func (s *Session) authorizeConnect(raw []byte) Status {
	if st := s.checkConnect(); st != Continue {
		return st
	}
	if q := s.rewrittenConnect(); q != nil {
		s.emit(q)
	} else {
		s.keep(raw)
	}
	return Continue
}

// checkConnect decides the CONNECT as a whole: iot:Connect on the client id (the policy sees the
// connect attributes and the Will topic through ConnectPolicy), then the Will message, which the
// broker publishes on the device's behalf and so needs iot:Publish on its topic, and
// iot:RetainPublish too when it is retained, exactly as a PUBLISH would. A Will the policy does
// not allow refuses the CONNECT: the broker must never hold a Will it could publish.
func (s *Session) checkConnect() Status {
	if cp, ok := s.policy.(ConnectPolicy); ok {
		cp.SetConnect(&s.info)
	}
	// iot:Connect is decided first (a Policy takes ${iot:ClientId} from it) but reported allowed
	// only once the Will passes too: a CONNECT refused for its Will logs one failure, no success.
	ok := s.policy != nil && s.policy.Allow(Connect, s.conn.ClientID)
	if !ok {
		s.report(Decision{Event: EventConnect, Action: Connect, Name: s.conn.ClientID, Reason: ReasonAuthorization})
		return s.closeWith(ReasonForbidden, "iot:Connect denied")
	}
	if s.conn.Will {
		if !s.allowWill(Publish) {
			return s.closeWith(ReasonForbidden, "Will message denied: iot:Publish on the Will topic")
		}
		if s.conn.WillRetain && !s.allowWill(RetainPublish) {
			return s.closeWith(ReasonForbidden, "retained Will message denied: iot:RetainPublish on the Will topic")
		}
	}
	s.report(Decision{Event: EventConnect, Action: Connect, Name: s.conn.ClientID, Allowed: true})
	return Continue
}

func (s *Session) report(d Decision) {
	if s.o.OnDecision != nil {
		s.o.OnDecision(d)
	}
}

// allowWill decides a of the Will topic and reports it as a Connect decision.
func (s *Session) allowWill(a Action) bool {
	ok := s.policy != nil && s.policy.Allow(a, s.conn.WillTopic)
	if s.o.OnDecision != nil {
		d := Decision{Event: EventConnect, Action: a, Name: s.conn.WillTopic, Allowed: ok,
			QoS: s.conn.WillQoS, Retain: s.conn.WillRetain, Will: true}
		if !ok {
			d.Reason = ReasonAuthorization
		}
		s.o.OnDecision(d)
	}
	return ok
}

// WillAllowed re-checks the CONNECT's Will against the current policy (after a refresh): true when
// the CONNECT had no Will or the policy still allows it. The decision is reported like the one made
// at CONNECT.
func (s *Session) WillAllowed() bool {
	if s.connect == nil || !s.conn.Will {
		return true
	}
	return s.allowWill(Publish) && (!s.conn.WillRetain || s.allowWill(RetainPublish))
}

// EndToBroker returns a DISCONNECT for the broker (reason 0x00 in MQTT 5): a normal end of the
// session, after which the broker discards the Will ([MQTT-3.1.2-10]; MQTT 5 §3.14.4). The glue
// puts it in place of the client's bytes and then closes the connection; the session is closed.
func (s *Session) EndToBroker() []byte {
	s.phase = phaseClosed
	return (&mqtt.Packet{Type: mqtt.Disconnect}).Append(nil, s.version)
}

// rewrittenConnect returns the CONNECT as it goes to the broker, or nil when it goes as the client
// sent it: the user name rewritten by Options.RewriteUsername, and the password removed unless
// Options.ForwardPassword says otherwise.
func (s *Session) rewrittenConnect() *mqtt.Packet {
	dropPassword := s.conn.HasPassword && !s.o.ForwardPassword
	user := s.conn.Username
	if s.o.RewriteUsername != nil && s.conn.HasUsername {
		user = s.o.RewriteUsername(s.conn.Username)
	}
	if !dropPassword && bytes.Equal(user, s.conn.Username) && s.keepAlive == s.conn.KeepAlive {
		return nil
	}
	q := s.conn
	q.Username = user
	q.KeepAlive = s.keepAlive
	if dropPassword {
		q.Password, q.HasPassword = nil, false
	}
	if len(user) == 0 && (s.version == mqtt.V5 || !q.HasPassword) {
		q.HasUsername = false
	}
	return &q
}

func (s *Session) clientPublish(p *mqtt.Packet, raw []byte) Status {
	if s.version == mqtt.V5 {
		if _, ok := p.Properties.Get(mqtt.PropSubscriptionID); ok {
			// [MQTT-3.3.4-6]: only the server puts Subscription Identifiers in a PUBLISH.
			return s.clientFault(mqtt.ReasonProtocolError, "protocol error: Subscription Identifier in a PUBLISH from the client")
		}
	}
	topic := p.Topic
	alias := p.TopicAlias
	if alias != 0 {
		if alias > s.cAlias.max {
			return s.clientFault(mqtt.ReasonTopicAliasInvalid, "protocol error: topic alias above the broker's Topic Alias Maximum")
		}
		if len(topic) > 0 {
			s.cAlias.set(alias, topic)
		} else if topic = s.cAlias.get(alias); topic == nil {
			return s.clientFault(mqtt.ReasonProtocolError, "protocol error: unknown topic alias")
		}
	}
	if reason, details, code := s.publishLimit(p, topic); reason != "" {
		st, answer := s.limitDenied(EventPublishIn, Publish, topic, p.QoS, p.Retain, reason, details, code)
		if !answer {
			return st
		}
		if s.version != mqtt.V5 {
			code = 0
		}
		return s.rejectPublish(p, code)
	}
	ok := s.allow(EventPublishIn, Publish, topic, p.QoS, p.Retain)
	if ok && p.Retain {
		ok = s.allow(EventPublishIn, RetainPublish, topic, p.QoS, p.Retain)
	}
	if ok {
		if p.QoS == 2 && len(s.rejected2) > 0 {
			removeID(&s.rejected2, p.PacketID)
		}
		return s.forwardPublish(p, raw, &s.cAlias, topic)
	}
	if !s.rejects() {
		if p.Retain {
			return s.closeWith(ReasonForbidden, "iot:Publish or iot:RetainPublish denied")
		}
		return s.closeWith(ReasonForbidden, "iot:Publish denied")
	}
	return s.rejectPublish(p, s.reject())
}

// rejectPublish answers a denied client PUBLISH under DenyReject: dropped (QoS 0) or acknowledged
// with code through the broker's turn (QoS 1 PUBACK, QoS 2 PUBREC).
func (s *Session) rejectPublish(p *mqtt.Packet, code byte) Status {
	switch p.QoS {
	case 0:
		s.drop()
		return Continue
	case 1:
		return s.replaceByPing(&mqtt.Packet{Type: mqtt.Puback, PacketID: p.PacketID, ReasonCode: code})
	default:
		if s.version != mqtt.V5 {
			if len(s.rejected2) >= maxPending {
				return s.closeWith(ReasonClientError, "protocol error: too many rejected QoS 2 publishes in flight")
			}
			if !hasID(s.rejected2, p.PacketID) {
				s.rejected2 = append(s.rejected2, p.PacketID)
			}
		}
		return s.replaceByPing(&mqtt.Packet{Type: mqtt.Pubrec, PacketID: p.PacketID, ReasonCode: code})
	}
}

// forwardPublish forwards an allowed PUBLISH; one that uses an alias its receiver never learned
// (the packet that set it was dropped) is rewritten to carry the topic.
func (s *Session) forwardPublish(p *mqtt.Packet, raw []byte, t *aliases, topic []byte) Status {
	if p.TopicAlias != 0 {
		e := &t.entries[p.TopicAlias-1]
		if len(p.Topic) == 0 && !e.peerKnows {
			q := *p
			q.Topic = topic
			e.peerKnows = true
			s.emit(&q)
			return Continue
		}
		e.peerKnows = true
	}
	s.keep(raw)
	return Continue
}

func (s *Session) clientSubscribe(p *mqtt.Packet, raw []byte) Status {
	s.verdicts, s.fails = s.verdicts[:0], s.fails[:0]
	denied := 0
	it := p.Filters()
	for f, o, ok := it.Next(); ok; f, o, ok = it.Next() {
		fail := byte(0)
		if details := s.o.Limits.topicLimit(f, true); details != "" {
			st, answer := s.limitDenied(EventSubscribe, Subscribe, f, o&3, false, ReasonLimit, details, codeTopicFilterInvalid)
			if !answer {
				return st
			}
			fail = mqtt.SubackFailure
			if s.version == mqtt.V5 {
				fail = codeTopicFilterInvalid
			}
		} else if !s.allow(EventSubscribe, Subscribe, f, o&3, false) {
			if !s.rejects() {
				return s.closeWith(ReasonForbidden, "iot:Subscribe denied")
			}
			fail = s.subackFailure()
		}
		if fail != 0 {
			denied++
		}
		s.verdicts = append(s.verdicts, fail == 0)
		s.fails = append(s.fails, fail)
	}
	if denied == 0 {
		s.keep(raw)
		return Continue
	}
	codes := make([]byte, len(s.verdicts))
	if denied == len(codes) {
		copy(codes, s.fails)
		return s.replaceByPing(&mqtt.Packet{Type: mqtt.Suback, PacketID: p.PacketID, Payload: codes})
	}
	if len(s.subs) >= maxPending {
		return s.closeWith(ReasonClientError, "protocol error: too many SUBSCRIBEs waiting for the broker")
	}
	s.payload = s.payload[:0]
	it = p.Filters()
	i := 0
	for f, o, ok := it.Next(); ok; f, o, ok = it.Next() {
		if s.verdicts[i] {
			codes[i] = placeholder
			s.payload = mqtt.AppendSubscription(s.payload, f, o)
		} else {
			codes[i] = s.fails[i]
		}
		i++
	}
	s.subs = append(s.subs, subFix{id: p.PacketID, codes: codes})
	s.emit(&mqtt.Packet{Type: mqtt.Subscribe, PacketID: p.PacketID, Properties: p.Properties, Payload: s.payload})
	return Continue
}

// ---- broker → client ----

func (s *Session) brokerPacket(p *mqtt.Packet, raw []byte) Status {
	switch p.Type {
	case mqtt.Publish:
		return s.brokerPublish(p, raw)
	case mqtt.Pingresp:
		if s.fifoHead == len(s.fifo) {
			s.keep(raw) // unsolicited; the client decides
			return Continue
		}
		e := &s.fifo[s.fifoHead]
		if e.pkt == nil {
			s.keep(raw)
			if e.pings--; e.pings > 0 {
				return Continue
			}
		} else {
			s.materialize()
			s.out = append(s.out, e.pkt...)
			e.pkt = nil
			if e.close {
				// The DISCONNECT that ends a client's protocol error goes out; then the close.
				s.phase = phaseClosed
				return Close
			}
		}
		s.fifoHead++
		if s.fifoHead == len(s.fifo) {
			s.fifo, s.fifoHead = s.fifo[:0], 0
		} else if s.fifoHead >= 1024 {
			n := copy(s.fifo, s.fifo[s.fifoHead:])
			s.fifo, s.fifoHead = s.fifo[:n], 0
		}
	case mqtt.Suback:
		for i := range s.subs {
			if s.subs[i].id == p.PacketID {
				return s.fixSuback(i, p)
			}
		}
		s.keep(raw)
	case mqtt.Connack:
		if s.connack {
			return s.closeWith(ReasonServerError, "broker protocol error: second CONNACK")
		}
		s.connack = true
		if pr, ok := p.Properties.Get(mqtt.PropTopicAliasMaximum); ok {
			s.cAlias.max = uint16(pr.Int)
		}
		if q := s.withServerKeepAlive(p); q != nil {
			s.emit(q)
			return Continue
		}
		s.keep(raw)
	case mqtt.Disconnect:
		s.event(ReasonServerDisconnect)
		s.keep(raw)
	case mqtt.Puback, mqtt.Pubrec, mqtt.Pubrel, mqtt.Pubcomp, mqtt.Unsuback, mqtt.Auth:
		s.keep(raw)
	default:
		return s.closeWith(ReasonServerError, "broker protocol error: "+p.Type.String()+" sent by the broker")
	}
	return Continue
}

func (s *Session) brokerPublish(p *mqtt.Packet, raw []byte) Status {
	topic := p.Topic
	alias := p.TopicAlias
	if alias != 0 {
		if alias > s.bAlias.max {
			return s.closeWith(ReasonServerError, "broker protocol error: topic alias above the client's Topic Alias Maximum")
		}
		if len(topic) > 0 {
			s.bAlias.set(alias, topic)
		} else if topic = s.bAlias.get(alias); topic == nil {
			return s.closeWith(ReasonServerError, "broker protocol error: unknown topic alias")
		}
	}
	if s.allow(EventPublishOut, Receive, topic, p.QoS, p.Retain) {
		return s.forwardPublish(p, raw, &s.bAlias, topic)
	}
	if p.QoS == 0 {
		s.drop()
		return Continue
	}
	// The broker waits for an acknowledgement, which the proxy cannot send it from this
	// direction; waiting for the client's next bytes would stall the broker's in-flight window
	// (and the allowed messages behind it) up to the client's keep-alive. So the PUBLISH becomes a
	// PUBREL with its packet id: the client MUST answer it with a PUBCOMP (MQTT 3.1.1 §4.3.3 and
	// [MQTT-4.3.3-11]; MQTT 5 §4.3.3 and §3.7.2.1: reason 0x92 "Packet Identifier not found"),
	// which the client direction turns into the PUBACK (QoS 1) or PUBREC (QoS 2) the broker is
	// owed. For QoS 2 the broker's PUBREL then goes to the client and its PUBCOMP back as usual.
	// The ids cannot collide with the client's own QoS 2 exchanges: the broker allocates them
	// among its in-flight messages to this client.
	set := &s.relay1
	if p.QoS == 2 {
		set = &s.relay2
	}
	if !hasID(*set, p.PacketID) {
		if len(*set) >= maxPending {
			return s.closeWith(ReasonServerError, "broker protocol error: too many denied publishes in flight")
		}
		*set = append(*set, p.PacketID)
	}
	s.emit(&mqtt.Packet{Type: mqtt.Pubrel, PacketID: p.PacketID})
	return Continue
}

// fixSuback re-inserts the codes of denied filters into the broker's SUBACK for subs[i].
func (s *Session) fixSuback(i int, p *mqtt.Packet) Status {
	fix := s.subs[i]
	s.subs = append(s.subs[:i], s.subs[i+1:]...)
	got := p.Payload
	j := 0
	for k, c := range fix.codes {
		if c != placeholder {
			continue
		}
		if j >= len(got) {
			return s.closeWith(ReasonServerError, "broker protocol error: SUBACK has fewer codes than the SUBSCRIBE had filters")
		}
		fix.codes[k] = got[j]
		j++
	}
	if j != len(got) {
		return s.closeWith(ReasonServerError, "broker protocol error: SUBACK has more codes than the SUBSCRIBE had filters")
	}
	s.emit(&mqtt.Packet{Type: mqtt.Suback, PacketID: p.PacketID, Properties: p.Properties, Payload: fix.codes})
	return Continue
}

func hasID(ids []uint16, id uint16) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func removeID(ids *[]uint16, id uint16) bool {
	l := *ids
	for i, x := range l {
		if x == id {
			l[i] = l[len(l)-1]
			*ids = l[:len(l)-1]
			return true
		}
	}
	return false
}
