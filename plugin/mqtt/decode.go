package mqtt

import (
	"strings"
	"unicode/utf8"
)

// Error is a malformed packet or a protocol violation found while decoding. Type is the packet type
// when the fixed header was readable, else 0.
type Error struct {
	Type   Type
	Reason string
}

// Error returns e.g. "malformed PUBLISH: topic name contains a wildcard" or
// "remaining length exceeds 4 bytes".
func (e *Error) Error() string {
	if e.Type == 0 {
		return e.Reason
	}
	return "malformed " + e.Type.String() + ": " + e.Reason
}

// ReasonCode is the MQTT 5.0 reason code a receiver puts in the DISCONNECT it sends before closing
// for this error (§4.13): ReasonPacketTooLarge for a packet above the maximum size,
// ReasonTopicAliasInvalid for a Topic Alias of 0, ReasonProtocolError where the specification calls
// the fault a Protocol Error (a property repeated where it may appear once, a property value out of
// its range), and ReasonMalformed for everything else.
func (e *Error) ReasonCode() byte {
	switch {
	case e == ErrTooLarge:
		return ReasonPacketTooLarge
	case strings.HasPrefix(e.Reason, "topic alias"):
		return ReasonTopicAliasInvalid
	case strings.HasSuffix(e.Reason, "included more than once"),
		strings.HasSuffix(e.Reason, "value out of range"),
		strings.HasSuffix(e.Reason, " 0 not allowed"):
		return ReasonProtocolError
	}
	return ReasonMalformed
}

// Errors of the fixed header, before the packet type matters.
var (
	ErrRemainingLength = &Error{Reason: "remaining length exceeds 4 bytes"}
	ErrNotMinimal      = &Error{Reason: "remaining length is not minimally encoded"}
	ErrTooLarge        = &Error{Reason: "packet exceeds the maximum packet size"}
	ErrReservedType    = &Error{Reason: "reserved packet type 0"}
	ErrUnknownVersion  = &Error{Reason: "protocol version not known (no CONNECT seen)"}
)

// ReadPacket decodes the first MQTT control packet in buf.
//
// version is the protocol level negotiated by CONNECT: V311 (or V31, handled alike) or V5. CONNECT
// itself is decoded whatever version says, from its own protocol level; any other packet with a
// version that is not 3, 4 or 5 is an error.
//
// maxSize bounds the whole packet (fixed header included), like the MQTT 5.0 Maximum Packet Size;
// maxSize <= 0 means only the protocol's own limit (remaining length ≤ 268435455).
//
// Results:
//   - n > 0: p is the packet, buf[:n] its bytes. Every []byte in p aliases buf.
//   - n == 0 and err == nil: buf holds only the start of a packet; call again with more bytes.
//     The size limit is checked as soon as the remaining length is readable, so an oversized packet
//     fails before it is buffered.
//   - err != nil: the stream is malformed (an *Error); the connection must be closed.
//
// ReadPacket never allocates and never modifies buf.
func ReadPacket(buf []byte, version byte, maxSize int) (p Packet, n int, err error) {
	n, e := readPacket(&p, buf, version, maxSize)
	if e != nil {
		return Packet{}, 0, e
	}
	if n == 0 {
		return Packet{}, 0, nil
	}
	return p, n, nil
}

// readPacket is ReadPacket decoding into p (which must be zero).
func readPacket(p *Packet, buf []byte, version byte, maxSize int) (int, *Error) {
	if len(buf) < 2 {
		return 0, nil
	}
	t := Type(buf[0] >> 4)
	flags := buf[0] & 0x0f
	rl, k, bad := readVarint(buf[1:])
	if bad != "" {
		return 0, ErrRemainingLength
	}
	if k == 0 {
		if len(buf) >= 5 {
			return 0, ErrRemainingLength
		}
		return 0, nil
	}
	if k > 1 && buf[k] == 0 {
		return 0, ErrNotMinimal
	}
	total := 1 + k + rl
	if maxSize > 0 && total > maxSize {
		return 0, ErrTooLarge
	}
	if t == 0 {
		return 0, ErrReservedType
	}
	if t != Connect && version != V31 && version != V311 && version != V5 {
		return 0, ErrUnknownVersion
	}
	if t == Publish {
		p.Dup = flags&0x08 != 0
		p.QoS = flags >> 1 & 3
		p.Retain = flags&1 != 0
		if p.QoS == 3 {
			return 0, &Error{Publish, "QoS 3"}
		}
		if p.QoS == 0 && p.Dup {
			return 0, &Error{Publish, "DUP set on a QoS 0 message"}
		}
	} else {
		want := byte(0)
		if t == Pubrel || t == Subscribe || t == Unsubscribe {
			want = 2
		}
		if flags != want {
			return 0, &Error{t, "reserved fixed header flags"}
		}
	}
	if t == Auth && version != V5 {
		return 0, &Error{Reason: "reserved packet type 15 (AUTH is MQTT 5.0 only)"}
	}
	if len(buf) < total {
		return 0, nil
	}
	p.Type = t
	body := buf[1+k : total]
	var msg string
	switch t {
	case Connect:
		msg = p.decodeConnect(body)
	case Connack:
		msg = p.decodeConnack(body, version)
	case Publish:
		msg = p.decodePublish(body, version)
	case Puback, Pubrec, Pubrel, Pubcomp:
		msg = p.decodeAck(body, version)
	case Subscribe, Unsubscribe:
		msg = p.decodeSubscribe(body, version)
	case Suback, Unsuback:
		msg = p.decodeSuback(body, version)
	case Pingreq, Pingresp:
		if len(body) != 0 {
			msg = "remaining length must be 0"
		}
	case Disconnect, Auth:
		msg = p.decodeDisconnect(body, version)
	}
	if msg != "" {
		return 0, &Error{t, msg}
	}
	return total, nil
}

