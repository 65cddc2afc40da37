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

var propKind = [maxPropID + 1]byte{
	PropPayloadFormat:        kindByte,
	PropMessageExpiry:        kindU32,
	PropContentType:          kindString,
	PropResponseTopic:        kindString,
	PropCorrelationData:      kindBinary,
	PropSubscriptionID:       kindVarint,
	PropSessionExpiry:        kindU32,
	PropAssignedClientID:     kindString,
	PropServerKeepAlive:      kindU16,
	PropAuthMethod:           kindString,
	PropAuthData:             kindBinary,
	PropRequestProblemInfo:   kindByte,
	PropWillDelay:            kindU32,
	PropRequestResponseInfo:  kindByte,
	PropResponseInfo:         kindString,
	PropServerReference:      kindString,
	PropReasonString:         kindString,
	PropReceiveMaximum:       kindU16,
	PropTopicAliasMaximum:    kindU16,
	PropTopicAlias:           kindU16,
	PropMaximumQoS:           kindByte,
	PropRetainAvailable:      kindByte,
	PropUserProperty:         kindPair,
	PropMaximumPacketSize:    kindU32,
	PropWildcardSubAvailable: kindByte,
	PropSubIDAvailable:       kindByte,
	PropSharedSubAvailable:   kindByte,
}

func bits(ids ...byte) uint64 {
	var m uint64
	for _, id := range ids {
		m |= 1 << id
	}
	return m
}

// Property sets allowed per packet (MQTT 5.0 §2.2.2.2 table).
var (
	propsConnect = bits(PropSessionExpiry, PropAuthMethod, PropAuthData, PropRequestProblemInfo,
		PropRequestResponseInfo, PropReceiveMaximum, PropTopicAliasMaximum, PropUserProperty, PropMaximumPacketSize)
	propsWill = bits(PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic,
		PropCorrelationData, PropWillDelay, PropUserProperty)
	propsConnack = bits(PropSessionExpiry, PropAssignedClientID, PropServerKeepAlive, PropAuthMethod,
		PropAuthData, PropResponseInfo, PropServerReference, PropReasonString, PropReceiveMaximum,
		PropTopicAliasMaximum, PropMaximumQoS, PropRetainAvailable, PropUserProperty, PropMaximumPacketSize,
		PropWildcardSubAvailable, PropSubIDAvailable, PropSharedSubAvailable)
	propsPublish = bits(PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic,
		PropCorrelationData, PropSubscriptionID, PropTopicAlias, PropUserProperty)
	propsAck         = bits(PropReasonString, PropUserProperty)
	propsSubscribe   = bits(PropSubscriptionID, PropUserProperty)
	propsUnsubscribe = bits(PropUserProperty)
	propsDisconnect  = bits(PropSessionExpiry, PropServerReference, PropReasonString, PropUserProperty)
	propsAuth        = bits(PropAuthMethod, PropAuthData, PropReasonString, PropUserProperty)
)

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
	if int(p.ID) >= len(propKind) {
		return append(dst, p.Value...)
	}
	switch propKind[p.ID] {
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
	if int(p.ID) >= len(propKind) || propKind[p.ID] == kindNone {
		return p, 0, ("unknown property identifier")
	}
	v := b[1:]
	switch propKind[p.ID] {
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

// checkProperties validates a property block for a packet whose allowed set is allowed; multiple
// says which identifiers may repeat (User Property always may). It returns the Topic Alias value.
func checkProperties(ps []byte, allowed uint64, multiple uint64) (alias uint16, err string) {
	var seen uint64
	for len(ps) > 0 {
		p, n, err := readProperty(ps)
		if err != "" {
			return 0, err
		}
		ps = ps[n:]
		bit := uint64(1) << p.ID
		if allowed&bit == 0 {
			return 0, ("property not allowed in this packet")
		}
		if seen&bit != 0 && multiple&bit == 0 {
			return 0, ("property included more than once")
		}
		seen |= bit
		switch propKind[p.ID] {
		case kindByte:
			if p.Int > 1 { // every byte property is 0 or 1 (Maximum QoS included)
				return 0, ("property value out of range")
			}
		case kindString, kindPair:
			if !validString(p.Value) || p.Key != nil && !validString(p.Key) {
				return 0, ("property is not valid UTF-8")
			}
		}
		switch p.ID {
		case PropTopicAlias:
			if p.Int == 0 {
				return 0, ("topic alias 0")
			}
			alias = uint16(p.Int)
		case PropSubscriptionID, PropReceiveMaximum, PropMaximumPacketSize:
			if p.Int == 0 {
				return 0, ("property value 0 not allowed")
			}
		case PropResponseTopic:
			if !validTopicName(p.Value) {
				return 0, ("response topic is not a valid topic name")
			}
		}
	}
	return alias, ""
}
