package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/syncbuf"
)

// What one hostile client can hold, against `iotauthz gateway` run as a person runs it: the
// built binary, the real plugin, the reference authorizer and mosquitto. Each hostile client is
// followed by good clients that still connect and publish.

var (
	binDirOnce sync.Once
	binDir     string
	binDirErr  error
)

// iotauthzBinary builds cmd/iotauthz once into a temporary directory removed when the tests end.
func iotauthzBinary(t *testing.T) string {
	t.Helper()
	binDirOnce.Do(func() {
		if binDir, binDirErr = os.MkdirTemp("", "iotauthz-e2e-bin"); binDirErr == nil {
			dir := binDir
			stopEmbedded = append(stopEmbedded, func() { os.RemoveAll(dir) })
		}
	})
	if binDirErr != nil {
		t.Fatal(binDirErr)
	}
	bin, err := gatewaytest.Binary(binDir)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// gatewayProc is one `iotauthz gateway` process.
type gatewayProc struct {
	cmd    *exec.Cmd
	addr   string // localhost:PORT
	stderr *syncbuf.Buffer
	exited chan struct{}
	env    env // the embedded env with addr pointing at this process
}

// startGatewayProc runs `iotauthz gateway` with the embedded stack's authorizer, broker and
// credentials, connectTimeoutSeconds as given, under `ulimit -n nofile` when nofile > 0.
func startGatewayProc(t *testing.T, e *embedded, connectTimeout, nofile int, extra ...string) *gatewayProc {
	t.Helper()
	bin := iotauthzBinary(t)
	dir := t.TempDir()
	var cfg map[string]any
	if err := json.Unmarshal(pluginConfig(e.publicPEM, "disconnect"), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["mqtt"].(map[string]any)["connectTimeoutSeconds"] = connectTimeout
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "plugin.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	pki := filepath.Dir(e.caFile) // newEmbedded wrote ca.pem, server.pem and server-key.pem there
	up := httptest.NewServer(e.received)
	t.Cleanup(up.Close)
	args := append([]string{"gateway", "--wasm", wasmPath, "--config", cfgPath, "--listen", "127.0.0.1:0",
		"--cert", filepath.Join(pki, "server.pem"), "--key", filepath.Join(pki, "server-key.pem"),
		"--broker", "tcp://" + e.broker, "--broker-ws", e.brokerWS, "--http-upstream", up.URL,
		"--cluster", "authorizer=" + e.authorizer, "--cluster", "unreachable=http://127.0.0.1:1", "--workers", "1", "--log-level", "info", "--grace", "1s"}, extra...)
	script := `exec "$0" "$@"`
	if nofile > 0 {
		script = fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile)
	}
	p := &gatewayProc{stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command("sh", append([]string{"-c", script, bin}, args...)...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.stderr
	dieWithTest(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.exited })
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- "localhost:" + m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case p.addr = <-addr:
	case <-p.exited:
		t.Fatalf("iotauthz gateway exited:\n%s", p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("iotauthz gateway not listening after 60s:\n%s", p.stderr)
	}
	p.env = e.env
	p.env.addr, p.env.rejectAddr = p.addr, p.addr
	p.env.logs = func() string { return "---- iotauthz gateway stderr ----\n" + p.stderr.String() + e.allLogs() }
	return p
}

// startHostile skips t unless the target is embedded, sets the scenario rules, and starts
// `iotauthz gateway` (startGatewayProc) for one hostile-input test with a scenario named id
// against it.
func startHostile(t *testing.T, id string, connectTimeout, nofile int) (*embedded, *gatewayProc, *sc) {
	t.Helper()
	e := startEmbedded(t)
	setRules(t, &e.env)
	p := startGatewayProc(t, e, connectTimeout, nofile)
	return e, p, &sc{T: t, e: &p.env, id: id}
}

// lines returns the stderr lines that hold every one of subs.
func (p *gatewayProc) lines(subs ...string) []string {
	var out []string
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		ok := l != ""
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

func (p *gatewayProc) alive(s *sc) {
	s.Helper()
	select {
	case <-p.exited:
		s.fatalf("iotauthz gateway exited")
	default:
	}
}

// goodClients: a TLS subscriber, a WSS publisher, mosquitto_pub and an HTTPS publish all get
// through, and the subscriber receives each message.
func goodClients(s *sc, p *gatewayProc, tag string) {
	s.Helper()
	tok := s.token("allow")
	sub := s.mustDial(connOpts{clientID: "sub-" + tag}, tok)
	s.mustSubscribe(sub, s.topic(tag+"/#"))
	pub := s.mustDial(connOpts{clientID: "pub-" + tag, wss: true}, tok)
	s.mustPublish(pub, s.topic(tag+"/wss"), 1, "ok")
	s.receive(sub, s.topic(tag+"/wss")+" ok")
	if out, err := s.mosquittoPub(p.addr, "mpub-"+tag, s.username(tok), "-q", "1", "-t", s.topic(tag+"/mosq"), "-m", "ok"); err != nil {
		s.fatalf("mosquitto_pub: %v\n%s", err, out)
	}
	s.receive(sub, s.topic(tag+"/mosq")+" ok")
	if code, body := s.httpsPublish(s.topic(tag+"/https"), tok, "ok", nil); code != 200 {
		s.fatalf("HTTPS publish: %d %s", code, body)
	}
	s.receive(sub, s.topic(tag+"/https")+" ok")
	sub.Disconnect(50)
	pub.Disconnect(50)
}

// closedByGateway reads c until the gateway closes it (within 10s).
func closedByGateway(s *sc, c net.Conn, what string) {
	s.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.fatalf("%s: still open after 10s", what)
	}
}

// TestHostile_ConnectDeadline: with mqtt.connectTimeoutSeconds 1, connections that never
// complete a CONNECT (or a request head) are closed by the gateway, each with a decision line.
func TestHostile_ConnectDeadline(t *testing.T) {
	e, p, s := startHostile(t, "hostiledeadline", 1, 0)
	cfg := &tls.Config{RootCAs: e.pool, ServerName: "localhost"}
	mqttCfg := cfg.Clone()
	mqttCfg.NextProtos = []string{"mqtt"}
	dial := func(c *tls.Config) net.Conn {
		if c == nil {
			conn, err := net.Dial("tcp", p.addr)
			if err != nil {
				s.fatalf("%v", err)
			}
			return conn
		}
		conn, err := tls.Dial("tcp", p.addr, c)
		if err != nil {
			s.fatalf("%v", err)
		}
		return conn
	}
	connect := connectPacket("hostile-"+s.id, s.username(s.token("allow")))
	for _, tc := range []struct {
		name, details string
		hold          func() net.Conn
	}{
		{"silent TCP", "TLS handshake not complete within 1s", func() net.Conn { return dial(nil) }},
		{"TLS handshake cut short", "TLS handshake not complete within 1s", func() net.Conn {
			c := dial(nil)
			c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00})
			return c
		}},
		{"silent after ALPN mqtt", "no complete CONNECT within 1", func() net.Conn { return dial(mqttCfg) }},
		{"half a CONNECT", "no complete CONNECT within 1", func() net.Conn {
			c := dial(mqttCfg)
			c.Write(connect[:len(connect)/2])
			return c
		}},
		{"WebSocket upgrade without CONNECT", "no complete CONNECT within 1", func() net.Conn {
			c := dial(cfg)
			io.WriteString(c, "GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n"+
				"x-amz-customauthorizer-name: "+authorizer+"\r\nx-amz-customauthorizer-signature: "+s.sign(s.token("allow"))+"\r\n"+
				tokenKey+": "+s.token("allow")+"\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != 101 {
				s.fatalf("upgrade: %v %v", resp, err)
			}
			return c
		}},
		{"slow request headers", "no complete request head within 1s", func() net.Conn {
			c := dial(cfg)
			io.WriteString(c, "POST /topics/x HTTP/1.1\r\nHost: localhost\r\n")
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sc{T: t, e: &p.env, id: s.id}
			before := len(p.lines(`"reason":"PROTOCOL_ERROR"`, tc.details))
			c := tc.hold()
			defer c.Close()
			closedByGateway(s, c, tc.name)
			s.eventually(5*time.Second, func() bool { return len(p.lines(`"reason":"PROTOCOL_ERROR"`, tc.details)) > before },
				"no decision line with %q", tc.details)
		})
	}
	// A device whose CONNECT is complete is not bound by the deadline.
	tok := s.token("allow")
	c := s.mustDial(connOpts{clientID: "slowpoke-" + s.id, keepAlive: 30 * time.Second}, tok)
	s.mustSubscribe(c, s.topic("late/#"))
	time.Sleep(2 * time.Second)
	s.open(c)
	s.mustPublish(c, s.topic("late/x"), 1, "after the deadline")
	s.receive(c, s.topic("late/x")+" after the deadline")
	goodClients(s, p, "deadline")
	p.alive(s)
}

