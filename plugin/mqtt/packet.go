package mqtt

// Type is the MQTT control packet type, the high nibble of the fixed header.
type Type byte

// Control packet types (MQTT 3.1.1 §2.2.1, MQTT 5.0 §2.1.2).
const (
	Connect     Type = 1
	Connack     Type = 2
	Publish     Type = 3
	Puback      Type = 4
	Pubrec      Type = 5
	Pubrel      Type = 6
	Pubcomp     Type = 7
	Subscribe   Type = 8
	Suback      Type = 9
	Unsubscribe Type = 10
	Unsuback    Type = 11
	Pingreq     Type = 12
	Pingresp    Type = 13
	Disconnect  Type = 14
	Auth        Type = 15 // MQTT 5.0 only
)

var typeNames = [16]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
	"PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

// String returns the specification's name of the type, e.g. "PUBLISH".
func (t Type) String() string {
	if t > 15 {
		return "INVALID"
	}
	return typeNames[t]
}

// Protocol levels carried by CONNECT and accepted as the version argument of ReadPacket and Append.
const (
	V31  byte = 3 // MQTT 3.1 ("MQIsdp"): decoded and encoded exactly like 3.1.1
	V311 byte = 4 // MQTT 3.1.1
	V5   byte = 5 // MQTT 5.0
)

// Reason codes this project writes itself (MQTT 5.0 §2.4; 3.1.1 SUBACK §3.9.3).
const (
	ReasonSuccess       byte = 0x00
	ReasonNotAuthorized byte = 0x87 // MQTT 5.0 CONNACK, PUBACK, PUBREC, SUBACK, UNSUBACK, DISCONNECT
	SubackFailure       byte = 0x80 // MQTT 3.1.1 SUBACK return code "Failure"

	// DISCONNECT reason codes a receiver sends before closing for a fault of its peer.
	ReasonMalformed         byte = 0x81 // Malformed Packet
	ReasonProtocolError     byte = 0x82 // Protocol Error
	ReasonTopicAliasInvalid byte = 0x94 // Topic Alias invalid
	ReasonPacketTooLarge    byte = 0x95 // Packet too large
)

// Packet is one decoded MQTT control packet. It is a flat struct: each field applies to the packet
// types named in its comment and is zero otherwise. After ReadPacket every []byte field aliases the
// decoded buffer (nothing is copied): it is valid as long as that buffer is.
//
// Strings are the bytes of the UTF-8 string without their 2-byte length prefix. Properties are the
// raw MQTT 5.0 property bytes without their length prefix (see Properties).
type Packet struct {
	Type Type

	// PUBLISH fixed-header flags.
	Dup    bool
	QoS    byte
	Retain bool

	// PacketID: PUBLISH (QoS > 0), PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE,
	// UNSUBACK. Never 0 in a valid packet.
	PacketID uint16

	// ReasonCode: the CONNACK return code (3.1.1) or reason code (5.0); MQTT 5.0 PUBACK, PUBREC,
	// PUBREL, PUBCOMP, DISCONNECT and AUTH reason codes (0 when the packet omits it).
	ReasonCode byte

	// Properties of the packet (MQTT 5.0 only): CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL,
	// PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH.
	Properties Properties

	// Topic: the PUBLISH topic name; may be empty in MQTT 5.0 when TopicAlias is set.
	Topic []byte
	// TopicAlias: the PUBLISH Topic Alias property (MQTT 5.0), 0 when absent. Decoded from
	// Properties; Append writes Properties as they are and ignores this field.
	TopicAlias uint16

	// Payload: PUBLISH application message; SUBSCRIBE and UNSUBSCRIBE topic filter list as on the
	// wire (iterate it with Filters, build it with AppendSubscription / AppendString); SUBACK and
	// UNSUBACK (5.0) return or reason codes, one byte per filter.
	Payload []byte

	// CONNECT.
	ProtocolName   []byte // "MQTT" (levels 4 and 5) or "MQIsdp" (level 3)
	ProtocolLevel  byte   // 3, 4 or 5
	CleanStart     bool   // Clean Session in 3.1.1
	KeepAlive      uint16 // seconds
	ClientID       []byte
	Will           bool
	WillQoS        byte
	WillRetain     bool
	WillProperties Properties // 5.0
	WillTopic      []byte
	WillPayload    []byte
	HasUsername    bool
	Username       []byte
	HasPassword    bool
	Password       []byte

	// CONNACK.
	SessionPresent bool
}

// Filters iterates the topic filters of a SUBSCRIBE or UNSUBSCRIBE payload. The packet must come
// from ReadPacket (or be otherwise well formed): a truncated payload simply ends the iteration.
//
//	it := p.Filters()
//	for f, opts, ok := it.Next(); ok; f, opts, ok = it.Next() { ... }
func (p *Packet) Filters() FilterIter {
	return FilterIter{b: p.Payload, options: p.Type == Subscribe}
}

// FilterIter walks a SUBSCRIBE or UNSUBSCRIBE payload; see Packet.Filters.
type FilterIter struct {
	b       []byte
	options bool
}

// Next returns the next topic filter and, for SUBSCRIBE, its subscription options byte
// (QoS in bits 0-1; 5.0: No Local bit 2, Retain As Published bit 3, Retain Handling bits 4-5).
func (it *FilterIter) Next() (filter []byte, options byte, ok bool) {
	if len(it.b) < 2 {
		return nil, 0, false
	}
	l := int(it.b[0])<<8 | int(it.b[1])
	end := 2 + l
	if it.options {
		end++
	}
	if end > len(it.b) {
		return nil, 0, false
	}
	filter = it.b[2 : 2+l]
	if it.options {
		options = it.b[2+l]
	}
	it.b = it.b[end:]
	return filter, options, true
}

// AppendString appends s as an MQTT UTF-8 string or binary data field (2-byte big-endian length,
// then the bytes). s must be shorter than 65536 bytes.
func AppendString(dst, s []byte) []byte {
	dst = append(dst, byte(len(s)>>8), byte(len(s)))
	return append(dst, s...)
}

// AppendSubscription appends one SUBSCRIBE payload entry: the topic filter and its options byte.
func AppendSubscription(dst, filter []byte, options byte) []byte {
	return append(AppendString(dst, filter), options)
}

// AppendVarint appends v as an MQTT Variable Byte Integer (1 to 4 bytes; v < 268435456).
func AppendVarint(dst []byte, v int) []byte {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v > 0 {
			dst = append(dst, b|0x80)
			continue
		}
		return append(dst, b)
	}
}

// MaxRemainingLength is the largest remaining length 4 Variable Byte Integer bytes can carry.
const MaxRemainingLength = 268435455
