package e2e

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// The conformance test records what each client receives from the wire, not from the client
// library: Paho's MQTT 5 client keeps one Subscription Identifier per PUBLISH (the last), so a
// transcript built from its callbacks could not show a repeated one. tapConn sits between the
// client library and the network and decodes every packet the client reads into one transcript
// line, properties in wire order.

// tapConn is a client's network connection with a recorder on its read side. Its own goroutine
// reads the network, decodes every packet (onPkt) and hands the bytes to the client library,
// so the end of the connection (onEnd) is seen when the other side closes it, even after the
// library has stopped reading (as Paho does after a DISCONNECT). The library's Close does not
// close the network connection: only the other side, or a step (closeNet), does.
//
// It implements sync.Locker so that Paho (packets.ControlPacket.WriteTo) and the raw writes of a
// scenario (PINGREQ barriers, hand-made packets) never interleave inside a packet.
type tapConn struct {
	net.Conn
	wmu     sync.Mutex
	version byte // 4 (MQTT 3.1.1) or 5
	onPkt   func(p rxPacket)
	onEnd   func()

	mu        sync.Mutex
	cond      *sync.Cond
	in        []byte // read from the network, not yet by the library
	rerr      error  // the network's read error, once in is drained
	libClosed bool
}

func newTapConn(nc net.Conn, version byte, onPkt func(rxPacket), onEnd func()) *tapConn {
	t := &tapConn{Conn: nc, version: version, onPkt: onPkt, onEnd: onEnd}
	t.cond = sync.NewCond(&t.mu)
	go t.pump()
	return t
}

func (t *tapConn) pump() {
	buf := make([]byte, 32<<10)
	var parse []byte
	for {
		n, err := t.Conn.Read(buf)
		if n > 0 {
			parse = append(parse, buf[:n]...)
			for parse != nil {
				pkt, rest, ok, derr := cutPacket(parse, t.version)
				if derr != nil {
					t.onPkt(rxPacket{line: "UNDECODABLE " + derr.Error()})
					parse = nil
					break
				}
				if !ok {
					break
				}
				t.onPkt(pkt)
				parse = append(parse[:0], rest...)
			}
			t.mu.Lock()
			t.in = append(t.in, buf[:n]...)
			t.cond.Broadcast()
			t.mu.Unlock()
		}
		if err != nil {
			t.onEnd()
			t.mu.Lock()
			t.rerr = err
			t.cond.Broadcast()
			t.mu.Unlock()
			return
		}
	}
}

// Read implements net.Conn for the client library.
func (t *tapConn) Read(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.in) == 0 && t.rerr == nil && !t.libClosed {
		t.cond.Wait()
	}
	switch {
	case t.libClosed:
		return 0, net.ErrClosed
	case len(t.in) > 0:
		n := copy(p, t.in)
		t.in = t.in[n:]
		return n, nil
	}
	return 0, t.rerr
}

// Close implements net.Conn for the client library: it stops the library's reads only.
func (t *tapConn) Close() error {
	t.mu.Lock()
	t.libClosed = true
	t.cond.Broadcast()
	t.mu.Unlock()
	return nil
}

// SetReadDeadline and SetDeadline keep read deadlines off the network connection, which the
// pump reads: every wait of the test is bounded on its own.
func (t *tapConn) SetReadDeadline(time.Time) error { return nil }

func (t *tapConn) SetDeadline(d time.Time) error { return t.Conn.SetWriteDeadline(d) }

func (t *tapConn) closeNet() { t.Conn.Close() }

func (t *tapConn) Lock()   { t.wmu.Lock() }
func (t *tapConn) Unlock() { t.wmu.Unlock() }

// writeRaw writes b as one packet, between the library's packets.
func (t *tapConn) writeRaw(b []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	_, err := t.Conn.Write(b)
	return err
}

// rxPacket is one packet a client received: its transcript line and what the scenario steps
// need of it.
type rxPacket struct {
	typ  byte
	line string
	// PUBLISH
	qos           byte
	pid           uint16
	topic         string
	responseTopic string
	correlation   []byte
}

// cutPacket decodes the first complete packet of b; ok is false while b holds only part of it.
func cutPacket(b []byte, version byte) (p rxPacket, rest []byte, ok bool, err error) {
	if len(b) < 2 {
		return p, b, false, nil
	}
	var n, mul, i int
	for i = 1; ; i++ {
		if i >= len(b) {
			return p, b, false, nil
		}
		if i > 4 {
			return p, nil, false, errors.New("remaining length over 4 bytes")
		}
		n += int(b[i]&0x7f) << mul
		mul += 7
		if b[i]&0x80 == 0 {
			break
		}
	}
	start := i + 1
	if len(b)-start < n {
		return p, b, false, nil
	}
	body := b[start : start+n]
	p, err = decodePacket(b[0], body, version)
	if err != nil {
		return p, nil, false, fmt.Errorf("type %d: %v", b[0]>>4, err)
	}
	return p, b[start+n:], true, nil
}

