package mqtt

// Property identifiers (MQTT 5.0 §2.2.2.2).
const (
	PropPayloadFormat        byte = 0x01
	PropMessageExpiry        byte = 0x02
	PropContentType          byte = 0x03
	PropResponseTopic        byte = 0x08
	PropCorrelationData      byte = 0x09
	PropSubscriptionID       byte = 0x0B
	PropSessionExpiry        byte = 0x11
	PropAssignedClientID     byte = 0x12
	PropServerKeepAlive      byte = 0x13
	PropAuthMethod           byte = 0x15
	PropAuthData             byte = 0x16
	PropRequestProblemInfo   byte = 0x17
	PropWillDelay            byte = 0x18
	PropRequestResponseInfo  byte = 0x19
	PropResponseInfo         byte = 0x1A
	PropServerReference      byte = 0x1C
	PropReasonString         byte = 0x1F
	PropReceiveMaximum       byte = 0x21
	PropTopicAliasMaximum    byte = 0x22
	PropTopicAlias           byte = 0x23
	PropMaximumQoS           byte = 0x24
	PropRetainAvailable      byte = 0x25
	PropUserProperty         byte = 0x26
	PropMaximumPacketSize    byte = 0x27
	PropWildcardSubAvailable byte = 0x28
	PropSubIDAvailable       byte = 0x29
	PropSharedSubAvailable   byte = 0x2A
	maxPropID                     = 0x2A
)

// Property value kinds.
const (
	kindNone byte = iota
	kindByte
	kindU16
	kindU32
	kindVarint
	kindString
	kindBinary
	kindPair
)

// Where a property may appear (MQTT 5.0 §2.2.2.2): one bit per packet type, plus the Will
// Properties of a CONNECT, which are a property block of their own.
const (
	inConnect uint16 = 1 << iota
	inWill
	inConnack
	inPublish
	inAck // PUBACK, PUBREC, PUBREL, PUBCOMP
	inSubscribe
	inSuback
	inUnsubscribe
	inUnsuback
	inDisconnect
	inAuth
)

// blockOf is the property block of each packet type's variable header.
var blockOf = [16]uint16{Connect: inConnect, Connack: inConnack, Publish: inPublish,
	Puback: inAck, Pubrec: inAck, Pubrel: inAck, Pubcomp: inAck, Subscribe: inSubscribe, Suback: inSuback,
	Unsubscribe: inUnsubscribe, Unsuback: inUnsuback, Disconnect: inDisconnect, Auth: inAuth}

// propSpec is one row of the property table: its value kind, the blocks it may appear in, and the
// blocks in which it may appear more than once.
type propSpec struct {
	name   string
	kind   byte
	in     uint16
	repeat uint16
}

// allBlocks is every property block: the User Property may appear, any number of times, in each
// ([MQTT-3.1.2-...] and the same sentence for every packet type: "The User Property is allowed to
// appear multiple times").
const allBlocks = inConnect | inWill | inConnack | inPublish | inAck | inSubscribe | inSuback |
	inUnsubscribe | inUnsuback | inDisconnect | inAuth

