package gatewaybench

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/iotauthz/iotauthz/plugin/mqtt/mqtttest"
)

// client is a minimal MQTT 3.1.1 client over TLS: CONNECT, pipelined QoS 1 PUBLISH, DISCONNECT.
// The benchmarks use it rather than paho because paho's own cost per message (a goroutine and
// channels per token, its router) is as large as what is measured and would be paid on both
// paths alike, pulling the gateway/direct ratio towards 1; this client spends almost nothing
// per message, so the ratio shows the gateway. It checks every answer: CONNACK return code 0,
// and exactly one PUBACK per packet identifier in flight.
type client struct {
	conn *tls.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

// errRefused is a CONNACK with a non-zero return code.
var errRefused = errors.New("CONNACK refused")

// dialMQTT connects to addr over TLS with cfg, sends CONNECT (clean session, keep-alive
// keepAlive seconds, the username given) and waits for CONNACK 0, all before deadline.
// wbuf is the size of its write buffer (small for clients that only stay connected).
func dialMQTT(addr string, cfg *tls.Config, clientID, username string, keepAlive uint16, wbuf int, deadline time.Time) (*client, error) {
	d := net.Dialer{Deadline: deadline}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = raw.SetDeadline(deadline)
	tc := tls.Client(raw, cfg)
	c := &client{conn: tc, r: bufio.NewReaderSize(tc, 4096), w: bufio.NewWriterSize(tc, wbuf)}
	if err := tc.Handshake(); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	if _, err := c.w.Write(connectPacket(clientID, username, keepAlive)); err != nil {
		raw.Close()
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		raw.Close()
		return nil, err
	}
	typ, body, err := c.readPacket()
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("waiting for CONNACK: %w", err)
	}
	if typ != 0x20 || len(body) != 2 {
		raw.Close()
		return nil, fmt.Errorf("first packet %#x (%d bytes), want CONNACK", typ, len(body))
	}
	if body[1] != 0 {
		raw.Close()
		return nil, fmt.Errorf("%w: return code %d", errRefused, body[1])
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}

// connectPacket is an MQTT 3.1.1 CONNECT: clean session, the username flag, no password.
func connectPacket(clientID, username string, keepAlive uint16) []byte {
	var vh []byte
	vh = appendString(vh, "MQTT")
	vh = append(vh, 4, 0x80|0x02, byte(keepAlive>>8), byte(keepAlive))
	vh = appendString(vh, clientID)
	vh = appendString(vh, username)
	return append(appendLength([]byte{0x10}, len(vh)), vh...)
}

// appendPublish appends a QoS 1 PUBLISH of payload on topic with packet identifier id.
func appendPublish(b []byte, topic string, id uint16, payload []byte) []byte {
	b = appendLength(append(b, 0x32), 2+len(topic)+2+len(payload))
	b = appendString(b, topic)
	b = append(b, byte(id>>8), byte(id))
	return append(b, payload...)
}

func appendString(b []byte, s string) []byte {
	b = append(b, byte(len(s)>>8), byte(len(s)))
	return append(b, s...)
}

func appendLength(b []byte, n int) []byte {
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			return b
		}
	}
}

// readPacket reads one packet: its type byte and body. Bodies above 1 MiB are an error.
func (c *client) readPacket() (byte, []byte, error) { return mqtttest.ReadPacket(c.r, 1<<20) }

// publishQoS1 publishes count QoS 1 messages of payload on topic, with at most window
// unacknowledged at once, and returns once every one has its PUBACK. A PUBACK for an identifier
// not in flight, any other packet, or a close is an error: the broker did not take a message.
func (c *client) publishQoS1(topic string, payload []byte, count, window int, deadline time.Time) error {
	_ = c.conn.SetDeadline(deadline)
	defer c.conn.SetDeadline(time.Time{})
	inflight := make([]bool, 65536)
	var buf []byte
	next := uint16(0)
	sent, acked, open := 0, 0, 0
	for acked < count {
		buf = buf[:0]
		for open < window && sent < count {
			next++
			if next == 0 {
				next = 1
			}
			if inflight[next] {
				return fmt.Errorf("packet identifier %d still in flight after 65535 more", next)
			}
			inflight[next] = true
			buf = appendPublish(buf, topic, next, payload)
			sent++
			open++
		}
		if len(buf) > 0 {
			if _, err := c.w.Write(buf); err != nil {
				return err
			}
			if err := c.w.Flush(); err != nil {
				return err
			}
		}
		// One PUBACK at least, then whatever has already arrived.
		for first := true; first || c.r.Buffered() > 0; first = false {
			typ, body, err := c.readPacket()
			if err != nil {
				return fmt.Errorf("after %d of %d PUBACKs: %w", acked, count, err)
			}
			if typ != 0x40 || len(body) != 2 {
				return fmt.Errorf("packet %#x (%d bytes), want PUBACK", typ, len(body))
			}
			id := uint16(body[0])<<8 | uint16(body[1])
			if !inflight[id] {
				return fmt.Errorf("PUBACK for packet identifier %d, not in flight", id)
			}
			inflight[id] = false
			acked++
			open--
		}
	}
	return nil
}

// disconnect sends DISCONNECT and closes.
func (c *client) disconnect() {
	_ = c.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, _ = c.w.Write([]byte{0xe0, 0})
	_ = c.w.Flush()
	c.conn.Close()
}
