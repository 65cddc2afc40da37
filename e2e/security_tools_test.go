package e2e

// The tools of TestSecurity: what a broker and an HTTP upstream receive (a recording mochi-mqtt,
// byte recorders in front of its listeners, a recording HTTP upstream) and the clients no package
// here provides (Paho with a Will or a password, mosquitto_sub with line-buffered output,
// hand-written MQTT over TLS or a minimal WebSocket).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/syncbuf"
	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// secMochi is a mochi-mqtt broker that records the CONNECTs it receives.
type secMochi struct {
	tcpAddr, wsAddr string
	mu              sync.Mutex
	conns           []connectRecord
}

type connectRecord struct {
	clientID, username, password string
	usernameFlag, passwordFlag   bool
}

func (m *secMochi) find(clientID string) *connectRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.conns {
		if m.conns[i].clientID == clientID {
			c := m.conns[i]
			return &c
		}
	}
	return nil
}

// recordHook lets every client in and records each CONNECT as mochi decoded it.
type recordHook struct {
	mochi.HookBase
	m *secMochi
}

func (*recordHook) ID() string { return "e2e-record" }

func (*recordHook) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

func (h *recordHook) OnConnectAuthenticate(_ *mochi.Client, pk packets.Packet) bool {
	h.m.mu.Lock()
	h.m.conns = append(h.m.conns, connectRecord{clientID: pk.Connect.ClientIdentifier, username: string(pk.Connect.Username),
		password: string(pk.Connect.Password), usernameFlag: pk.Connect.UsernameFlag, passwordFlag: pk.Connect.PasswordFlag})
	h.m.mu.Unlock()
	return true
}

func (*recordHook) OnACLCheck(*mochi.Client, string, bool) bool { return true }

func startSecMochi(t *testing.T) *secMochi {
	t.Helper()
	m := &secMochi{}
	srv := mochi.New(&mochi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.AddHook(&recordHook{m: m}, nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		t.Fatal(err)
	}
	if m.wsAddr, err = gatewaytest.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddListener(listeners.NewWebsocket(listeners.Config{ID: "ws", Address: m.wsAddr})); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	m.tcpAddr = ln.Addr().String()
	if err := gatewaytest.WaitListening(m.tcpAddr, m.wsAddr); err != nil {
		t.Fatal(err)
	}
	return m
}

// recorder is a TCP proxy in front of a broker listener that keeps the first 64 KiB each
// connection sent to the broker: what the broker receives, byte for byte.
type recorder struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	streams  []*syncbuf.Buffer
	conns    []net.Conn
}

func newRecorder(t *testing.T, upstream string) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln, upstream: upstream}
	go r.serve()
	t.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
	})
	return r
}

func (r *recorder) addr() string { return r.ln.Addr().String() }

func (r *recorder) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", r.upstream, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		buf := &syncbuf.Buffer{}
		r.mu.Lock()
		r.streams = append(r.streams, buf)
		r.conns = append(r.conns, c, up)
		r.mu.Unlock()
		go func() {
			_, _ = io.Copy(up, io.TeeReader(c, &capped{w: buf, left: 64 << 10}))
			up.Close()
		}()
		go func() {
			_, _ = io.Copy(c, up)
			c.Close()
		}()
	}
}

// containing returns the streams that hold any of the strings.
func (r *recorder) containing(subs ...string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]byte
	for _, s := range r.streams {
		b := []byte(s.String())
		for _, sub := range subs {
			if bytes.Contains(b, []byte(sub)) {
				out = append(out, b)
				break
			}
		}
	}
	return out
}

// heads returns the HTTP request heads (up to the blank line) of the streams that carry the
// marker header of clientID.
func (r *recorder) heads(clientID string) []string {
	var out []string
	for _, b := range r.containing("x-e2e-client: " + clientID + "\r\n") {
		head, _, _ := bytes.Cut(b, []byte("\r\n\r\n"))
		out = append(out, string(head)+"\r\n\r\n")
	}
	return out
}

// httpRecorder is an HTTP upstream that answers 200 and keeps every request it receives.
type httpRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (h *httpRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 128<<10))
	h.mu.Lock()
	h.reqs = append(h.reqs, r.Clone(context.Background()))
	h.mu.Unlock()
	w.Header().Set("content-type", "application/json")
	_, _ = io.WriteString(w, `{"message":"OK"}`)
}

