package session

import (
	"strconv"

	"github.com/iotauthz/iotauthz/internal/ascii"
	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// Limits are AWS IoT Core's message broker limits, enforced on the client's packets before any
// policy decision (config "mqtt.limits"). A zero field is off.
//
//   - A CONNECT whose client id is longer than ClientIDMaxBytes, or empty with RefuseEmptyClientID,
//     is refused with CONNACK "Client Identifier not valid" (0x85 in MQTT 5, return code 0x02
//     "identifier rejected" in 3.1.1), through the refusal CONNECT (see Refuse). One whose Will
//     message breaks the topic or payload limits is refused with CONNACK 0x90 or 0x97 (MQTT 5),
//     return code 5 "not authorized" (3.1.1, which has no closer code).
//   - A PUBLISH whose topic or a SUBSCRIBE whose topic filter exceeds TopicMaxBytes or
//     TopicMaxSlashes, or a PUBLISH whose payload exceeds PayloadMaxBytes, is denied as a policy
//     denial is (Options.DenyAction), with the specification's reason code where MQTT 5 has one:
//     PUBACK/PUBREC 0x90 "Topic Name invalid" or 0x97 "Quota exceeded", SUBACK 0x8F "Topic Filter
//     invalid" (3.1.1: SUBACK 0x80). Where the denial closes the connection, an MQTT 5 client first
//     gets a DISCONNECT with that code. A Basic Ingest topic ($aws/rules/<rule-name>/…) is
//     measured without its first three segments, as AWS does.
//   - The CONNECT's keep-alive is clamped to [KeepAliveMin, KeepAliveMax] in the CONNECT that goes
//     to the broker; 0 (no keep-alive) becomes KeepAliveMax. An MQTT 5 client is told the value in
//     the CONNACK's Server Keep Alive (unless the broker already sets one).
//
// Each refusal is reported as a denied Decision whose Reason is ReasonLimit, ReasonPayloadLimit
// or ReasonClientIDEmpty and whose Details name the limit.
type Limits struct {
	ClientIDMaxBytes    int
	TopicMaxBytes       int
	TopicMaxSlashes     int
	PayloadMaxBytes     int
	KeepAliveMin        uint16
	KeepAliveMax        uint16
	RefuseEmptyClientID bool
}

// Decision reasons of limit refusals (and the log reasons the glue writes).
const (
	ReasonLimit         = "LIMIT_EXCEEDED"         // client id, topic or topic filter over a limit
	ReasonPayloadLimit  = "PAYLOAD_LIMIT_EXCEEDED" // PUBLISH payload over the limit (AWS's word)
	ReasonClientIDEmpty = "CLIENT_ID_EMPTY"        // zero-length client id refused
)

// MQTT 5 reason codes of limit refusals (MQTT 5.0 §2.4).
const (
	codeClientIDNotValid   byte = 0x85 // CONNACK
	codeTopicFilterInvalid byte = 0x8F // SUBACK, DISCONNECT
	codeTopicNameInvalid   byte = 0x90 // PUBACK, PUBREC, DISCONNECT
	codeQuotaExceeded      byte = 0x97 // PUBACK, PUBREC, DISCONNECT
	codeIdentifierRejected byte = 0x02 // MQTT 3.1.1 CONNACK return code
)

// basicIngest is the prefix of AWS's Basic Ingest topics, whose first three segments do not
// count toward the topic limits.
const basicIngest = "$aws/rules/"

// topicLimit returns why topic (a topic name, or a filter when filter is set) breaks a limit, or "".
func (l *Limits) topicLimit(topic []byte, filter bool) string {
	if l.TopicMaxBytes == 0 && l.TopicMaxSlashes == 0 {
		return ""
	}
	t := topic
	if len(t) >= len(basicIngest) && ascii.EqualLower(t[:len(basicIngest)], basicIngest) {
		t = t[len(basicIngest):]
		i := 0
		for i < len(t) && t[i] != '/' {
			i++
		}
		if i < len(t) {
			i++
		}
		t = t[i:]
	}
	what := "topic"
	if filter {
		what = "topic filter"
	}
	if l.TopicMaxBytes > 0 && len(t) > l.TopicMaxBytes {
		return what + " of " + strconv.Itoa(len(t)) + " bytes exceeds mqtt.limits.topicMaxBytes (" + strconv.Itoa(l.TopicMaxBytes) + ")"
	}
	if l.TopicMaxSlashes > 0 && len(t) > l.TopicMaxSlashes {
		n := 0
		for _, c := range t {
			if c == '/' {
				n++
			}
		}
		if n > l.TopicMaxSlashes {
			return what + " with " + strconv.Itoa(n) + " slashes exceeds mqtt.limits.topicMaxSlashes (" + strconv.Itoa(l.TopicMaxSlashes) + ")"
		}
	}
	return ""
}

// keepAlive returns the keep-alive the broker gets for the client's ka.
func (l *Limits) keepAlive(ka uint16) uint16 {
	switch {
	case ka == 0:
		return l.KeepAliveMax // 0 when there is no maximum: no keep-alive, as asked
	case l.KeepAliveMin > 0 && ka < l.KeepAliveMin:
		return l.KeepAliveMin
	case l.KeepAliveMax > 0 && ka > l.KeepAliveMax:
		return l.KeepAliveMax
	}
	return ka
}

// connectLimit checks the CONNECT's client id and Will message; it returns the refusal to make
// (see refuseForLimit), or a zero limitRefusal when the CONNECT passes.
func (s *Session) connectLimit() limitRefusal {
	l := &s.o.Limits
	c := &s.conn
	id := c.ClientID
	switch {
	case len(id) == 0 && l.RefuseEmptyClientID:
		return limitRefusal{ReasonClientIDEmpty, "empty client id refused (mqtt.limits.emptyClientId \"refuse\")",
			codeIdentifierRejected, codeClientIDNotValid, false}
	case l.ClientIDMaxBytes > 0 && len(id) > l.ClientIDMaxBytes:
		return limitRefusal{ReasonLimit, "client id of " + strconv.Itoa(len(id)) + " bytes exceeds mqtt.limits.clientIdMaxBytes (" +
			strconv.Itoa(l.ClientIDMaxBytes) + ")", codeIdentifierRejected, codeClientIDNotValid, false}
	case !c.Will:
		return limitRefusal{}
	}
	// The broker publishes the Will on the device's behalf: the same limits as a PUBLISH. MQTT
	// 3.1.1 has no CONNACK code for them: "not authorized", as for a Will the policy refuses.
	if d := l.topicLimit(c.WillTopic, false); d != "" {
		return limitRefusal{ReasonLimit, "Will message: " + d, 5, codeTopicNameInvalid, true}
	}
	if l.PayloadMaxBytes > 0 && len(c.WillPayload) > l.PayloadMaxBytes {
		return limitRefusal{ReasonPayloadLimit, "Will message: payload of " + strconv.Itoa(len(c.WillPayload)) +
			" bytes exceeds mqtt.limits.payloadMaxBytes (" + strconv.Itoa(l.PayloadMaxBytes) + ")", 5, codeQuotaExceeded, true}
	}
	return limitRefusal{}
}

// limitRefusal is a CONNECT refused by a limit: the decision's reason and details, the CONNACK
// code per protocol version, and whether the Will message is the cause.
type limitRefusal struct {
	reason, details string
	code3, code5    byte
	will            bool
}

// refuseForLimit refuses the CONNECT being read (phaseConnect) for a limit: the decision is
// reported, and the refusal CONNECT takes the CONNECT's place; its CONNACK becomes the client's,
// with r's code.
func (s *Session) refuseForLimit(r limitRefusal) Status {
	d := Decision{Event: EventConnect, Action: Connect, Name: s.conn.ClientID, Reason: r.reason, Details: r.details}
	if r.will {
		d.Action, d.Name, d.QoS, d.Retain, d.Will = Publish, s.conn.WillTopic, s.conn.WillQoS, s.conn.WillRetain, true
	}
	s.report(d)
	s.reason, s.details, s.limit = ReasonClientError, r.details, r.reason
	s.refuseCode = r.code3
	if s.version == mqtt.V5 {
		s.refuseCode = r.code5
	}
	s.startRefusal()
	s.materialize()
	s.out = append(s.out, refusalConnect...)
	return Refusing
}

// publishLimit returns the log reason, details and MQTT 5 reason code of a PUBLISH (with its
// resolved topic) over a limit, or an empty reason.
func (s *Session) publishLimit(p *mqtt.Packet, topic []byte) (reason, details string, code byte) {
	l := &s.o.Limits
	if d := l.topicLimit(topic, false); d != "" {
		return ReasonLimit, d, codeTopicNameInvalid
	}
	if l.PayloadMaxBytes > 0 && len(p.Payload) > l.PayloadMaxBytes {
		return ReasonPayloadLimit, "payload of " + strconv.Itoa(len(p.Payload)) + " bytes exceeds mqtt.limits.payloadMaxBytes (" +
			strconv.Itoa(l.PayloadMaxBytes) + ")", codeQuotaExceeded
	}
	return "", "", 0
}

// limitDenied applies a limit refusal of a client packet under the deny action: it reports the
// decision, then either answers (reject: the caller's answer) or ends the connection: an MQTT 5
// client gets a DISCONNECT with code first (see clientFault), a 3.1.1 client a close.
// rejected reports that the caller must answer the packet itself.
func (s *Session) limitDenied(ev string, a Action, name []byte, qos byte, retain bool, reason, details string, code byte) (st Status, rejected bool) {
	s.report(Decision{Event: ev, Action: a, Name: name, QoS: qos, Retain: retain, Reason: reason, Details: details})
	if s.rejects() {
		return Continue, true
	}
	s.limit = reason
	return s.clientFault(code, details), false
}

// withServerKeepAlive returns the broker's MQTT 5 CONNACK p with a Server Keep Alive property
// telling the client the keep-alive the broker got, or nil when no rewrite is needed (3.1.1,
// keep-alive unchanged, a refusal, or the broker already set one).
func (s *Session) withServerKeepAlive(p *mqtt.Packet) *mqtt.Packet {
	if s.version != mqtt.V5 || s.keepAlive == s.conn.KeepAlive || p.ReasonCode >= 0x80 {
		return nil
	}
	if _, ok := p.Properties.Get(mqtt.PropServerKeepAlive); ok {
		return nil
	}
	q := *p
	props := append([]byte(nil), p.Properties...)
	q.Properties = mqtt.AppendProperty(props, mqtt.Property{ID: mqtt.PropServerKeepAlive, Int: uint32(s.keepAlive)})
	return &q
}

// TopicLimit returns why a topic name breaks TopicMaxBytes or TopicMaxSlashes, or "" (for a
// topic that does not pass through a session: an HTTPS publish).
func (l *Limits) TopicLimit(topic []byte) string { return l.topicLimit(topic, false) }
