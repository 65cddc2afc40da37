package gateway

import (
	"net"
	"sync/atomic"
	"time"
)

// handshakeGate lets at most cap(slots) TLS handshakes do their CPU work at once, first come
// first served, so that a burst of connects (a reconnect storm) completes its handshakes one
// after another at the machine's pace, instead of all progressing together and all finishing
// late (then past the CONNECT deadline). A handshake holds a slot only while it computes: from
// the ClientHello received (GetConfigForClient) to its first write (the server's flight, once
// the key exchange and the signature are done), never while it waits for the client, so a client
// that stalls cannot hold one.
type handshakeGate struct{ slots chan struct{} }

func newHandshakeGate(n int) *handshakeGate {
	return &handshakeGate{slots: make(chan struct{}, max(n, 1))}
}

// gatedConn is a client's connection as its TLS handshake sees it.
type gatedConn struct {
	net.Conn
	gate     *handshakeGate
	deadline time.Time       // the CONNECT deadline: past it, the wait for a slot ends
	done     <-chan struct{} // the gateway is stopping

	held atomic.Bool
}

// acquire waits for a slot, at most until the CONNECT deadline or the gateway's stop (then the
// handshake goes on without one, and fails on its deadline or its closed socket as before).
func (c *gatedConn) acquire() {
	t := time.NewTimer(time.Until(c.deadline))
	defer t.Stop()
	select {
	case c.gate.slots <- struct{}{}:
		c.held.Store(true)
	case <-t.C:
	case <-c.done:
	}
}

// release gives the slot back, if held.
func (c *gatedConn) release() {
	if c.held.Load() && c.held.CompareAndSwap(true, false) {
		<-c.gate.slots
	}
}

// Write releases the slot before the handshake's first write: its computation is done.
func (c *gatedConn) Write(b []byte) (int, error) {
	c.release()
	return c.Conn.Write(b)
}
