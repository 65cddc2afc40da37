package gateway_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
)

// logBuffer keeps the gateway's own lines for assertions and shows them in the test log.
type logBuffer struct {
	t  *testing.T
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.b.WriteString(line + "\n")
	l.mu.Unlock()
	l.t.Log(line)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// count is how many lines contain all of subs.
func (l *logBuffer) count(subs ...string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		all := line != ""
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

// waitLine waits until a line holds all of subs and returns it, decoded when it is a decision
// line ("gateway: {...}").
func (l *logBuffer) waitLine(t *testing.T, subs ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(l.String(), "\n") {
			all := line != ""
			for _, s := range subs {
				all = all && strings.Contains(line, s)
			}
			if !all {
				continue
			}
			var m map[string]any
			if j, ok := strings.CutPrefix(line, "gateway: "); ok && strings.HasPrefix(j, "{") {
				if err := json.Unmarshal([]byte(j), &m); err != nil {
					t.Fatalf("decision line is not JSON: %v: %s", err, line)
				}
			}
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no gateway line with %q within 5s; lines:\n%s", subs, l.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// decisionFields checks the fields every gateway decision line carries.
func decisionFields(t *testing.T, m map[string]any, eventType, protocol, reason string) {
	t.Helper()
	for k, want := range map[string]any{"logLevel": "ERROR", "status": "Failure", "eventType": eventType,
		"reason": reason, "sourceIp": "127.0.0.1"} {
		if m[k] != want {
			t.Errorf("decision line %s = %v, want %v (%v)", k, m[k], want, m)
		}
	}
	if protocol != "" && m["protocol"] != protocol {
		t.Errorf("decision line protocol = %v, want %v", m["protocol"], protocol)
	}
	if p, _ := m["sourcePort"].(float64); p <= 0 {
		t.Errorf("decision line sourcePort = %v", m["sourcePort"])
	}
	if ts, _ := m["timestamp"].(string); len(ts) != len("2006-01-02 15:04:05.000") {
		t.Errorf("decision line timestamp = %q", ts)
	}
}

// closedByPeer reads c until it ends and fails unless the gateway closed it within 5s.
func closedByPeer(t *testing.T, c net.Conn, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if err == nil {
		return // EOF
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: still open after 5s", what)
	}
	// a reset or an alert also means closed
}

// stillOpen fails if the gateway closed c within d; nothing is expected on it.
func stillOpen(t *testing.T, c net.Conn, d time.Duration, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	n, err := c.Read(b[:])
	var ne net.Error
	if n > 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%s: read %d bytes, %v; want the connection open and quiet", what, n, err)
	}
	_ = c.SetReadDeadline(time.Time{})
}

// goodClient proves the gateway still serves: an MQTT/TLS and a WSS client connect, and a
// publish from one reaches the other.
func goodClient(t *testing.T, s *stack, id string) {
	t.Helper()
	sub := s.client(t, id+"-sub", "wss")
	ch := subscribe(t, sub, "good/"+id)
	pub := s.client(t, id+"-pub", "tls")
	if tok := pub.Publish("good/"+id, 1, false, "ok"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	receive(t, ch, "good/"+id+" ok")
	sub.Disconnect(50)
	pub.Disconnect(50)
}

func shortDeadline(c *gateway.Config) {
	c.PluginConfig = []byte(`{"mqtt":{"connectTimeoutSeconds":1}}`)
}

const wsUpgrade = "GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"

// wsFrame is a masked binary frame (payload < 126 bytes), as a client sends it.
func wsFrame(payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{0x82, 0x80 | byte(len(payload)), key[0], key[1], key[2], key[3]}
	for i, b := range payload {
		f = append(f, b^key[i&3])
	}
	return f
}

// upgraded opens a WebSocket through the gateway by hand and returns it after the 101.
func upgraded(t *testing.T, s *stack) (*tls.Conn, *bufio.Reader) {
	t.Helper()
	c, err := tls.Dial("tcp", s.addr, s.pki.ClientTLS("localhost"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, wsUpgrade); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, br
}

// TestGateway_ConnectDeadline: with mqtt.connectTimeoutSeconds 1, every way of holding a
// connection open without a complete CONNECT (or request head) is closed, with a decision line;
// a connection whose CONNECT is complete stays open past the deadline; good clients still work.
func TestGateway_ConnectDeadline(t *testing.T) {
	s := newStackWith(t, 1, stackOpts{edit: shortDeadline})
	tcp := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dialTLS := func(t *testing.T, alpn ...string) *tls.Conn {
		c, err := tls.Dial("tcp", s.addr, s.pki.ClientTLS("localhost", alpn...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	connect := mqttConnect("half")
	tests := []struct {
		name     string
		hold     func(t *testing.T) net.Conn
		protocol string
		details  string
	}{
		{"silent TCP", tcp, "", "TLS handshake not complete within 1s"},
		{"half TLS handshake", func(t *testing.T) net.Conn {
			c := tcp(t)
			c.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x80, 0x01, 0x00}) // a ClientHello record cut short
			return c
		}, "", "TLS handshake not complete within 1s"},
		{"silent MQTT after the handshake", func(t *testing.T) net.Conn { return dialTLS(t, "mqtt") },
			"MQTT", "no complete CONNECT within 1s of the accept"},
		{"half CONNECT", func(t *testing.T) net.Conn {
			c := dialTLS(t, "mqtt")
			c.Write(connect[:len(connect)/2])
			return c
		}, "MQTT", "no complete CONNECT within 1s of the accept"},
		{"CONNECT one byte short", func(t *testing.T) net.Conn {
			c := dialTLS(t, "mqtt")
			c.Write(connect[:len(connect)-1])
			return c
		}, "MQTT", "no complete CONNECT within 1s of the accept"},
		{"malformed length", func(t *testing.T) net.Conn {
			c := dialTLS(t, "mqtt")
			c.Write([]byte{0x10, 0xff, 0xff, 0xff, 0xff, 0x01})
			return c
		}, "MQTT", "no complete CONNECT within 1s of the accept"},
		{"WebSocket upgrade without CONNECT", func(t *testing.T) net.Conn {
			c, _ := upgraded(t, s)
			return c
		}, "MQTT", "no complete CONNECT within 1s of the WebSocket upgrade"},
		{"WebSocket with half a CONNECT", func(t *testing.T) net.Conn {
			c, _ := upgraded(t, s)
			c.Write(wsFrame(connect[:5]))
			return c
		}, "MQTT", "no complete CONNECT within 1s of the WebSocket upgrade"},
		{"WebSocket with a ping only", func(t *testing.T) net.Conn {
			c, _ := upgraded(t, s)
			c.Write([]byte{0x89, 0x80, 1, 2, 3, 4}) // masked ping, empty
			return c
		}, "MQTT", "no complete CONNECT within 1s of the WebSocket upgrade"},
		{"silent HTTPS after the handshake", func(t *testing.T) net.Conn { return dialTLS(t) },
			"HTTP", "no complete request head within 1s of the accept"},
		{"slow headers", func(t *testing.T) net.Conn {
			c := dialTLS(t)
			io.WriteString(c, "POST /topics/x HTTP/1.1\r\nHost: localhost\r\nx-a: 1\r\n")
			return c
		}, "HTTP", "no complete request head within 1s of the accept"},
		{"slow headers on a kept-alive connection", func(t *testing.T) net.Conn {
			c := dialTLS(t)
			io.WriteString(c, "POST /topics/k HTTP/1.1\r\nHost: localhost\r\ncontent-length: 1\r\n\r\nx")
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("first request: %v %v", resp, err)
			}
			io.Copy(io.Discard, resp.Body)
			time.Sleep(1500 * time.Millisecond) // idle past the deadline: allowed between requests
			io.WriteString(c, "POST /topics/k HTTP/1.1\r\nHost: loc")
			return c
		}, "HTTP", "no complete request head within 1s of its first byte"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := s.logs.count(tc.details)
			c := tc.hold(t)
			closedByPeer(t, c, tc.name)
			deadline := time.Now().Add(5 * time.Second)
			for s.logs.count(tc.details) == before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			m := s.logs.waitLine(t, tc.details)
			decisionFields(t, m, "Disconnect", tc.protocol, "PROTOCOL_ERROR")
			if m["disconnectReason"] != "CLIENT_ERROR" {
				t.Errorf("disconnectReason = %v", m["disconnectReason"])
			}
		})
	}

	t.Run("after a complete CONNECT the deadline no longer applies", func(t *testing.T) {
		c := dialTLS(t, "mqtt")
		// The CONNECT in two writes, the second after half the deadline.
		c.Write(connect[:3])
		time.Sleep(500 * time.Millisecond)
		c.Write(connect[3:])
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if typ, err := readPacket(t, br); err != nil || typ != 0x20 {
			t.Fatalf("CONNACK: %#x %v", typ, err)
		}
		stillOpen(t, c, 1500*time.Millisecond, "after CONNECT")
		c.Write([]byte{0xc0, 0x00}) // PINGREQ
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if typ, err := readPacket(t, br); err != nil || typ != 0xd0 {
			t.Fatalf("PINGRESP: %#x %v", typ, err)
		}
	})
	t.Run("a WebSocket whose CONNECT is complete stays open", func(t *testing.T) {
		c, br := upgraded(t, s)
		// The CONNECT split over two frames and a ping between them.
		c.Write(wsFrame(connect[:4]))
		c.Write([]byte{0x89, 0x80, 9, 9, 9, 9})
		c.Write(wsFrame(connect[4:]))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if got := readWSPayload(t, br, 0x2); len(got) < 2 || got[0] != 0x20 {
			t.Fatalf("CONNACK frame: % x", got)
		}
		stillOpen(t, c, 1500*time.Millisecond, "WebSocket after CONNECT")
		c.Write(wsFrame([]byte{0xc0, 0x00}))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if got := readWSPayload(t, br, 0x2); len(got) < 2 || got[0] != 0xd0 {
			t.Fatalf("PINGRESP frame: % x", got)
		}
	})
	goodClient(t, s, "deadline")
}

// readWSPayload reads server frames until one with opcode op and returns its payload (pongs
// for our pings are skipped).
func readWSPayload(t *testing.T, br *bufio.Reader, op byte) []byte {
	t.Helper()
	for {
		h := make([]byte, 2)
		if _, err := io.ReadFull(br, h); err != nil {
			t.Fatalf("WebSocket frame: %v", err)
		}
		n := int(h[1] & 0x7f)
		if n == 126 {
			ext := make([]byte, 2)
			io.ReadFull(br, ext)
			n = int(ext[0])<<8 | int(ext[1])
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			t.Fatalf("WebSocket payload: %v", err)
		}
		if h[0]&0x0f == op {
			return p
		}
	}
}

// rawHTTPS sends head (and then body, from a goroutine) on a new TLS connection without ALPN
// and returns the response and how many body bytes the client managed to write.
func rawHTTPS(t *testing.T, s *stack, head string, body io.Reader) (*http.Response, string, *atomic.Int64) {
	t.Helper()
	c, err := tls.Dial("tcp", s.addr, s.pki.ClientTLS("localhost"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var wrote atomic.Int64
	go func() {
		if cl, ok := body.(io.Closer); ok {
			defer cl.Close()
		}
		if _, err := io.WriteString(c, head); err != nil || body == nil {
			return
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := body.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
				wrote.Add(int64(n))
			}
			if err != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), &wrote
}

// TestGateway_HeaderLimit: a request head over 60 KiB (one huge line, or many lines) or over 100
// header lines is answered 431 without being read to its end; a head of exactly 60 KiB and 100
// lines goes through.
func TestGateway_HeaderLimit(t *testing.T) {
	s := newStack(t, 1)
	const start = "POST /topics/h HTTP/1.1\r\nHost: localhost\r\ncontent-length: 2\r\n"
	// exact builds a head of exactly n bytes with one padding header.
	exact := func(n int) string {
		pad := n - len(start) - len("x-pad: \r\n\r\n")
		return start + "x-pad: " + strings.Repeat("p", pad) + "\r\n\r\n"
	}
	many := func(lines, size int) string { // Host and content-length are two of the lines
		var b strings.Builder
		b.WriteString(start)
		for i := 0; i < lines-2; i++ {
			fmt.Fprintf(&b, "x-h%d: %s\r\n", i, strings.Repeat("v", size))
		}
		return b.String() + "\r\n"
	}
	for _, tc := range []struct {
		name    string
		head    string
		status  int
		details string
	}{
		{"head of exactly 60 KiB", exact(gateway.MaxRequestHeaderBytes), 200, ""},
		{"head one byte over 60 KiB", exact(gateway.MaxRequestHeaderBytes + 1), 431, "the request line and headers exceed 61440 bytes"},
		{"100 header lines", many(100, 1), 200, ""},
		{"101 header lines", many(101, 1), 431, "more than 100 header lines"},
		{"many lines over 60 KiB", many(2000, 40), 431, "the request line and headers exceed 61440 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.logs.count(tc.details)
			resp, body, _ := rawHTTPS(t, s, tc.head+"ok", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			if tc.status != 431 {
				return
			}
			if !strings.Contains(body, `"message":"Request Header Fields Too Large"`) || !resp.Close {
				t.Errorf("431 body %q, headers %v", body, resp.Header)
			}
			if s.logs.count(tc.details) != before+1 {
				t.Fatalf("want one new line with %q:\n%s", tc.details, s.logs)
			}
			m := s.logs.waitLine(t, tc.details, m0(body))
			decisionFields(t, m, "Publish-In", "HTTP", "REQUEST_HEADERS_TOO_LARGE")
			if tr, _ := m["traceId"].(string); !strings.Contains(body, tr) || len(tr) != 36 {
				t.Errorf("traceId %q not in the body %q", tr, body)
			}
		})
	}
	t.Run("a 64 MB header line is refused, not read", func(t *testing.T) {
		huge := gatewaytest.Repeat('a', 64<<20)
		resp, body, wrote := rawHTTPS(t, s, "GET /topics/x HTTP/1.1\r\nHost: localhost\r\nx-big: ", huge)
		if resp.StatusCode != 431 {
			t.Fatalf("status %d (%s)", resp.StatusCode, body)
		}
		// The writer stops when the gateway closes; what it got through is bounded by the
		// gateway's 60 KiB, its 1 MiB linger and the kernel's socket buffers.
		deadline := time.Now().Add(10 * time.Second)
		var last int64 = -1
		for time.Now().Before(deadline) {
			n := wrote.Load()
			if n == last {
				break
			}
			last = n
			time.Sleep(200 * time.Millisecond)
		}
		if n := wrote.Load(); n >= 16<<20 {
			t.Fatalf("the client wrote %d bytes of the header line: the gateway read it", n)
		}
	})
	goodClient(t, s, "headers")
}

// TestGateway_BodyLimit: a body over 128 KiB is answered 413 whether content-length declares it
// (before the body is sent) or a chunked body grows past it; 128 KiB exactly goes through.
func TestGateway_BodyLimit(t *testing.T) {
	s := newStack(t, 1)
	sub := s.client(t, "bodies", "tls")
	ch := subscribe(t, sub, "b/#")
	chunked := func(n int) io.Reader {
		pr, pw := io.Pipe()
		go func() {
			w := bufio.NewWriter(pw)
			left := n
			for left > 0 {
				k := min(left, 10000)
				if _, err := fmt.Fprintf(w, "%x\r\n%s\r\n", k, strings.Repeat("c", k)); err != nil {
					return
				}
				left -= k
			}
			w.WriteString("0\r\n\r\n")
			w.Flush()
			pw.Close()
		}()
		return pr
	}
	head := func(topic, framing string) string {
		return "POST /topics/" + topic + " HTTP/1.1\r\nHost: localhost\r\n" + framing + "\r\n\r\n"
	}
	for _, tc := range []struct {
		name, topic, framing string
		body                 io.Reader
		size                 int
		status               int
	}{
		{"content-length 128 KiB", "b/cl", "content-length: 131072", strings.NewReader(strings.Repeat("l", 131072)), 131072, 200},
		{"content-length 128 KiB + 1, body never sent", "b/cl1", "content-length: 131073", nil, 0, 413},
		{"content-length 1 GB", "b/clg", "content-length: 1000000000", gatewaytest.Repeat('g', 1e9), 0, 413},
		{"chunked 128 KiB", "b/ch", "transfer-encoding: chunked", chunked(131072), 131072, 200},
		{"chunked 128 KiB + 1", "b/ch1", "transfer-encoding: chunked", chunked(131073), 0, 413},
		{"chunked without end", "b/chg", "transfer-encoding: chunked", chunked(1 << 30), 0, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.logs.count("PAYLOAD_TOO_LARGE")
			resp, body, _ := rawHTTPS(t, s, head(tc.topic, tc.framing), tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			if tc.status == 200 {
				select {
				case got := <-ch:
					if want := tc.topic + " "; !strings.HasPrefix(got, want) || len(got) != len(want)+tc.size {
						t.Fatalf("received %d bytes on %q, want %d on %s", len(got), got[:min(len(got), 20)], tc.size, tc.topic)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the broker received nothing")
				}
				return
			}
			if !strings.Contains(body, `"message":"Payload Too Large"`) {
				t.Errorf("413 body %q", body)
			}
			deadline := time.Now().Add(5 * time.Second)
			for s.logs.count("PAYLOAD_TOO_LARGE") == before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			m := s.logs.waitLine(t, "PAYLOAD_TOO_LARGE", m0(body))
			decisionFields(t, m, "Publish-In", "HTTP", "PAYLOAD_TOO_LARGE")
		})
	}
	select {
	case got := <-ch:
		t.Fatalf("a refused body reached the broker: %.40q", got)
	default:
	}
	goodClient(t, s, "bodies")
}

// m0 is the traceId of a refusal body, to find its decision line.
func m0(body string) string {
	var v struct{ TraceID string }
	_ = json.Unmarshal([]byte(body), &v)
	return v.TraceID
}

// emfileListener fails its first n accepts with EMFILE, as accept4 does when the process has
// no file descriptor left.
type emfileListener struct {
	net.Listener
	left atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.left.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestGateway_AcceptErrorsBackOff: EMFILE from accept is retried, logged once per episode, and
// the gateway then serves. (e2e's TestHostile_FileDescriptors does it with a real ulimit.)
func TestGateway_AcceptErrorsBackOff(t *testing.T) {
	var ln *emfileListener
	s := newStackWith(t, 1, stackOpts{wrap: func(l net.Listener) net.Listener {
		ln = &emfileListener{Listener: l}
		ln.left.Store(8)
		return ln
	}})
	goodClient(t, s, "emfile")
	if n := s.logs.count("too many open files"); n != 1 {
		t.Errorf("%d lines about EMFILE, want 1:\n%s", n, s.logs)
	}
	s.logs.waitLine(t, "accept works again after 8 failed attempts")
	select {
	case err := <-s.served:
		t.Fatalf("Serve returned %v", err)
	default:
	}
}

// TestGateway_MaxConnections: above MaxConnections a new connection is closed at once, logged
// once per episode, while the open ones go on; once one ends a new client connects.
func TestGateway_MaxConnections(t *testing.T) {
	s := newStackWith(t, 1, stackOpts{edit: func(c *gateway.Config) { c.MaxConnections = 2 }})
	a := s.client(t, "a", "tls")
	ch := subscribe(t, a, "m/#")
	b := s.client(t, "b", "wss")
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		closedByPeer(t, c, "a third connection")
		c.Close()
	}
	if tok := b.Publish("m/x", 1, false, "still"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish at the cap: %v", tok.Error())
	}
	receive(t, ch, "m/x still")
	if n := s.logs.count("connections open (MaxConnections)"); n != 1 {
		t.Errorf("%d cap lines, want 1:\n%s", n, s.logs)
	}
	b.Disconnect(50)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := tls.Dial("tcp", s.addr, s.pki.ClientTLS("localhost", "mqtt"))
		if err == nil {
			c.Write(mqttConnect("c"))
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			typ, err := readPacket(t, bufio.NewReader(c))
			c.Close()
			if err == nil && typ == 0x20 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted after one closed:\n%s", s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.logs.waitLine(t, "below MaxConnections again; ", " connections were closed at once")
}
