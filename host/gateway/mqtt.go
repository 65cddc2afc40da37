package gateway

import (
	"net"
	"sync"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

// mqttConn is one MQTT-over-TLS connection: the plugin's network filter between the client and
// the broker, as Envoy's wasm network filter in front of tcp_proxy.
//
// Two goroutines: the client reader feeds DownstreamData; the broker reader feeds UpstreamData.
// While there is something to write, the queue's goroutine writes what the plugin lets through
// (host sinks run on the VM's goroutine and must not block it). The broker is dialled when the
// plugin first lets bytes through, so a refused CONNECT never reaches it.
type mqttConn struct {
	sc     *serverConn
	client net.Conn
	conn   *host.Connection
	q      *queue

	mu       sync.Mutex
	broker   net.Conn
	closed   bool
	closedCh chan struct{}
	reading  sync.WaitGroup // client and broker readers
	act      activity
	// writeFailed: a write to the broker failed (queue goroutine only). The broker may have
	// closed right after a last packet for the client, such as a DISCONNECT with its reason
	// code: the broker reader delivers it and then ends the connection, within brokerGrace.
	writeFailed bool
}

// brokerGrace bounds how long a connection whose broker writes fail waits for the broker
// reader to deliver the broker's last bytes and end it.
const brokerGrace = 5 * time.Second

func serveMQTT(sc *serverConn, client net.Conn, props host.Properties) {
	m := &mqttConn{sc: sc, client: client, q: newQueue(), closedCh: make(chan struct{})}
	if !sc.setHandlers(m.drain, m.abort) {
		return
	}
	m.conn = sc.g.vm(false).NewConnectionSink(props, m)

	// The read deadline set at the accept holds until the CONNECT is complete.
	var first firstPacket
	connected := false
	var rb readBuf
	defer rb.release()
	for {
		b, err := rb.read(client)
		if len(b) > 0 {
			if !connected && first.feed(b) {
				connected = true
				sc.liftDeadline(client)
			}
			m.conn.DownstreamData(b, false)
		}
		if err != nil {
			if !connected && isTimeout(err) && !sc.isDraining() {
				sc.g.decide(decision{eventType: "Disconnect", protocol: "MQTT", reason: reasonProtocol,
					disconnectReason: "CLIENT_ERROR", source: sc.raw.RemoteAddr(),
					details: "no complete CONNECT within " + sc.g.connectTimeout.String() + " of the accept (mqtt.connectTimeoutSeconds)"})
			}
			break
		}
	}
	if sc.isDraining() {
		// Shutdown: no more client bytes are read, but what was read finishes its way.
		m.finishInFlight()
	}
	m.conn.Close()
	// What the plugin already let through (the device's own DISCONNECT among it) must reach the
	// broker before the broker's socket closes: a broker that sees the close first publishes the
	// Will. So the shutdown queues behind those writes, bounded in case the broker stops reading.
	m.q.push(m.shutdown)
	select {
	case <-m.q.wait():
	case <-time.After(10 * time.Second):
		m.shutdown()
		<-m.q.wait()
	}
}

// finishInFlight waits, within the gateway's grace period (Shutdown aborts after it), until the
// plugin has answered what it holds (an authorizer call in flight), the queue has written it to
// the broker, and the broker's answers (CONNACK, PUBACKs) have come back: the connection has been
// quiet for quietPeriod. A half-close instead would make a broker such as mosquitto drop a
// CONNECT it has not processed yet.
func (m *mqttConn) finishInFlight() {
	waitQuiet(m.sc.g, m.q, &m.act, m.closedCh)
}

func (m *mqttConn) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// OnUpstreamData implements host.ConnSink: bytes the plugin lets through to the broker (b is
// ours to keep: host.ConnSink).
func (m *mqttConn) OnUpstreamData(b []byte, endStream bool) {
	m.q.push(func() {
		br := m.dialBroker()
		if br == nil {
			return
		}
		if m.writeFailed {
			return
		}
		if len(b) > 0 {
			m.act.touch()
			if _, err := br.Write(b); err != nil {
				m.sc.g.logf("gateway: write to broker: %v", err)
				m.writeFailed = true
				time.AfterFunc(brokerGrace, m.shutdown)
				return
			}
		}
		if endStream {
			if tc, ok := br.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		}
	})
}

// OnClientData implements host.ConnSink: broker bytes the plugin lets through to the client (b
// is ours to keep).
func (m *mqttConn) OnClientData(b []byte, endStream bool) {
	m.q.push(func() {
		if len(b) > 0 {
			_ = m.client.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := m.client.Write(b); err != nil {
				m.shutdown()
				return
			}
		}
		if endStream {
			m.shutdown()
		}
	})
}

// OnClose implements host.ConnSink: the plugin closed the connection. Bytes queued before it
// (a CONNACK refusal, say) are written first.
func (m *mqttConn) OnClose(string) {
	m.q.push(m.shutdown)
}

// dialBroker returns the broker connection, dialling it on first use (queue goroutine only).
func (m *mqttConn) dialBroker() net.Conn {
	m.mu.Lock()
	b, closed := m.broker, m.closed
	m.mu.Unlock()
	if b != nil || closed {
		return b
	}
	b, err := net.DialTimeout("tcp", m.sc.g.broker, 5*time.Second)
	if err != nil {
		m.sc.g.logf("gateway: broker %s: %v", m.sc.g.broker, err)
		m.shutdown()
		return nil
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		b.Close()
		return nil
	}
	m.broker = b
	m.mu.Unlock()
	m.reading.Add(1)
	go m.readBroker(b)
	return b
}

func (m *mqttConn) readBroker(b net.Conn) {
	defer m.reading.Done()
	var rb readBuf
	defer rb.release()
	for {
		buf, err := rb.read(b)
		if len(buf) > 0 {
			m.act.touch()
			m.conn.UpstreamData(buf, false)
		}
		if err != nil {
			if !m.isClosed() {
				// The broker closed: the plugin sees the end, then the client is closed, by the
				// gateway: a local close, as Envoy's tcp_proxy reports it.
				m.conn.UpstreamData(nil, true)
				m.conn.CloseLocal()
				m.q.push(m.shutdown)
			}
			return
		}
	}
}

// shutdown closes both sockets once; the readers then end.
func (m *mqttConn) shutdown() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	b := m.broker
	m.mu.Unlock()
	m.client.Close()
	if b != nil {
		b.Close()
	}
	close(m.closedCh)
	m.q.close()
}

// drain stops reading from the client; serveMQTT then finishes what is in flight.
func (m *mqttConn) drain() {
	_ = m.client.SetReadDeadline(time.Now())
}

func (m *mqttConn) abort() { m.shutdown() }

var _ host.ConnSink = (*mqttConn)(nil)
