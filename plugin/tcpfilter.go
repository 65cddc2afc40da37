package main

import (
	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// tcpConn is the network filter for MQTT over TLS. Envoy's listener has already required ALPN
// "mqtt" (filter_chain_match.application_protocols); the engine checks the SNI, then runs the
// byte streams through an authz.Conn.
type tcpConn struct {
	proxywasm.DefaultTcpContext
	p *pluginContext
	t tcpTransport
	c *authz.Conn
}

// OnNewConnection implements proxywasm.TcpContext. A connection whose SNI is not a data endpoint
// is closed before any byte reaches the broker.
func (t *tcpConn) OnNewConnection() proxywasm.Action {
	t.c = t.p.e.OpenMQTT(t.t, readSource())
	if t.c == nil {
		return proxywasm.ActionPause
	}
	return proxywasm.ActionContinue
}

// OnDownstreamData implements proxywasm.TcpContext.
func (t *tcpConn) OnDownstreamData(size int, _ bool) proxywasm.Action {
	if t.c == nil {
		return proxywasm.ActionPause
	}
	return action(t.c.FromClient(size))
}

// OnUpstreamData implements proxywasm.TcpContext.
func (t *tcpConn) OnUpstreamData(size int, _ bool) proxywasm.Action {
	if t.c == nil {
		return proxywasm.ActionContinue
	}
	return action(t.c.FromBroker(size))
}

// OnDownstreamClose implements proxywasm.TcpContext.
func (t *tcpConn) OnDownstreamClose(peer proxywasm.PeerType) {
	if t.c != nil {
		reason := "CONNECTION_LOST"
		if peer == proxywasm.PeerTypeRemote {
			reason = "CLIENT_INITIATED_DISCONNECT"
		}
		t.c.Closed(reason)
	}
}

// OnUpstreamClose implements proxywasm.TcpContext.
func (t *tcpConn) OnUpstreamClose(proxywasm.PeerType) {
	if t.c != nil {
		t.c.UpstreamClosed()
	}
}

// OnStreamDone implements proxywasm.TcpContext.
func (t *tcpConn) OnStreamDone() {
	if t.c != nil {
		t.c.Closed("CONNECTION_LOST")
	}
}

var _ proxywasm.TcpContext = (*tcpConn)(nil)