// find returns the request that carries the marker header of name.
func (h *httpRecorder) find(name string) *http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.reqs {
		if r.Header.Get("x-e2e-client") == name {
			return r
		}
	}
	return nil
}

// capped writes at most left bytes to w and drops the rest.
type capped struct {
	w    io.Writer
	left int
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p)
	if c.left > 0 {
		k := min(n, c.left)
		_, _ = c.w.Write(p[:k])
		c.left -= k
	}
	return n, nil
}

// ---- clients ----

// mqttVersion is mosquitto_sub's -V for MQTT 3.1.1 (4) or 5; given after mosqArgs' own -V, it
// wins.
func mqttVersion(v byte) []string {
	if v == 5 {
		return []string{"-V", "mqttv5"}
	}
	return []string{"-V", "mqttv311"}
}

// dialPaho is sc.dial with options the scenarios' helper does not set (Will, clean session).
func dialPaho(s *sc, o connOpts, set func(*paho.ClientOptions)) (*mqttClient, error) {
	s.Helper()
	o.set = set
	return s.dial(o)
}

// lbSub is a mosquitto_sub -d run with line-buffered output (stdbuf), so its debug lines
// ("sending CONNECT", "received CONNACK") can be read while it runs. mosquitto_sub retries a
// CONNECT the server closes, so a refused one runs until stop.
type lbSub struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
}