// TestHostile_Limits: a 64 MB header line, too many headers and bodies over 128 KiB (declared
// or chunked) are refused with 431 and 413 and a decision line; the gateway reads little of them.
func TestHostile_Limits(t *testing.T) {
	e, p, s := startHostile(t, "hostilelimits", 10, 0)
	tok := s.token("allow")
	watch := s.direct("watch-" + s.id)
	s.mustSubscribe(watch, s.topic("#"))
	creds := "x-amz-customauthorizer-name: " + authorizer + "\r\nx-amz-customauthorizer-signature: " + s.sign(tok) + "\r\n" + tokenKey + ": " + tok + "\r\n"
	send := func(head string, body io.Reader) (int, string, *atomic.Int64) {
		c, err := tls.Dial("tcp", p.addr, &tls.Config{RootCAs: e.pool, ServerName: "localhost"})
		if err != nil {
			s.fatalf("%v", err)
		}
		defer c.Close()
		var wrote atomic.Int64
		go func() {
			if _, err := io.WriteString(c, head); err != nil || body == nil {
				return
			}
			n, _ := io.Copy(writerFunc(func(b []byte) (int, error) {
				n, err := c.Write(b)
				wrote.Add(int64(n))
				return n, err
			}), body)
			_ = n
		}()
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			s.fatalf("no response: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), &wrote
	}
	post := func(topic string) string {
		return "POST /topics/" + topic + "?qos=1 HTTP/1.1\r\nHost: localhost\r\n" + creds
	}
	checkLine := func(status int, body, reason string) {
		s.Helper()
		var v struct{ Message, TraceID string }
		if err := json.Unmarshal([]byte(body), &v); err != nil || v.TraceID == "" {
			s.fatalf("%d body %q", status, body)
		}
		s.eventually(5*time.Second, func() bool { return len(p.lines(`"reason":"`+reason+`"`, v.TraceID)) == 1 },
			"no decision line %s with traceId %s", reason, v.TraceID)
	}

	t.Run("64 MB header line", func(t *testing.T) {
		code, body, wrote := send("GET /mqtt HTTP/1.1\r\nHost: localhost\r\nx-big: ", gatewaytest.Repeat('a', 64<<20))
		if code != 431 || !strings.Contains(body, "Request Header Fields Too Large") {
			s.fatalf("got %d %s, want 431", code, body)
		}
		checkLine(code, body, "REQUEST_HEADERS_TOO_LARGE")
		time.Sleep(time.Second) // the writer stops once the gateway has closed
		if n := wrote.Load(); n >= 16<<20 {
			s.fatalf("the client wrote %d bytes of its header line: the gateway read it", n)
		}
	})
	t.Run("150 headers", func(t *testing.T) {
		var b strings.Builder
		for i := 0; i < 150; i++ {
			fmt.Fprintf(&b, "x-h%d: v\r\n", i)
		}
		code, body, _ := send(post(s.topic("many"))+b.String()+"content-length: 2\r\n\r\nno", nil)
		if code != 431 {
			s.fatalf("got %d %s, want 431", code, body)
		}
		checkLine(code, body, "REQUEST_HEADERS_TOO_LARGE")
	})
	t.Run("content-length over 128 KiB", func(t *testing.T) {
		code, body, _ := send(post(s.topic("big"))+"content-length: 131073\r\n\r\n", gatewaytest.Repeat('b', 131073))
		if code != 413 || !strings.Contains(body, "Payload Too Large") {
			s.fatalf("got %d %s, want 413", code, body)
		}
		checkLine(code, body, "PAYLOAD_TOO_LARGE")
	})
	t.Run("chunked over 128 KiB", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			defer pw.Close()
			chunk := strings.Repeat("c", 4096)
			for i := 0; i < 1000; i++ { // 4 MB unless refused
				if _, err := fmt.Fprintf(pw, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
					return
				}
			}
			io.WriteString(pw, "0\r\n\r\n")
		}()
		defer pr.Close()
		code, body, _ := send(post(s.topic("chunked"))+"transfer-encoding: chunked\r\n\r\n", pr)
		if code != 413 || !strings.Contains(body, "Payload Too Large") {
			s.fatalf("got %d %s, want 413", code, body)
		}
		checkLine(code, body, "PAYLOAD_TOO_LARGE")
	})
	t.Run("128 KiB exactly, chunked, goes through", func(t *testing.T) {
		payload := strings.Repeat("k", 128<<10)
		body := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(payload), payload)
		code, resp, _ := send(post(s.topic("exact"))+"transfer-encoding: chunked\r\n\r\n"+body, nil)
		if code != 200 {
			s.fatalf("got %d %s, want 200", code, resp)
		}
		s.receive(watch, s.topic("exact")+" "+payload)
	})
	goodClients(s, p, "limits")
	p.alive(s)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// TestHostile_FileDescriptors: `iotauthz gateway` under `ulimit -n 48` runs out of file
