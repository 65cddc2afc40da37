package main

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

// tcpConn is the network filter for MQTT over TLS. Envoy's listener has already required ALPN
// "mqtt" (filter_chain_match.application_protocols); the plugin checks the SNI, then hands the
// byte streams to an mqttConn.
type tcpConn struct {
	proxywasm.DefaultTcpContext
	p  *pluginContext
	id uint32
	c  *mqttConn
}

// OnNewConnection implements proxywasm.TcpContext. A connection whose SNI is not a data endpoint
// is closed before any byte reaches the broker.
func (t *tcpConn) OnNewConnection() proxywasm.Action {
	p := t.p
	src := readSource()
	traceID := newUUID()
	if !p.cfg.EndpointAllowed(src.sni) {
		p.m.denied.Increment(1)
		p.m.deniedConnect.Increment(1)
		p.emit(&logLine{traceID: traceID, eventType: evConnect, protocol: "MQTT", status: statusFailure,
			sourceIP: src.ip, sourcePort: src.port, reason: reasonEndpoint,
			details: "SNI " + quote(src.sni) + " is not one of dataEndpoints"})
		_ = proxywasm.CloseDownstream()
		return proxywasm.ActionPause
	}
	src.domain = domainName(src.sni, "")
	t.c = p.newMQTTConn(t.id, tcpTransport{}, false, src, traceID, nil)
	return proxywasm.ActionContinue
}

// OnDownstreamData implements proxywasm.TcpContext.
func (t *tcpConn) OnDownstreamData(size int, eos bool) proxywasm.Action {
	if t.c == nil {
		return proxywasm.ActionPause
	}
	return t.c.fromClient(size, eos)
}

// OnUpstreamData implements proxywasm.TcpContext.
func (t *tcpConn) OnUpstreamData(size int, eos bool) proxywasm.Action {
	if t.c == nil {
		return proxywasm.ActionContinue
	}
	return t.c.fromBroker(size, eos)
}

// OnDownstreamClose implements proxywasm.TcpContext.
func (t *tcpConn) OnDownstreamClose(peer proxywasm.PeerType) {
	if t.c != nil {
		reason := "CONNECTION_LOST"
		if peer == proxywasm.PeerTypeRemote {
			reason = "CLIENT_INITIATED_DISCONNECT"
		}
		t.c.onClosed(reason)
	}
}

// OnUpstreamClose implements proxywasm.TcpContext.
func (t *tcpConn) OnUpstreamClose(proxywasm.PeerType) {
	if t.c != nil && t.c.state != stClosed {
		t.c.onClosed("SERVER_INITIATED_DISCONNECT")
	}
}

// OnStreamDone implements proxywasm.TcpContext.
func (t *tcpConn) OnStreamDone() {
	if t.c != nil {
		t.c.onClosed("CONNECTION_LOST")
	}
}

var _ proxywasm.TcpContext = (*tcpConn)(nil)
