package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// What one client may hold before the plugin has seen a complete request or CONNECT.
// docs/gateway.md lists them.
const (
	// DefaultConnectTimeout is the CONNECT deadline when the plugin configuration has no
	// mqtt.connectTimeoutSeconds (the plugin's own default).
	DefaultConnectTimeout = 10 * time.Second

	// MaxRequestHeaderBytes bounds an HTTP request's head: the request line and the header
	// lines, as received, CRLFs included. Envoy's default max_request_headers_kb is 60.
	MaxRequestHeaderBytes = 60 << 10
	// MaxRequestHeaders bounds the number of header lines (Envoy's default max_headers_count).
	MaxRequestHeaders = 100
	// MaxRequestBodyBytes bounds an HTTP request body (not a WebSocket's bytes after its 101):
	// AWS IoT's 128 KiB message limit, which its HTTPS publish enforces.
	MaxRequestBodyBytes = 128 << 10

	// lingerTime and lingerBytes bound what the gateway still reads (and discards) after it
	// answered 431 or 413 and half-closed, so that the client reads the answer before the close
	// (a close with unread bytes sends a reset, which can destroy the answer on its way).
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 1 << 20

	// decisionLinesPerSecond bounds the gateway's failure lines per reason and per second, so
	// that a flood of hostile connections costs a counter, not a line each.
	decisionLinesPerSecond = 20
)

// Reasons of the gateway's decision lines (the plugin's words where the plugin has one).
const (
	reasonProtocol        = "PROTOCOL_ERROR"
	reasonHeadersTooLarge = "REQUEST_HEADERS_TOO_LARGE"
	reasonPayloadTooLarge = "PAYLOAD_TOO_LARGE"
)

// pluginSettings are the few fields of the plugin configuration the gateway reads itself.
type pluginSettings struct {
	connectTimeout time.Duration
	accountID      string
}

// readPluginSettings reads mqtt.connectTimeoutSeconds and accountId from the plugin
// configuration. It is tolerant: a configuration that is not JSON, or that lacks the field, gives
// the defaults (the plugin refuses an invalid configuration itself, and New fails then).
func readPluginSettings(b []byte) pluginSettings {
	s := pluginSettings{connectTimeout: DefaultConnectTimeout}
	var v struct {
		AccountID string `json:"accountId"`
		MQTT      struct {
			ConnectTimeoutSeconds json.RawMessage `json:"connectTimeoutSeconds"`
		} `json:"mqtt"`
	}
	if json.Unmarshal(b, &v) != nil {
		return s
	}
	s.accountID = v.AccountID
	if n, err := strconv.Atoi(string(v.MQTT.ConnectTimeoutSeconds)); err == nil && n >= 1 && n <= 300 {
		s.connectTimeout = time.Duration(n) * time.Second
	}
	return s
}

// ---- the first MQTT packet ----

// firstPacket follows the bytes of an MQTT stream until its first packet (the CONNECT) is
// complete: the fixed header's type byte, its Remaining Length (1 to 4 bytes), then that many
// bytes. It keeps no bytes. A malformed length never completes, so the deadline still closes
// the connection if the plugin did not.
type firstPacket struct {
	state     int // 0: type byte; 1: length bytes; 2: body; 3: complete; 4: malformed
	mult      int
	lenBytes  int
	remaining int
}

// feed consumes b and reports whether the first packet is complete.
func (f *firstPacket) feed(b []byte) bool {
	for len(b) > 0 && f.state < 3 {
		switch f.state {
		case 0:
			f.state, f.mult = 1, 1
			b = b[1:]
		case 1:
			c := b[0]
			b = b[1:]
			f.remaining += int(c&0x7f) * f.mult
			f.mult *= 128
			f.lenBytes++
			if c&0x80 == 0 {
				f.state = 2
				if f.remaining == 0 {
					f.state = 3
				}
			} else if f.lenBytes == 4 {
				f.state = 4
			}
		case 2:
			n := min(len(b), f.remaining)
			f.remaining -= n
			b = b[n:]
			if f.remaining == 0 {
				f.state = 3
			}
		}
	}
	return f.state == 3
}

// wsFirstPacket follows a client's WebSocket frames (RFC 6455 5.2) and feeds the unmasked payload
// of data frames to a firstPacket; control frames (ping, pong, close) are skipped.
type wsFirstPacket struct {
	mqtt    firstPacket
	hdr     [14]byte
	hdrLen  int   // bytes of hdr filled
	need    int   // header bytes needed (2 until the length field is known)
	payload int64 // payload bytes left in the current frame
	pos     int   // position in the payload, for the mask
	data    bool  // the current frame carries data (text, binary, continuation)
	masked  bool
	key     [4]byte
	bad     bool
}