// readVarint decodes a Variable Byte Integer. k == 0 with no error: b ends inside the integer.
func readVarint(b []byte) (v, k int, err string) {
	shift := 0
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, ""
		}
		v |= int(b[i]&0x7f) << shift
		if b[i]&0x80 == 0 {
			return v, i + 1, ""
		}
		shift += 7
	}
	return 0, 0, "variable byte integer exceeds 4 bytes"
}

// cutString splits a 2-byte-length-prefixed field off b.
func cutString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	l := int(b[0])<<8 | int(b[1])
	if len(b) < 2+l {
		return nil, nil, false
	}
	return b[2 : 2+l], b[2+l:], true
}

// validString reports whether s is a well-formed MQTT UTF-8 string: valid UTF-8 (no surrogates, no
// overlong forms) without U+0000.
func validString(s []byte) bool {
	i := asciiPrefix(s, false)
	if i == len(s) {
		return true
	}
	return utf8.Valid(s[i:]) && !hasNUL(s[i:])
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// asciiPrefix returns the length of the longest prefix of s made of ASCII bytes other than NUL (and
// other than '+' and '#' when noWildcards), eight bytes at a time.
func asciiPrefix(s []byte, noWildcards bool) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		bad := v&msb | (v-lsb)&^v&msb
		if noWildcards {
			p, h := v^(lsb*'+'), v^(lsb*'#')
			bad |= (p-lsb)&^p&msb | (h-lsb)&^h&msb
		}
		if bad != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c == 0 || c >= 0x80 || noWildcards && (c == '+' || c == '#') {
			break
		}
	}
	return i
}

func hasNUL(s []byte) bool {
	for _, c := range s {
		if c == 0 {
			return true
		}
	}
	return false
}

// validTopicName: a valid string without the wildcards '+' and '#'. Empty is checked by the caller.
func validTopicName(s []byte) bool {
	i := asciiPrefix(s, true)
	if i == len(s) {
		return true
	}
	if c := s[i]; c == 0 || c == '+' || c == '#' {
		return false
	}
	return utf8.Valid(s[i:]) && !hasNUL(s[i:]) && !hasWildcard(s[i:])
}

func hasWildcard(s []byte) bool {
	for _, c := range s {
		if c == '+' || c == '#' {
			return true
		}
	}
	return false
}

// validTopicFilter: non-empty valid string; '+' fills a whole level; '#' fills the last level.
func validTopicFilter(s []byte) bool {
	if len(s) == 0 || !validString(s) {
		return false
	}
	for i, c := range s {
		switch c {
		case '+':
			if i > 0 && s[i-1] != '/' || i+1 < len(s) && s[i+1] != '/' {
				return false
			}
		case '#':
			if i != len(s)-1 || i > 0 && s[i-1] != '/' {
				return false
			}
		}
	}
	return true
}

// trailingProperties reads the properties block that ends a packet: b must hold exactly a
// Property Length and the properties allowed for the packet type.
func (p *Packet) trailingProperties(b []byte, allowed uint16) string {
	props, _, rest, err := leadingProperties(b, allowed)
	if err != "" {
		return err
	}
	if len(rest) != 0 {
		return "bytes after the properties"
	}
	p.Properties = props
	return ""
}

// leadingProperties cuts the Property Length and the properties at the start of b and checks them
// against the properties allowed; it returns them, the topic alias among them (0 if none) and the
// bytes after them.
func leadingProperties(b []byte, allowed uint16) (props []byte, alias uint16, rest []byte, err string) {
	if props, rest, err = cutProperties(b); err != "" {
		return nil, 0, nil, err
	}
	if alias, err = checkProperties(props, allowed); err != "" {
		return nil, 0, nil, err
	}
	return props, alias, rest, ""
}