// propTable is the property table of MQTT 5.0 §2.2.2.2, one row per identifier. It drives decoding
// (the value's kind) and validation (where it may appear, whether it may repeat). Every block keeps
// its properties in wire order; ReadPacket never reorders or rewrites them.
var propTable = [maxPropID + 1]propSpec{
	PropPayloadFormat:   {"Payload Format Indicator", kindByte, inPublish | inWill, 0},
	PropMessageExpiry:   {"Message Expiry Interval", kindU32, inPublish | inWill, 0},
	PropContentType:     {"Content Type", kindString, inPublish | inWill, 0},
	PropResponseTopic:   {"Response Topic", kindString, inPublish | inWill, 0},
	PropCorrelationData: {"Correlation Data", kindBinary, inPublish | inWill, 0},
	// A PUBLISH from the server carries one Subscription Identifier per matching subscription
	// (§3.3.2.3.8); a SUBSCRIBE carries at most one (§3.8.2.1.2).
	PropSubscriptionID:       {"Subscription Identifier", kindVarint, inPublish | inSubscribe, inPublish},
	PropSessionExpiry:        {"Session Expiry Interval", kindU32, inConnect | inConnack | inDisconnect, 0},
	PropAssignedClientID:     {"Assigned Client Identifier", kindString, inConnack, 0},
	PropServerKeepAlive:      {"Server Keep Alive", kindU16, inConnack, 0},
	PropAuthMethod:           {"Authentication Method", kindString, inConnect | inConnack | inAuth, 0},
	PropAuthData:             {"Authentication Data", kindBinary, inConnect | inConnack | inAuth, 0},
	PropRequestProblemInfo:   {"Request Problem Information", kindByte, inConnect, 0},
	PropWillDelay:            {"Will Delay Interval", kindU32, inWill, 0},
	PropRequestResponseInfo:  {"Request Response Information", kindByte, inConnect, 0},
	PropResponseInfo:         {"Response Information", kindString, inConnack, 0},
	PropServerReference:      {"Server Reference", kindString, inConnack | inDisconnect, 0},
	PropReasonString:         {"Reason String", kindString, inConnack | inAck | inSuback | inUnsuback | inDisconnect | inAuth, 0},
	PropReceiveMaximum:       {"Receive Maximum", kindU16, inConnect | inConnack, 0},
	PropTopicAliasMaximum:    {"Topic Alias Maximum", kindU16, inConnect | inConnack, 0},
	PropTopicAlias:           {"Topic Alias", kindU16, inPublish, 0},
	PropMaximumQoS:           {"Maximum QoS", kindByte, inConnack, 0},
	PropRetainAvailable:      {"Retain Available", kindByte, inConnack, 0},
	PropUserProperty:         {"User Property", kindPair, allBlocks, allBlocks},
	PropMaximumPacketSize:    {"Maximum Packet Size", kindU32, inConnect | inConnack, 0},
	PropWildcardSubAvailable: {"Wildcard Subscription Available", kindByte, inConnack, 0},
	PropSubIDAvailable:       {"Subscription Identifier Available", kindByte, inConnack, 0},
	PropSharedSubAvailable:   {"Shared Subscription Available", kindByte, inConnack, 0},
}

// PropertyName returns the specification's name of a property identifier, e.g. "User Property",
// or "" for an identifier MQTT 5.0 does not define.
func PropertyName(id byte) string {
	if int(id) >= len(propTable) {
		return ""
	}
	return propTable[id].name
}

func kindOf(id byte) byte {
	if int(id) >= len(propTable) {
		return kindNone
	}
	return propTable[id].kind
}

// Properties holds MQTT 5.0 properties exactly as on the wire, without the Property Length prefix.
// After ReadPacket the bytes are validated: every identifier is allowed for its packet, values are
// complete and well formed, and no property that may appear once appears twice.
type Properties []byte

// Property is one decoded property. Value holds the raw value bytes: 1, 2 or 4 big-endian bytes for
// integers, the Variable Byte Integer bytes for Subscription Identifier, the content (without length)
// for strings and binary data, and the value of a User Property, whose name is in Key. Int is the
// numeric value for the integer kinds.
type Property struct {
	ID    byte
	Key   []byte
	Value []byte
	Int   uint32
}

// Next decodes the first property and returns the rest. ok is false at the end or if the bytes are
// not well formed (which cannot happen for Properties returned by ReadPacket).
//
//	for pr, rest, ok := props.Next(); ok; pr, rest, ok = rest.Next() { ... }
func (ps Properties) Next() (p Property, rest Properties, ok bool) {
	p, n, err := readProperty(ps)
	if err != "" || n == 0 {
		return Property{}, nil, false
	}
	return p, ps[n:], true
}

// Get returns the first property with the given identifier.
func (ps Properties) Get(id byte) (Property, bool) {
	for p, rest, ok := ps.Next(); ok; p, rest, ok = rest.Next() {
		if p.ID == id {
			return p, true
		}
	}
	return Property{}, false
}

