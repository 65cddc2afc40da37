package gateway_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

// passthroughWasm is the proxywasm binding's passthrough example (lets everything through, adds
// x-passthrough: 1 to HTTP responses), built once by TestMain: it tests the adapter alone. The
// plugin itself is tested through the gateway in ../../e2e.
var passthroughWasm []byte

func TestMain(m *testing.M) {
	var err error
	if passthroughWasm, err = wasmbuild.Build("github.com/iotauthz/iotauthz/plugin/internal/proxywasm/examples/passthrough"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

type stack struct {
	gw       *gateway.Gateway
	addr     string
	pki      *gatewaytest.PKI
	broker   *gatewaytest.Broker
	upstream *httptest.Server
	served   chan error
	logs     *logBuffer // the gateway's own lines (Config.Logf)
}

func newStack(t *testing.T, workers int) *stack { return newStackWith(t, workers, stackOpts{}) }

// stackOpts change newStack's gateway: edit its configuration before New, wrap its listener.
type stackOpts struct {
	edit func(*gateway.Config)
	wrap func(net.Listener) net.Listener
}

func newStackWith(t *testing.T, workers int, o stackOpts) *stack {
	t.Helper()
	pki, err := gatewaytest.NewPKI("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := gatewaytest.NewBroker(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	up := httptest.NewServer(b.PublishHandler())
	t.Cleanup(up.Close)
	logs := &logBuffer{t: t}
	cfg := gateway.Config{
		Module:       passthroughWasm,
		PluginConfig: []byte(`{}`),
		Workers:      workers,
		TLS:          pki.ServerTLS(),
		Broker:       "tcp://" + b.TCPAddr,
		BrokerWS:     b.WSURL,
		HTTPUpstream: up.URL,
		Logf:         logs.logf,
	}
	if o.edit != nil {
		o.edit(&cfg)
	}
	gw, err := gateway.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{gw: gw, addr: ln.Addr().String(), pki: pki, broker: b, upstream: up, served: make(chan error, 1), logs: logs}
	var served net.Listener = ln
	if o.wrap != nil {
		served = o.wrap(ln)
	}
	go func() { s.served <- gw.Serve(served) }()
	t.Cleanup(func() { gw.Close() })
	return s
}

func (s *stack) port() string { _, p, _ := net.SplitHostPort(s.addr); return p }

func (s *stack) client(t *testing.T, id, scheme string) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().SetClientID(id).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(5 * time.Second).SetProtocolVersion(4)
	switch scheme {
	case "tls":
		o.AddBroker("tls://localhost:" + s.port())
		o.SetTLSConfig(s.pki.ClientTLS("localhost", "mqtt"))
	case "wss":
		o.AddBroker("wss://localhost:" + s.port() + "/mqtt")
		o.SetTLSConfig(s.pki.ClientTLS("localhost"))
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("%s connect over %s: %v", id, scheme, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func subscribe(t *testing.T, c paho.Client, filter string) <-chan string {
	t.Helper()
	ch := make(chan string, 16)
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { ch <- m.Topic() + " " + string(m.Payload()) })
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return ch
}

func receive(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("received %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no message %q within 5s", want)
	}
}

func TestGateway_MQTTOverTLSAndWSS(t *testing.T) {
	s := newStack(t, 2)
	sub := s.client(t, "sub", "tls")
	ch := subscribe(t, sub, "a/#")
	for i, scheme := range []string{"tls", "wss"} {
		pub := s.client(t, "pub-"+scheme, scheme)
		tok := pub.Publish("a/"+scheme, 1, false, fmt.Sprint(i))
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish over %s: %v", scheme, tok.Error())
		}
		receive(t, ch, fmt.Sprintf("a/%s %d", scheme, i))
	}
	// The other direction over WSS: the subscriber on the WebSocket receives.
	wsSub := s.client(t, "wsub", "wss")
	wch := subscribe(t, wsSub, "b/+")
	if tok := sub.Publish("b/x", 0, false, "hi"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	receive(t, wch, "b/x hi")
}

func TestGateway_HTTPSPublishKeepAlive(t *testing.T) {
	s := newStack(t, 1)
	sub := s.client(t, "sub", "tls")
	ch := subscribe(t, sub, "h/#")
	var conns atomic.Int32
	cl := &http.Client{Transport: &http.Transport{
		TLSClientConfig: s.pki.ClientTLS("localhost"),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conns.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	for i := 0; i < 3; i++ {
		resp, err := cl.Post("https://localhost:"+s.port()+"/topics/h%2F"+fmt.Sprint(i)+"?qos=1", "text/plain", strings.NewReader("body"+fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("x-passthrough") != "1" || !strings.Contains(string(b), `"message":"OK"`) {
			t.Fatalf("POST %d: %d %v %s", i, resp.StatusCode, resp.Header, b)
		}
		receive(t, ch, fmt.Sprintf("h/%d body%d", i, i))
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d TCP connections for 3 requests, want 1 (keep-alive)", n)
	}
	// A large body with Expect: 100-continue (as curl sends it) goes through without the client's
	// one-second wait for the 100.
	big := strings.Repeat("x", 4096)
	req, _ := http.NewRequest(http.MethodPost, "https://localhost:"+s.port()+"/topics/h%2Fbig", strings.NewReader(big))
	req.Header.Set("Expect", "100-continue")
	start := time.Now()
	resp0, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: s.pki.ClientTLS("localhost"), ExpectContinueTimeout: 5 * time.Second}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp0.Body.Close()
	if resp0.StatusCode != 200 || time.Since(start) > 4*time.Second {
		t.Fatalf("Expect: 100-continue: %d after %v", resp0.StatusCode, time.Since(start))
	}
	receive(t, ch, "h/big "+big)
	// A chunked upload and a response passed through unchanged.
	resp, err := cl.Post("https://localhost:"+s.port()+"/nowhere", "text/plain", io.MultiReader(strings.NewReader("x")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("POST /nowhere: %d, want the upstream's 404", resp.StatusCode)
	}
}

func TestGateway_NoALPNIsHTTP(t *testing.T) {
	s := newStack(t, 1)
	for _, alpn := range [][]string{nil, {"x-unknown"}} {
		c, err := tls.Dial("tcp", s.addr, s.pki.ClientTLS("localhost", alpn...))
		if err != nil {
			t.Fatalf("ALPN %v: %v", alpn, err)
		}
		if p := c.ConnectionState().NegotiatedProtocol; p != "" {
			t.Fatalf("ALPN %v negotiated %q", alpn, p)
		}
		// An MQTT CONNECT where HTTP is expected: 400 and close.
		c.Write([]byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 0})
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 400") {
			t.Fatalf("ALPN %v: got %q, %v; want HTTP/1.1 400", alpn, line, err)
		}
		c.Close()
	}
}

func TestGateway_BrokerDown(t *testing.T) {
	s := newStack(t, 1)
	s.broker.Close()
	o := paho.NewClientOptions().SetClientID("x").AddBroker("tls://localhost:" + s.port()).
		SetTLSConfig(s.pki.ClientTLS("localhost", "mqtt")).SetConnectTimeout(3 * time.Second).SetAutoReconnect(false)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		t.Fatal("connect did not fail within 5s")
	}
	if tok.Error() == nil {
		t.Fatal("connected with the broker down")
	}
}

// TestGateway_ShutdownDeliversInFlight: Shutdown stops reading but lets what was read reach the
// broker and the broker's answers reach the client: a client that wrote 50 QoS 1 PUBLISHes in
// one TLS record gets all 50 PUBACKs, and a subscriber on the broker all 50 messages.
func TestGateway_ShutdownDeliversInFlight(t *testing.T) {
	s := newStack(t, 1)
	direct := paho.NewClient(paho.NewClientOptions().SetClientID("direct").AddBroker("tcp://" + s.broker.TCPAddr))
	if tok := direct.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer direct.Disconnect(100)
	ch := subscribe(t, direct, "s/#")

	c, err := tls.Dial("tcp", s.addr, s.pki.ClientTLS("localhost", "mqtt"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(mqttConnect("raw"))
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if typ, _ := readPacket(t, br); typ != 0x20 {
		t.Fatalf("got packet type %#x, want CONNACK", typ)
	}
	const n = 50
	var batch []byte
	for i := 1; i <= n; i++ {
		batch = append(batch, mqttPublishQoS1("s/x", uint16(i), fmt.Sprint(i))...)
	}
	c.Write(batch)
	<-ch // the gateway has read the record holding all 50
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.gw.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-s.served:
		if err != gateway.ErrServerClosed {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	acks := 0
	for {
		typ, err := readPacket(t, br)
		if err != nil {
			break
		}
		if typ == 0x40 {
			acks++
		}
	}
	if acks != n {
		t.Errorf("%d PUBACKs before the close, want %d", acks, n)
	}
	for got := 1; got < n; got++ {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("the broker delivered %d of %d messages", got, n)
		}
	}
	if _, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

func mqttConnect(id string) []byte {
	body := append([]byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, byte(len(id))}, id...)
	return append([]byte{0x10, byte(len(body))}, body...)
}

func mqttPublishQoS1(topic string, id uint16, payload string) []byte {
	body := append([]byte{0, byte(len(topic))}, topic...)
	body = append(body, byte(id>>8), byte(id))
	body = append(body, payload...)
	return append([]byte{0x32, byte(len(body))}, body...)
}

// readPacket reads one MQTT packet (remaining length < 128) and returns its type byte.
func readPacket(t *testing.T, br *bufio.Reader) (byte, error) {
	t.Helper()
	h, err := br.ReadByte()
	if err != nil {
		return 0, err
	}
	n, err := br.ReadByte()
	if err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(br, make([]byte, n)); err != nil {
		return 0, err
	}
	return h & 0xf0, nil
}