// feed consumes b and reports whether the first MQTT packet is complete.
func (w *wsFirstPacket) feed(b []byte) bool {
	for len(b) > 0 && !w.bad {
		if w.payload == 0 && w.need == 0 {
			w.need, w.hdrLen = 2, 0
		}
		if w.need > 0 {
			for w.hdrLen < w.need && len(b) > 0 {
				w.hdr[w.hdrLen] = b[0]
				w.hdrLen++
				b = b[1:]
			}
			if w.hdrLen < w.need {
				return false
			}
			if w.hdrLen == 2 {
				w.masked = w.hdr[1]&0x80 != 0
				n := 2
				switch w.hdr[1] & 0x7f {
				case 126:
					n += 2
				case 127:
					n += 8
				}
				if w.masked {
					n += 4
				}
				if n > 2 {
					w.need = n
					continue
				}
			}
			w.startFrame()
			if w.payload == 0 {
				continue
			}
		}
		n := int(min(int64(len(b)), w.payload))
		if w.data {
			// Unmask only the fixed header (a few bytes); after it only the count matters.
			chunk := b[:n]
			for len(chunk) > 0 && w.mqtt.state < 2 {
				c := [1]byte{chunk[0]}
				if w.masked {
					c[0] ^= w.key[w.pos&3]
				}
				w.pos++
				chunk = chunk[1:]
				w.mqtt.feed(c[:])
			}
			if len(chunk) > 0 && w.mqtt.state == 2 {
				w.mqtt.feed(chunk)
				w.pos += len(chunk)
			}
		}
		w.payload -= int64(n)
		b = b[n:]
		if w.mqtt.state == 3 {
			return true
		}
	}
	return w.mqtt.state == 3
}

// startFrame reads the complete frame header in hdr.
func (w *wsFirstPacket) startFrame() {
	op := w.hdr[0] & 0x0f
	w.data = op <= 2
	i := 2
	switch l := w.hdr[1] & 0x7f; l {
	case 126:
		w.payload = int64(w.hdr[2])<<8 | int64(w.hdr[3])
		i = 4
	case 127:
		var v uint64
		for _, c := range w.hdr[2:10] {
			v = v<<8 | uint64(c)
		}
		if v > 1<<62 {
			w.bad = true
		}
		w.payload = int64(v & (1<<62 - 1))
		i = 10
	default:
		w.payload = int64(l)
	}
	if w.masked {
		copy(w.key[:], w.hdr[i:i+4])
	}
	w.pos, w.need = 0, 0
}

// ---- the request head limit ----

// headLimit sits under the bufio.Reader of an HTTP connection: while a request head is read it
// lets through at most n more bytes, then reports the end of input and records the hit.
type headLimit struct {
	r   io.Reader
	n   int // bytes left; < 0: no limit
	hit bool
}

func (l *headLimit) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		l.hit = true
		return 0, io.EOF
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}

// ---- answering and closing ----

// lingerClose half-closes c after an answer and reads what the client still sends, discarding
// it, for at most lingerTime and lingerBytes, so that the answer is not lost to a reset.
func lingerClose(c net.Conn, raw net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite() // TLS close_notify
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c, lingerBytes)
	c.Close()
}

// ---- decision lines ----

// decision is one gateway decision line, with the plugin's field names (DESIGN contract 6).
type decision struct {
	traceID, eventType, protocol, reason, details, disconnectReason string
	source                                                          net.Addr
}

// decisionLog writes the gateway's decision lines through Config.Logf, at most
// decisionLinesPerSecond per reason and per second; the count of suppressed lines is written with
// the first line of a later second.
type decisionLog struct {
	mu         sync.Mutex
	sec        int64
	sent       map[string]int
	suppressed map[string]int
}

func (g *Gateway) decide(d decision) {
	if g.cfg.Logf == nil {
		return
	}
	now := time.Now()
	l := &g.dlog
	l.mu.Lock()
	var summaries []string
	if sec := now.Unix(); sec != l.sec {
		for r, n := range l.suppressed {
			if n > 0 {
				summaries = append(summaries, g.decisionLine(now, decision{reason: r,
					details: strconv.Itoa(n) + " more gateway lines with this reason were suppressed in one second"}))
			}
		}
		l.sec, l.sent, l.suppressed = sec, map[string]int{}, map[string]int{}
	}
	write := l.sent[d.reason] < decisionLinesPerSecond
	if write {
		l.sent[d.reason]++
	} else {
		l.suppressed[d.reason]++
	}
	l.mu.Unlock()
	for _, s := range summaries {
		g.cfg.Logf("gateway: %s", s)
	}
	if write {
		g.cfg.Logf("gateway: %s", g.decisionLine(now, d))
	}
}

// decisionLine formats d as the plugin formats its decision lines.
func (g *Gateway) decisionLine(now time.Time, d decision) string {
	m := []byte(`{"timestamp":"` + now.UTC().Format("2006-01-02 15:04:05.000") + `","logLevel":"ERROR"`)
	add := func(k, v string) {
		if v != "" {
			b, _ := json.Marshal(v)
			m = append(m, `,"`+k+`":`...)
			m = append(m, b...)
		}
	}
	add("traceId", d.traceID)
	add("accountId", g.settings.accountID)
	add("status", "Failure")
	add("eventType", d.eventType)
	add("protocol", d.protocol)
	if d.source != nil {
		if host, port, err := net.SplitHostPort(d.source.String()); err == nil {
			add("sourceIp", host)
			if p, err := strconv.Atoi(port); err == nil && p > 0 {
				m = append(m, `,"sourcePort":`+strconv.Itoa(p)...)
			}
		}
	}
	add("reason", d.reason)
	add("details", d.details)
	add("disconnectReason", d.disconnectReason)
	return string(append(m, '}'))
}

// newTraceID is a random UUID (version 4), as the plugin's trace ids.
func newTraceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