// descriptors when silent connections pile up. It must not exit: accept backs off and logs it,
// a device connected before goes on publishing and receiving, and once the silent connections
// are gone new devices connect again.
func TestHostile_FileDescriptors(t *testing.T) {
	e, p, s := startHostile(t, "hostilefds", 60, 48)
	tok := s.token("allow")
	dev := s.mustDial(connOpts{clientID: "dev-" + s.id, keepAlive: 60 * time.Second}, tok)
	s.mustSubscribe(dev, s.topic("dev/#"))
	s.mustPublish(dev, s.topic("dev/before"), 1, "x")
	s.receive(dev, s.topic("dev/before")+" x")

	// Silent connections until accept fails; the kernel completes them into the backlog.
	var holders []net.Conn
	defer func() {
		for _, c := range holders {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(p.lines("too many open files")) == 0 {
		if ctx.Err() != nil || len(holders) >= 200 {
			s.fatalf("no EMFILE after %d silent connections", len(holders))
		}
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.addr)
		if err != nil {
			s.fatalf("dial: %v", err)
		}
		holders = append(holders, c)
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("EMFILE after %d silent connections", len(holders))
	// A device that connects now waits in the kernel's accept queue.
	waiter := make(chan error, 1)
	go func() {
		d := &net.Dialer{Timeout: 30 * time.Second}
		c, err := tls.DialWithDialer(d, "tcp", p.addr, &tls.Config{RootCAs: e.pool, ServerName: "localhost", NextProtos: []string{"mqtt"}})
		if err != nil {
			waiter <- err
			return
		}
		defer c.Close()
		c.Write(connectPacket("waiter-"+s.id, s.username(tok)))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, _, err := readMQTT(bufio.NewReader(c))
		if err == nil && typ != 0x20 {
			err = fmt.Errorf("packet type %#x, want CONNACK", typ)
		}
		waiter <- err
	}()
	// Out of descriptors: the device connected before goes on.
	time.Sleep(1500 * time.Millisecond) // several backoff rounds
	p.alive(s)
	s.mustPublish(dev, s.topic("dev/during"), 1, "y")
	s.receive(dev, s.topic("dev/during")+" y")
	select {
	case err := <-waiter:
		s.fatalf("the waiting device got through while descriptors were out: %v", err)
	default:
	}
	// One line per episode: an episode ends only with an accept that works.
	if n, m := len(p.lines("too many open files")), len(p.lines("accept works again after")); n > m+1 {
		s.fatalf("%d EMFILE lines for %d recoveries: more than one per episode", n, m)
	}
	for _, c := range holders {
		c.Close()
	}
	holders = nil
	// The waiting device is accepted and served once descriptors are free again.
	select {
	case err := <-waiter:
		if err != nil {
			s.fatalf("the device that waited in the accept queue: %v", err)
		}
	case <-time.After(20 * time.Second):
		s.fatalf("the device that waited in the accept queue got no CONNACK")
	}
	s.eventually(5*time.Second, func() bool { return len(p.lines("accept works again after")) > 0 },
		"no recovery line")
	goodClients(s, p, "fds")
	s.mustPublish(dev, s.topic("dev/after"), 1, "z")
	s.receive(dev, s.topic("dev/after")+" z")
	p.alive(s)
}