// cutPacketID reads the packet identifier at the start of b, which must not be 0, and returns the
// bytes after it.
func (p *Packet) cutPacketID(b []byte) (rest []byte, err string) {
	if len(b) < 2 {
		return nil, "truncated packet identifier"
	}
	p.PacketID = uint16(b[0])<<8 | uint16(b[1])
	if p.PacketID == 0 {
		return nil, "packet identifier 0"
	}
	return b[2:], ""
}

// cutProperties splits a Property Length + properties block off b.
func cutProperties(b []byte) (props, rest []byte, err string) {
	l, k, err := readVarint(b)
	if err != "" {
		return nil, nil, "property length exceeds 4 bytes"
	}
	if k == 0 || len(b) < k+l {
		return nil, nil, "truncated properties"
	}
	return b[k : k+l], b[k+l:], ""
}

func (p *Packet) decodeConnect(b []byte) string {
	name, b, ok := cutString(b)
	if !ok || len(b) < 4 {
		return "truncated variable header"
	}
	p.ProtocolName = name
	p.ProtocolLevel = b[0]
	switch {
	case string(name) == "MQTT" && (b[0] == V311 || b[0] == V5):
	case string(name) == "MQIsdp" && b[0] == V31:
	default:
		return "unsupported protocol name or level"
	}
	flags := b[1]
	p.KeepAlive = uint16(b[2])<<8 | uint16(b[3])
	b = b[4:]
	if flags&0x01 != 0 {
		return "reserved connect flag set"
	}
	p.CleanStart = flags&0x02 != 0
	p.Will = flags&0x04 != 0
	p.WillQoS = flags >> 3 & 3
	p.WillRetain = flags&0x20 != 0
	p.HasPassword = flags&0x40 != 0
	p.HasUsername = flags&0x80 != 0
	if p.WillQoS == 3 {
		return "will QoS 3"
	}
	if !p.Will && (p.WillQoS != 0 || p.WillRetain) {
		return "will QoS or will retain set without the will flag"
	}
	if p.ProtocolLevel != V5 && p.HasPassword && !p.HasUsername {
		return "password flag set without the user name flag"
	}
	v5 := p.ProtocolLevel == V5
	if v5 {
		props, _, rest, err := leadingProperties(b, inConnect)
		if err != "" {
			return err
		}
		p.Properties, b = props, rest
	}
	if p.ClientID, b, ok = cutString(b); !ok {
		return "truncated client identifier"
	}
	if !validString(p.ClientID) {
		return "client identifier is not valid UTF-8"
	}
	if p.Will {
		if v5 {
			props, _, rest, err := leadingProperties(b, inWill)
			if err != "" {
				return "will " + err
			}
			p.WillProperties, b = props, rest
		}
		if p.WillTopic, b, ok = cutString(b); !ok {
			return "truncated will topic"
		}
		if len(p.WillTopic) == 0 || !validTopicName(p.WillTopic) {
			return "will topic is not a valid topic name"
		}
		if p.WillPayload, b, ok = cutString(b); !ok {
			return "truncated will payload"
		}
	}
	if p.HasUsername {
		if p.Username, b, ok = cutString(b); !ok {
			return "truncated user name"
		}
		if !validString(p.Username) {
			return "user name is not valid UTF-8"
		}
	}
	if p.HasPassword {
		if p.Password, b, ok = cutString(b); !ok {
			return "truncated password"
		}
	}
	if len(b) != 0 {
		return "bytes after the payload"
	}
	return ""
}

func (p *Packet) decodeConnack(b []byte, version byte) string {
	if len(b) < 2 {
		return "truncated variable header"
	}
	if b[0]&0xfe != 0 {
		return "reserved acknowledge flags set"
	}
	p.SessionPresent = b[0]&1 != 0
	p.ReasonCode = b[1]
	if version != V5 {
		if len(b) != 2 {
			return "remaining length must be 2"
		}
		if p.ReasonCode > 5 {
			return "reserved return code"
		}
	} else {
		if !connackCodes.has(p.ReasonCode) {
			return "invalid reason code"
		}
		if err := p.trailingProperties(b[2:], inConnack); err != "" {
			return err
		}
	}
	if p.ReasonCode != 0 && p.SessionPresent {
		return "session present with a non-zero return code"
	}
	return ""
}

