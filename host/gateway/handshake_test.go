package gateway_test

import (
	"crypto/tls"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host/gateway"
)

// stallingConn passes the client's writes (its ClientHello, its Finished) and never delivers the
// server's bytes: a client that sent its ClientHello and then stalls.
type stallingConn struct {
	net.Conn
	stop chan struct{}
}

func (c *stallingConn) Read([]byte) (int, error) {
	<-c.stop
	return 0, net.ErrClosed
}

// A handshake waits for a slot (at most GOMAXPROCS compute at once) only while the server
// computes: clients that sent a ClientHello and stalled, more of them than there are slots, do
// not delay another client's handshake until their CONNECT deadline.
func TestHandshakeGate_StalledClientsHoldNoSlot(t *testing.T) {
	s := newStackWith(t, 1, stackOpts{edit: func(c *gateway.Config) { c.ConnectTimeout = time.Minute }})
	stop := make(chan struct{})
	defer close(stop)
	for range runtime.GOMAXPROCS(0) + 2 {
		raw, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		tc := tls.Client(&stallingConn{Conn: raw, stop: stop}, s.pki.ClientTLS("localhost", "mqtt"))
		go tc.Handshake() // writes its ClientHello, then waits forever for the server's flight
	}
	raw, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Well under the stalled clients' minute: a slot they held would last until then.
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	tc := tls.Client(raw, s.pki.ClientTLS("localhost", "mqtt"))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake behind %d stalled clients: %v", runtime.GOMAXPROCS(0)+2, err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "mqtt" {
		t.Fatalf("ALPN %q, want mqtt", p)
	}
}