// decodePacket decodes a packet a server may send to a client.
func decodePacket(first byte, body []byte, version byte) (rxPacket, error) {
	r := &wreader{b: body}
	p := rxPacket{typ: first >> 4}
	v5 := version == 5
	var sb strings.Builder
	switch p.typ {
	case 2: // CONNACK
		flags, code := r.byte(), r.byte()
		fmt.Fprintf(&sb, "CONNACK session=%d reason=%#02x", flags&1, code)
		if v5 {
			sb.WriteString(" " + r.props())
		}
	case 3: // PUBLISH
		p.qos = first >> 1 & 3
		p.topic = r.str()
		if p.qos > 0 {
			p.pid = r.u16()
		}
		fmt.Fprintf(&sb, "PUBLISH %q qos=%d retain=%d dup=%d", p.topic, p.qos, first&1, first>>3&1)
		if p.qos > 0 {
			fmt.Fprintf(&sb, " pid=%d", p.pid)
		}
		if v5 {
			props := r.propList()
			for _, pr := range props {
				switch pr.id {
				case 8:
					p.responseTopic = pr.s
				case 9:
					p.correlation = []byte(pr.s)
				}
			}
			sb.WriteString(" " + formatProps(props))
		}
		if r.err == nil {
			sb.WriteString(" payload=" + formatPayload(r.b[r.off:]))
			r.off = len(r.b)
		}
	case 4, 5, 6, 7: // PUBACK, PUBREC, PUBREL, PUBCOMP
		fmt.Fprintf(&sb, "%s pid=%d", [...]string{4: "PUBACK", "PUBREC", "PUBREL", "PUBCOMP"}[p.typ], r.u16())
		if v5 {
			sb.WriteString(r.optReasonProps())
		}
	case 9, 11: // SUBACK, UNSUBACK
		fmt.Fprintf(&sb, "%s pid=%d", map[byte]string{9: "SUBACK", 11: "UNSUBACK"}[p.typ], r.u16())
		var props string
		if v5 {
			props = r.props()
		}
		var codes []string
		for r.err == nil && r.left() > 0 {
			codes = append(codes, fmt.Sprintf("%#02x", r.byte()))
		}
		if v5 || p.typ == 9 {
			fmt.Fprintf(&sb, " reasons=[%s]", strings.Join(codes, " "))
		}
		if v5 {
			sb.WriteString(" " + props)
		}
	case 13: // PINGRESP
		sb.WriteString("PINGRESP")
	case 14, 15: // DISCONNECT, AUTH
		sb.WriteString(map[byte]string{14: "DISCONNECT", 15: "AUTH"}[p.typ])
		if v5 {
			sb.WriteString(r.optReasonProps())
		}
	default:
		return p, fmt.Errorf("a server does not send this packet type")
	}
	if r.err != nil {
		return p, r.err
	}
	if r.left() != 0 {
		return p, fmt.Errorf("%d bytes after the packet's fields", r.left())
	}
	p.line = sb.String()
	return p, nil
}

// Property types of MQTT 5.0 section 2.2.2.2.
const (
	ptByte = iota
	ptU16
	ptU32
	ptVarint
	ptString
	ptBinary
	ptPair
)

var propDefs = map[byte]struct {
	name string
	typ  int
}{
	1: {"PayloadFormat", ptByte}, 2: {"MessageExpiry", ptU32}, 3: {"ContentType", ptString},
	8: {"ResponseTopic", ptString}, 9: {"CorrelationData", ptBinary}, 11: {"SubscriptionIdentifier", ptVarint},
	17: {"SessionExpiryInterval", ptU32}, 18: {"AssignedClientIdentifier", ptString}, 19: {"ServerKeepAlive", ptU16},
	21: {"AuthMethod", ptString}, 22: {"AuthData", ptBinary}, 23: {"RequestProblemInformation", ptByte},
	24: {"WillDelayInterval", ptU32}, 25: {"RequestResponseInformation", ptByte}, 26: {"ResponseInformation", ptString},
	28: {"ServerReference", ptString}, 31: {"ReasonString", ptString}, 33: {"ReceiveMaximum", ptU16},
	34: {"TopicAliasMaximum", ptU16}, 35: {"TopicAlias", ptU16}, 36: {"MaximumQoS", ptByte},
	37: {"RetainAvailable", ptByte}, 38: {"UserProperty", ptPair}, 39: {"MaximumPacketSize", ptU32},
	40: {"WildcardSubscriptionAvailable", ptByte}, 41: {"SubscriptionIdentifierAvailable", ptByte},
	42: {"SharedSubscriptionAvailable", ptByte},
}

type wprop struct {
	id   byte
	n    uint32
	s, v string
}

