package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/plugin/mqtt"
	"github.com/iotauthz/iotauthz/plugin/mqtt/mqtttest"
)

// TestShutdown_InFlightPublish: a client writes CONNECT and a QoS 1 PUBLISH in one go; the
// authorizer takes a second to answer; the gateway is shut down while the call is in flight. The
// CONNECT and the PUBLISH still reach the broker (a subscriber there receives the message) and
// the client still gets its CONNACK and PUBACK before the close.
func TestShutdown_InFlightPublish(t *testing.T) {
	e := startEmbedded(t)
	setRules(t, &e.env)
	s := &sc{T: t, e: &e.env, id: "shutdown"}

	// A gateway of its own, to shut down; the stack's mosquitto and authorizer behind it.
	pki, err := gatewaytest.NewPKI("localhost")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(context.Background(), gateway.Config{
		Module:       pluginWasm(t),
		PluginConfig: pluginConfig(e.publicPEM, "disconnect"),
		Clusters:     map[string]string{"authorizer": e.authorizer, "unreachable": e.authorizer},
		TLS:          pki.ServerTLS(),
		Broker:       "tcp://" + e.broker,
		LogLevel:     host.LogDebug,
		LogSink:      func(l host.LogEntry) { e.logf("plugin[shutdown] %s %s", l.Level, l.Message) },
		Logf:         func(f string, a ...any) { e.logf("gateway[shutdown] "+f, a...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ln) }()

	watch := s.direct("watch-" + s.id)
	s.mustSubscribe(watch, s.topic("#"))

	tok := s.token("slow")
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pki.Pool, ServerName: "localhost", NextProtos: []string{"mqtt"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := append(connectPacket("c-"+s.id, s.username(tok)), publishQoS1(s.topic("inflight"), 7, "kept")...)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	// The authorizer has the call: the gateway has read the CONNECT (and the PUBLISH with it).
	s.eventually(5*time.Second, func() bool { return s.hits(tok) == 1 }, "no authorizer call for %s", tok)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gw.Shutdown(ctx); err != nil {
		s.fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != gateway.ErrServerClosed {
		s.fatalf("Serve returned %v", err)
	}
	// What the client got before the close: CONNACK (accepted), then PUBACK 7.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	var types []byte
	for {
		typ, body, err := readMQTT(br)
		if err != nil {
			break
		}
		types = append(types, typ)
		if typ == 0x20 && (len(body) < 2 || body[1] != 0) {
			s.fatalf("CONNACK refused: %x", body)
		}
	}
	if len(types) != 2 || types[0] != 0x20 || types[1] != 0x40 {
		s.fatalf("the client got packet types %x before the close, want CONNACK and PUBACK (20 40)", types)
	}
	s.receive(watch, s.topic("inflight")+" kept")
}

func connectPacket(clientID, username string) []byte {
	body := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 0x82, 0, 60}
	body = appendString(body, clientID)
	body = appendString(body, username)
	return append(mqtt.AppendVarint([]byte{0x10}, len(body)), body...)
}

func publishQoS1(topic string, id uint16, payload string) []byte {
	body := appendString(nil, topic)
	body = append(body, byte(id>>8), byte(id))
	body = append(body, payload...)
	return append(mqtt.AppendVarint([]byte{0x32}, len(body)), body...)
}

func appendString(b []byte, s string) []byte {
	return append(append(b, byte(len(s)>>8), byte(len(s))), s...)
}

// readMQTT reads one packet: its type (high nibble) and body.
func readMQTT(br *bufio.Reader) (byte, []byte, error) {
	first, body, err := mqtttest.ReadPacket(br, 0)
	return first & 0xf0, body, err
}