func (p *Packet) decodePublish(b []byte, version byte) string {
	topic, b, ok := cutString(b)
	if !ok {
		return "truncated topic name"
	}
	if !validTopicName(topic) {
		return "topic name is not valid UTF-8 or contains a wildcard"
	}
	p.Topic = topic
	if p.QoS > 0 {
		var err string
		if b, err = p.cutPacketID(b); err != "" {
			return err
		}
	}
	if version == V5 {
		props, alias, rest, err := leadingProperties(b, inPublish)
		if err != "" {
			return err
		}
		p.Properties, p.TopicAlias, b = props, alias, rest
	}
	if len(topic) == 0 && p.TopicAlias == 0 {
		return "empty topic name"
	}
	p.Payload = b
	return ""
}

func (p *Packet) decodeAck(b []byte, version byte) string {
	b, err := p.cutPacketID(b)
	if err != "" {
		return err
	}
	codes := &pubackCodes
	if p.Type == Pubrel || p.Type == Pubcomp {
		codes = &pubrelCodes
	}
	return p.decodeReason(b, version, "remaining length must be 2", codes)
}

func (p *Packet) decodeSubscribe(b []byte, version byte) string {
	b, err := p.cutPacketID(b)
	if err != "" {
		return err
	}
	if version == V5 {
		props, _, rest, err := leadingProperties(b, blockOf[p.Type])
		if err != "" {
			return err
		}
		p.Properties, b = props, rest
	}
	if len(b) == 0 {
		return "no topic filter"
	}
	p.Payload = b
	for len(b) > 0 {
		f, rest, ok := cutString(b)
		if !ok {
			return "truncated topic filter"
		}
		if !validTopicFilter(f) {
			return "invalid topic filter"
		}
		b = rest
		if p.Type == Subscribe {
			if len(b) == 0 {
				return "truncated subscription options"
			}
			o := b[0]
			b = b[1:]
			if version == V5 {
				if o&0xc0 != 0 || o&0x30 == 0x30 || o&3 == 3 {
					return "invalid subscription options"
				}
			} else if o&0xfc != 0 || o&3 == 3 {
				return "invalid requested QoS"
			}
		}
	}
	return ""
}

func (p *Packet) decodeSuback(b []byte, version byte) string {
	b, err := p.cutPacketID(b)
	if err != "" {
		return err
	}
	if version != V5 {
		if p.Type == Unsuback {
			if len(b) != 0 {
				return "remaining length must be 2"
			}
			return ""
		}
		if len(b) == 0 {
			return "no return code"
		}
		for _, c := range b {
			if c > 2 && c != SubackFailure {
				return "invalid return code"
			}
		}
		p.Payload = b
		return ""
	}
	props, _, rest, err := leadingProperties(b, blockOf[p.Type])
	if err != "" {
		return err
	}
	p.Properties = props
	if len(rest) == 0 {
		return "no reason code"
	}
	codes := &subackCodes
	if p.Type == Unsuback {
		codes = &unsubackCodes
	}
	for _, c := range rest {
		if !codes.has(c) {
			return "invalid reason code"
		}
	}
	p.Payload = rest
	return ""
}

// decodeDisconnect decodes DISCONNECT (both versions) and AUTH (5.0).
func (p *Packet) decodeDisconnect(b []byte, version byte) string {
	codes := &disconnectCodes
	if p.Type == Auth {
		codes = &authCodes
	}
	return p.decodeReason(b, version, "remaining length must be 0", codes)
}

// decodeReason decodes what follows the packet identifier of a PUBACK, PUBREC, PUBREL or PUBCOMP,
// or the fixed header of a DISCONNECT or AUTH: in 3.1.1 nothing (tooLong is the error otherwise);
// in 5.0 an optional reason code from codes, then optional properties.
func (p *Packet) decodeReason(b []byte, version byte, tooLong string, codes *codeSet) string {
	if version != V5 {
		if len(b) != 0 {
			return tooLong
		}
		return ""
	}
	if len(b) == 0 {
		return ""
	}
	p.ReasonCode = b[0]
	if !codes.has(p.ReasonCode) {
		return "invalid reason code"
	}
	if len(b) == 1 {
		return ""
	}
	return p.trailingProperties(b[1:], blockOf[p.Type])
}

// codeSet is a set of reason codes.
type codeSet [4]uint64

func (s *codeSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }

func codes(cs ...byte) codeSet {
	var s codeSet
	for _, c := range cs {
		s[c>>6] |= 1 << (c & 63)
	}
	return s
}

// Reason codes valid per packet (MQTT 5.0 §3.2.2.2, 3.4.2.1, 3.6.2.1, 3.9.3, 3.11.3, 3.14.2.1, 3.15.2.1).
var (
	connackCodes = codes(0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C,
		0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F)
	pubackCodes     = codes(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99)
	pubrelCodes     = codes(0x00, 0x92)
	subackCodes     = codes(0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2)
	unsubackCodes   = codes(0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91)
	disconnectCodes = codes(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F,
		0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2)
	authCodes = codes(0x00, 0x18, 0x19)
)