// AppendProperty appends one property in wire form. For integer kinds Int is written; for strings and
// binary data Value; for a User Property Key then Value.
func AppendProperty(dst []byte, p Property) []byte {
	dst = append(dst, p.ID)
	switch kindOf(p.ID) {
	case kindNone:
		return append(dst, p.Value...)
	case kindByte:
		return append(dst, byte(p.Int))
	case kindU16:
		return append(dst, byte(p.Int>>8), byte(p.Int))
	case kindU32:
		return append(dst, byte(p.Int>>24), byte(p.Int>>16), byte(p.Int>>8), byte(p.Int))
	case kindVarint:
		return AppendVarint(dst, int(p.Int))
	case kindPair:
		return AppendString(AppendString(dst, p.Key), p.Value)
	default:
		return AppendString(dst, p.Value)
	}
}

// readProperty decodes one property from b. n == 0 with a nil error means b is empty.
func readProperty(b []byte) (p Property, n int, err string) {
	if len(b) == 0 {
		return p, 0, ""
	}
	p.ID = b[0]
	kind := kindOf(p.ID)
	if kind == kindNone {
		return p, 0, ("unknown property identifier")
	}
	v := b[1:]
	switch kind {
	case kindByte:
		if len(v) < 1 {
			return p, 0, ("truncated property")
		}
		p.Value, p.Int = v[:1], uint32(v[0])
		return p, 2, ""
	case kindU16:
		if len(v) < 2 {
			return p, 0, ("truncated property")
		}
		p.Value, p.Int = v[:2], uint32(v[0])<<8|uint32(v[1])
		return p, 3, ""
	case kindU32:
		if len(v) < 4 {
			return p, 0, ("truncated property")
		}
		p.Value, p.Int = v[:4], uint32(v[0])<<24|uint32(v[1])<<16|uint32(v[2])<<8|uint32(v[3])
		return p, 5, ""
	case kindVarint:
		x, k, err := readVarint(v)
		if err != "" {
			return p, 0, err
		}
		if k == 0 {
			return p, 0, ("truncated property")
		}
		p.Value, p.Int = v[:k], uint32(x)
		return p, 1 + k, ""
	case kindPair:
		key, rest, ok := cutString(v)
		if !ok {
			return p, 0, ("truncated property")
		}
		val, _, ok := cutString(rest)
		if !ok {
			return p, 0, ("truncated property")
		}
		p.Key, p.Value = key, val
		return p, 1 + 4 + len(key) + len(val), ""
	default:
		s, _, ok := cutString(v)
		if !ok {
			return p, 0, ("truncated property")
		}
		p.Value = s
		return p, 1 + 2 + len(s), ""
	}
}

// checkProperties validates a property block of the kind block (one of the in* bits): every
// identifier may appear there, values are complete and in range, and only the properties the
// table allows to repeat in that block appear more than once. It returns the Topic Alias value.
func checkProperties(ps []byte, block uint16) (alias uint16, err string) {
	var seen uint64
	for len(ps) > 0 {
		p, n, err := readProperty(ps)
		if err != "" {
			return 0, err
		}
		ps = ps[n:]
		row := &propTable[p.ID]
		if row.in&block == 0 {
			return 0, row.name + " not allowed in this packet"
		}
		bit := uint64(1) << p.ID
		if seen&bit != 0 && row.repeat&block == 0 {
			return 0, row.name + " included more than once"
		}
		seen |= bit
		switch row.kind {
		case kindByte:
			if p.Int > 1 { // every byte property is 0 or 1 (Maximum QoS included)
				return 0, row.name + " value out of range"
			}
		case kindString, kindPair:
			if !validString(p.Value) || p.Key != nil && !validString(p.Key) {
				return 0, row.name + " is not valid UTF-8"
			}
		}
		switch p.ID {
		case PropTopicAlias:
			if p.Int == 0 {
				return 0, "topic alias 0"
			}
			alias = uint16(p.Int)
		case PropSubscriptionID, PropReceiveMaximum, PropMaximumPacketSize:
			if p.Int == 0 {
				return 0, row.name + " 0 not allowed"
			}
		case PropResponseTopic:
			if !validTopicName(p.Value) {
				return 0, "response topic is not a valid topic name"
			}
		}
	}
	return alias, ""
}