func formatProps(props []wprop) string {
	parts := make([]string, 0, len(props))
	for _, p := range props {
		d := propDefs[p.id]
		switch d.typ {
		case ptString, ptBinary:
			parts = append(parts, fmt.Sprintf("%s=%q", d.name, p.s))
		case ptPair:
			parts = append(parts, fmt.Sprintf("%s=%q:%q", d.name, p.s, p.v))
		default:
			parts = append(parts, fmt.Sprintf("%s=%d", d.name, p.n))
		}
		switch p.id {
		case 2:
			// The broker forwards what is left of a Message Expiry Interval, counted in whole
			// seconds (mosquitto's clock), so 3600 may arrive as 3599 depending on when the
			// second turned: the transcript rounds up to ten seconds.
			parts[len(parts)-1] = fmt.Sprintf("%s=~%d", d.name, (p.n+9)/10*10)
		case 18:
			// The broker makes up a new client id for every connection that sends none.
			parts[len(parts)-1] = d.name + "=<assigned>"
		}
	}
	return "props[" + strings.Join(parts, " ") + "]"
}

// formatPayload shows a short text payload as it is and a long or binary one by size and digest.
func formatPayload(b []byte) string {
	if len(b) <= 64 && utf8.Valid(b) && !strings.ContainsFunc(string(b), func(r rune) bool { return r < 0x20 }) {
		return fmt.Sprintf("%q", b)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("len=%d,sha256:%x", len(b), sum[:6])
}

// wreader reads MQTT fields; the first error sticks.
type wreader struct {
	b   []byte
	off int
	err error
}

func (r *wreader) left() int { return len(r.b) - r.off }

func (r *wreader) need(n int) bool {
	if r.err == nil && r.left() < n {
		r.err = fmt.Errorf("truncated at byte %d", r.off)
	}
	return r.err == nil
}

func (r *wreader) byte() byte {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *wreader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	r.off += 2
	return binary.BigEndian.Uint16(r.b[r.off-2:])
}

func (r *wreader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return binary.BigEndian.Uint32(r.b[r.off-4:])
}

func (r *wreader) varint() uint32 {
	var v uint32
	for i := 0; i < 4; i++ {
		c := r.byte()
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v
		}
	}
	if r.err == nil {
		r.err = errors.New("variable byte integer over 4 bytes")
	}
	return 0
}

// optReasonProps reads the optional tail of an MQTT 5 acknowledgement, DISCONNECT or AUTH: a
// reason code (absent: 0x00, Success) and then properties (absent: none), as
// " reason=0x.. props[...]".
func (r *wreader) optReasonProps() string {
	code := byte(0)
	if r.left() > 0 {
		code = r.byte()
	}
	props := "props[]"
	if r.left() > 0 {
		props = r.props()
	}
	return fmt.Sprintf(" reason=%#02x %s", code, props)
}

func (r *wreader) str() string {
	n := int(r.u16())
	if !r.need(n) {
		return ""
	}
	r.off += n
	return string(r.b[r.off-n : r.off])
}

func (r *wreader) propList() []wprop {
	n := int(r.varint())
	if !r.need(n) {
		return nil
	}
	end := r.off + n
	var out []wprop
	for r.err == nil && r.off < end {
		id := r.byte()
		d, ok := propDefs[id]
		if !ok {
			r.err = fmt.Errorf("unknown property %#02x", id)
			break
		}
		p := wprop{id: id}
		switch d.typ {
		case ptByte:
			p.n = uint32(r.byte())
		case ptU16:
			p.n = uint32(r.u16())
		case ptU32:
			p.n = r.u32()
		case ptVarint:
			p.n = r.varint()
		case ptString, ptBinary:
			p.s = r.str()
		case ptPair:
			p.s, p.v = r.str(), r.str()
		}
		out = append(out, p)
	}
	if r.err == nil && r.off != end {
		r.err = errors.New("properties overrun their length")
	}
	return out
}

func (r *wreader) props() string { return formatProps(r.propList()) }

// ---- hand-made packets (what a client library will not send) ----

// rawProp is one property of a hand-made packet: a byte, two-, four-byte or variable integer,
// or a string (pair).
type rawProp struct {
	id   byte
	n    uint32
	s, v string
}

func appendProps(b []byte, props []rawProp) []byte {
	var p []byte
	for _, pr := range props {
		p = append(p, pr.id)
		switch propDefs[pr.id].typ {
		case ptByte:
			p = append(p, byte(pr.n))
		case ptU16:
			p = binary.BigEndian.AppendUint16(p, uint16(pr.n))
		case ptU32:
			p = binary.BigEndian.AppendUint32(p, pr.n)
		case ptVarint:
			p = mqtt.AppendVarint(p, int(pr.n))
		case ptString, ptBinary:
			p = appendStr(p, pr.s)
		case ptPair:
			p = appendStr(appendStr(p, pr.s), pr.v)
		}
	}
	return append(mqtt.AppendVarint(b, len(p)), p...)
}

func appendStr(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

// packet frames body with the fixed header first.
func packet(first byte, body []byte) []byte {
	return append(mqtt.AppendVarint([]byte{first}, len(body)), body...)
}