func (st *secStack) mosquittoSubLB(s *sc, addr, clientID, username string, extra ...string) *lbSub {
	s.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s.Cleanup(cancel)
	args := append(append([]string{"-oL", "mosquitto_sub"}, s.mosqArgs(addr, clientID, username)...), "-d")
	args = append(args, extra...)
	m := &lbSub{out: &syncbuf.Buffer{}, done: make(chan struct{})}
	m.cmd = exec.CommandContext(ctx, "stdbuf", args...)
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	if err := m.cmd.Start(); err != nil {
		s.fatalf("mosquitto_sub: %v", err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	s.Cleanup(m.kill)
	return m
}

func (m *lbSub) output() string { return m.out.String() }

// kill ends the process at once (SIGKILL): no DISCONNECT, as a device that loses power.
func (m *lbSub) kill() {
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// stop kills the process and returns what it printed.
func (m *lbSub) stop() string {
	m.kill()
	return m.out.String()
}

// connectSpec is an MQTT CONNECT written by hand, for the cases no command-line client here
// covers over WSS (MQTT 5).
type connectSpec struct {
	version            byte // 4: 3.1.1, 5
	clientID, username string
	password           string
	hasPassword, clean bool
	willTopic          string
	willPayload        string
	willRetain         bool
	willQoS            byte
}

func (c connectSpec) packet() []byte {
	var flags byte
	if c.clean {
		flags |= 0x02
	}
	if c.willTopic != "" {
		flags |= 0x04 | c.willQoS<<3
		if c.willRetain {
			flags |= 0x20
		}
	}
	if c.username != "" {
		flags |= 0x80
	}
	if c.hasPassword {
		flags |= 0x40
	}
	body := []byte{0, 4, 'M', 'Q', 'T', 'T', c.version, flags, 0, 60}
	if c.version == 5 {
		body = append(body, 0) // no properties
	}
	body = appendString(body, c.clientID)
	if c.willTopic != "" {
		if c.version == 5 {
			body = append(body, 0) // no Will properties
		}
		body = appendString(body, c.willTopic)
		body = appendString(body, c.willPayload)
	}
	if c.username != "" {
		body = appendString(body, c.username)
	}
	if c.hasPassword {
		body = appendString(body, c.password)
	}
	return append(mqtt.AppendVarint([]byte{0x10}, len(body)), body...)
}

// rawMQTT is a device written by hand, for what no client here does (MQTT 5 over WSS, a PINGREQ
// on demand, a TCP reset): MQTT packets over TLS with ALPN mqtt, or over a WebSocket.
type rawMQTT struct {
	conn net.Conn // the TLS connection
	w    io.Writer
	r    *bufio.Reader
}

func (c *rawMQTT) Write(p []byte) (int, error) { return c.w.Write(p) }

// readPacket reads the next MQTT packet within d.
func (c *rawMQTT) readPacket(d time.Duration) (byte, []byte, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	defer c.conn.SetReadDeadline(time.Time{})
	return readMQTT(c.r)
}

// reset drops the TCP connection with a reset (SO_LINGER 0), without a TLS close_notify.
func (c *rawMQTT) reset() {
	tcp := c.conn.(*tls.Conn).NetConn().(*net.TCPConn)
	_ = tcp.SetLinger(0)
	_ = tcp.Close()
}

// connack sends the CONNECT and requires a CONNACK that accepts it.
func (c *rawMQTT) connack(s *sc, connect connectSpec) {
	s.Helper()
	if _, err := c.Write(connect.packet()); err != nil {
		s.fatalf("write CONNECT: %v", err)
	}
	if typ, body, err := c.readPacket(10 * time.Second); err != nil || typ != 0x20 || len(body) < 2 || body[1] != 0 {
		s.fatalf("CONNACK of %s: %#x %x %v", connect.clientID, typ, body, err)
	}
}

// rawDial connects over TLS with ALPN mqtt, or over WSS.
func (s *sc) rawDial(addr string, wss bool) *rawMQTT {
	s.Helper()
	if wss {
		return s.wsDial(addr, nil, "")
	}
	host, _, _ := net.SplitHostPort(addr)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{RootCAs: s.e.pool, ServerName: host, NextProtos: []string{"mqtt"}})
	if err != nil {
		s.fatalf("dial %s: %v", addr, err)
	}
	s.Cleanup(func() { conn.Close() })
	return &rawMQTT{conn: conn, w: conn, r: bufio.NewReader(conn)}
}

// wsClient is a minimal RFC 6455 client: one masked binary frame per Write, the payloads of the
// server's data frames as a stream on Read.
type wsClient struct {
	conn net.Conn
	br   *bufio.Reader
	left int // payload bytes of the current frame not yet read
}

// wsDial upgrades GET /mqtt{query} with the given extra headers (Sec-WebSocket-Protocol: mqtt) and
// fails the test unless the answer is 101.
func (s *sc) wsDial(addr string, h http.Header, query string) *rawMQTT {
	s.Helper()
	host, _, _ := net.SplitHostPort(addr)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: s.e.pool, ServerName: host})
	if err != nil {
		s.fatalf("dial %s: %v", addr, err)
	}
	s.Cleanup(func() { conn.Close() })
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	var b strings.Builder
	fmt.Fprintf(&b, "GET /mqtt%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n",
		query, addr, base64.StdEncoding.EncodeToString(key))
	for k, vs := range h {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, b.String()); err != nil {
		s.fatalf("upgrade: %v", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		s.fatalf("upgrade: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		s.fatalf("upgrade: %s", resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	ws := &wsClient{conn: conn, br: br}
	return &rawMQTT{conn: conn, w: ws, r: bufio.NewReader(ws)}
}

func (c *wsClient) Write(p []byte) (int, error) {
	h := []byte{0x82}
	switch n := len(p); {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n < 1<<16:
		h = append(h, 0x80|126, byte(n>>8), byte(n))
	default:
		h = binary.BigEndian.AppendUint64(append(h, 0x80|127), uint64(n))
	}
	mask := make([]byte, 4)
	_, _ = rand.Read(mask)
	h = append(h, mask...)
	for i, x := range p {
		h = append(h, x^mask[i%4])
	}
	if _, err := c.conn.Write(h); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read returns the payload of the server's binary and continuation frames; a close frame is
// io.EOF; pings are answered.
func (c *wsClient) Read(p []byte) (int, error) {
	for c.left == 0 {
		var hdr [2]byte
		if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
			return 0, err
		}
		n := int(hdr[1] & 0x7f)
		switch n {
		case 126:
			var e [2]byte
			if _, err := io.ReadFull(c.br, e[:]); err != nil {
				return 0, err
			}
			n = int(binary.BigEndian.Uint16(e[:]))
		case 127:
			var e [8]byte
			if _, err := io.ReadFull(c.br, e[:]); err != nil {
				return 0, err
			}
			n = int(binary.BigEndian.Uint64(e[:]))
		}
		switch op := hdr[0] & 0x0f; op {
		case 0x8:
			return 0, io.EOF
		case 0x0, 0x1, 0x2:
			c.left = n
		default: // ping, pong: skip the payload (a ping's pong is not needed within a test)
			if _, err := io.CopyN(io.Discard, c.br, int64(n)); err != nil {
				return 0, err
			}
		}
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	k, err := c.br.Read(p)
	c.left -= k
	return k, err
}
