package main

import (
	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/credentials"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
	"github.com/iotauthz/iotauthz/plugin/session"
)

// MQTT connection states.
const (
	stWaitConnect = iota // no CONNECT yet
	stAuthPending        // CONNECT held (downstream paused) until the authorizer answers
	stOpen               // authorized: packets are checked against the policy
	stClosed
)

// memoEntries bounds each connection's memo of topic decisions.
const memoEntries = 256

// transport is what differs between MQTT over TLS (network filter buffers) and MQTT over
// WebSocket (HTTP body buffers of the upgraded stream).
type transport interface {
	clientData(size int) ([]byte, error)
	setClientData(b []byte) error
	brokerData(size int) ([]byte, error)
	setBrokerData(b []byte) error
	resume() error // let the held client data go on
	close() error
}

// processor is the MQTT enforcement stream processor (session.Session or session.WSSession).
type processor interface {
	FromClient(in []byte) session.Result
	FromBroker(in []byte) session.Result
	Connect() *session.ConnectInfo
	PendingConnect() []byte
	Resume(p session.Policy) session.Result
	SetPolicy(p session.Policy)
	TakeAllowedCount() uint64
	WillAllowed() bool
	EndToBroker() []byte
}

// closingGrace bounds the wait for the broker's PINGRESP that carries an MQTT 5 protocol
// error's DISCONNECT to the client (session.Closing).
const closingGrace = 5e9

// mqttConn is one MQTT connection: the session processor, the connection's policy and its
// refresh and disconnect deadlines.
type mqttConn struct {
	p       *pluginContext
	ctxID   uint32
	t       transport
	ws      bool
	sess    processor
	state   int
	prefix  int // while stAuthPending: bytes at the head of the paused buffer that are ours
	src     source
	traceID string

	// WebSocket only: the upgrade request, for credentials and the event's http data.
	upgradeHeaders [][2]string
	upgradeQuery   string

	authName     string
	clientID     string
	d            *decision
	eval         *evaluator
	req          *authRequest // kept for refreshes
	refreshAt    int64
	disconnectAt int64
	refreshing   bool
	createdAt    int64 // for the CONNECT deadline (mqtt.connectTimeoutSeconds)
	closingAt    int64 // when the session began ending a client's protocol error (session.Closing)
	// willRevoked: a refresh no longer allows the CONNECT's Will. The broker must not publish it:
	// the client's next bytes are replaced by a normal DISCONNECT, after which the broker discards
	// the Will, and the connection closes.
	willRevoked bool
	// closeOnTick: the plugin closed a WebSocket right after writing a last packet toward the
	// client; the stream is reset on the next tick so that the packet is not lost with it.
	closeOnTick bool
	// clientSentDisconnect: the client ended with an MQTT DISCONNECT before closing.
	clientSentDisconnect bool
}

func (p *pluginContext) newMQTTConn(ctxID uint32, t transport, ws bool, src source, traceID string, pre *decision) *mqttConn {
	c := &mqttConn{p: p, ctxID: ctxID, t: t, ws: ws, src: src, traceID: traceID, createdAt: nowNanos()}
	o := session.Options{
		ForwardPassword: p.cfg.MQTT.ForwardPassword,
		MaxPacketBytes:  p.cfg.MQTT.MaxPacketBytes,
		OnDecision:      c.onDecision,
		MemoEntries:     memoEntries,
		// Allowed publishes are counted in the session unless debug lines may need them.
		QuietAllowedPublish: !p.logsDebug(),
	}
	if p.cfg.MQTT.DenyAction == "reject" {
		o.DenyAction = session.DenyReject
	}
	if p.cfg.MQTT.StripCredentialsFromUsername {
		o.RewriteUsername = c.stripUsername
	}
	if pre != nil {
		c.d = pre
		c.eval = newEvaluator(p, pre, "", false, src.ip, src.domain)
		o.Preauthorized = c.eval
		c.state = stOpen
		c.startTimers(nowNanos())
	}
	if ws {
		c.sess = session.NewWS(o)
	} else {
		c.sess = session.New(o)
	}
	p.conns[ctxID] = c
	p.m.mqttConns.Add(1)
	return c
}

// fromClient handles client→broker bytes.
func (c *mqttConn) fromClient(size int, _ bool) proxywasm.Action {
	if c.state == stClosed {
		return proxywasm.ActionPause
	}
	if c.willRevoked {
		// Whatever the client sent is replaced by the DISCONNECT that makes the broker discard the
		// Will; the close follows it (Envoy flushes the bytes before closing).
		if err := c.t.setClientData(c.sess.EndToBroker()); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot end the session: "+err.Error())
			return proxywasm.ActionPause
		}
		c.closeWith("AUTH_ERROR", reasonRefreshFailed, "the refreshed policy no longer allows the Will; the session was ended so that the broker discards it")
		return proxywasm.ActionContinue
	}
	data, err := c.t.clientData(size)
	if err != nil {
		c.closeWith("SERVER_ERROR", reasonProtocol, "cannot read client data: "+err.Error())
		return proxywasm.ActionPause
	}
	if c.state == stAuthPending {
		// Paused: Envoy re-delivers our CONNECT with whatever arrived since. The session holds
		// the new bytes until the authorizer answers; the buffer keeps only the CONNECT.
		if c.prefix <= len(data) && len(data) > c.prefix {
			if res := c.sess.FromClient(data[c.prefix:]); res.Status == session.Close {
				c.closeWith("CLIENT_ERROR", reasonProtocol, res.Reason)
				return proxywasm.ActionPause
			}
			_ = c.t.setClientData(data[:c.prefix])
		}
		return proxywasm.ActionPause
	}
	res := c.sess.FromClient(data)
	switch res.Status {
	case session.Closing:
		// An MQTT 5 protocol error: the PINGREQ in Out asks the broker for the turn that carries
		// the DISCONNECT to the client; nothing more of the client goes upstream.
		if c.closingAt == 0 {
			c.closingAt = nowNanos()
		}
		if err := c.t.setClientData(res.Out); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot rewrite client data: "+err.Error())
			return proxywasm.ActionPause
		}
		return proxywasm.ActionContinue
	case session.Close:
		// The allowed packets that came before the cause still go to the broker.
		if len(res.Out) > 0 && c.t.setClientData(res.Out) == nil {
			c.closeForSession(res)
			return proxywasm.ActionContinue
		}
		c.closeForSession(res)
		return proxywasm.ActionPause
	case session.NeedAuth:
		// The buffer becomes the CONNECT as it goes upstream if the authorizer allows it; the
		// pause holds it there until the answer (see session's in-place hand-off).
		held := append(res.Out, c.sess.PendingConnect()...)
		if err := c.t.setClientData(held); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot hold the CONNECT: "+err.Error())
			return proxywasm.ActionPause
		}
		c.prefix = len(held)
		c.state = stAuthPending
		return c.startAuth()
	}
	if !res.Unchanged {
		if err := c.t.setClientData(res.Out); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot rewrite client data: "+err.Error())
			return proxywasm.ActionPause
		}
	}
	return proxywasm.ActionContinue
}

// fromBroker handles broker→client bytes. It never pauses (Envoy cannot resume the upstream
// direction of a network filter).
func (c *mqttConn) fromBroker(size int, _ bool) proxywasm.Action {
	if c.state == stClosed {
		return proxywasm.ActionContinue
	}
	data, err := c.t.brokerData(size)
	if err != nil {
		c.closeWith("SERVER_ERROR", reasonProtocol, "cannot read broker data: "+err.Error())
		return proxywasm.ActionContinue
	}
	res := c.sess.FromBroker(data)
	if res.Status == session.Close {
		// Out holds what may still reach the client: the allowed packets before the cause and,
		// after a client's MQTT 5 protocol error, the DISCONNECT that tells it why.
		if c.t.setBrokerData(res.Out) == nil && len(res.Out) > 0 && c.ws {
			c.closeOnTick = true
		}
		c.closeForSession(res)
		return proxywasm.ActionContinue
	}
	if !res.Unchanged {
		if err := c.t.setBrokerData(res.Out); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot rewrite broker data: "+err.Error())
		}
	}
	return proxywasm.ActionContinue
}

// startAuth runs the checks on the CONNECT's credentials and asks the authorizer.
func (c *mqttConn) startAuth() proxywasm.Action {
	p := c.p
	ci := c.sess.Connect()
	c.clientID = string(ci.ClientID)
	var pr presented
	_, uq, _ := credentials.SplitUsername(string(ci.Username))
	var upq credentials.Query
	if c.ws {
		pr.name, pr.hasName = lookupHeader(c.upgradeHeaders, keyAuthorizerName)
		pr.signature, pr.hasSig = lookupHeader(c.upgradeHeaders, keySignature)
		upq = credentials.ParseQuery(c.upgradeQuery)
		pr.nameFrom(upq)
	}
	pr.nameFrom(uq)
	ae, den := p.selectAuthorizer(&pr)
	if den != nil {
		return c.finishAuth(outcome{den: den}, true)
	}
	a := ae.a
	c.authName = a.Name
	if c.ws {
		pr.token, pr.hasToken = lookupHeader(c.upgradeHeaders, a.TokenKeyName)
		pr.restFrom(upq, a.TokenKeyName)
	}
	pr.restFrom(uq, a.TokenKeyName)
	verified, den := p.checkToken(a, &pr)
	if den != nil {
		return c.finishAuth(outcome{den: den}, true)
	}
	r := &authRequest{auth: a}
	r.event = authorizer.Event{
		Token:             pr.token,
		SignatureVerified: verified,
		Protocols:         []string{"tls", "mqtt"},
		MQTT: &authorizer.MQTTData{
			Username: string(ci.Username), HasUsername: ci.HasUsername,
			Password: ci.Password, HasPassword: ci.HasPassword,
			ClientID: c.clientID, HasClientID: len(ci.ClientID) > 0,
		},
		ConnectionID: c.traceID,
	}
	if c.src.sni != "" {
		r.event.TLS = &authorizer.TLSData{ServerName: c.src.sni}
	}
	if c.ws {
		r.event.Protocols = []string{"tls", "http", "mqtt"}
		r.event.HTTP = httpData(c.upgradeHeaders, c.upgradeQuery)
	}
	r.key, r.tokenScoped = p.cacheKey(a, &pr, false, 0)
	c.req = r
	o, pending := p.decide(r, func(o outcome) {
		if c.state != stAuthPending || proxywasm.SetEffectiveContext(c.ctxID) != nil {
			return
		}
		c.finishAuth(o, false)
	})
	if pending {
		return proxywasm.ActionPause
	}
	return c.finishAuth(o, true)
}

// finishAuth applies the authorizer's outcome to the held CONNECT. inCallback says whether we
// are still inside the downstream callback (return the action) or in the HTTP-call callback
// (resume or close the stream ourselves).
func (c *mqttConn) finishAuth(o outcome, inCallback bool) proxywasm.Action {
	p := c.p
	if o.den != nil {
		p.m.denied.Increment(1)
		p.m.deniedConnect.Increment(1)
		p.emit(&logLine{traceID: c.traceID, eventType: evConnect, protocol: "MQTT", status: statusFailure,
			clientID: c.clientID, sourceIP: c.src.ip, sourcePort: c.src.port, authorizerName: c.authName,
			reason: o.den.reason, details: o.den.details})
		c.closeWith("AUTH_ERROR", "", "")
		return proxywasm.ActionPause
	}
	c.d = o.d
	c.eval = newEvaluator(p, o.d, c.clientID, true, c.src.ip, c.src.domain)
	res := c.sess.Resume(c.eval)
	if res.Status == session.Close {
		c.closeForSession(res)
		return proxywasm.ActionPause
	}
	c.state = stOpen
	c.startTimers(nowNanos())
	if inCallback {
		return proxywasm.ActionContinue
	}
	if err := c.t.resume(); err != nil {
		c.closeWith("SERVER_ERROR", reasonProtocol, "cannot resume the connection: "+err.Error())
	}
	return proxywasm.ActionContinue
}

func (c *mqttConn) startTimers(now int64) {
	c.refreshAt = now + int64(c.d.refreshSecs)*1e9
	c.disconnectAt = now + int64(c.d.disconnectSecs)*1e9
}

// onTick enforces disconnectAfterInSeconds and re-invokes the authorizer after
// refreshAfterInSeconds. It runs in the root context.
func (c *mqttConn) onTick(now int64) {
	if c.closeOnTick {
		c.closeOnTick = false
		if proxywasm.SetEffectiveContext(c.ctxID) == nil {
			_ = c.t.close()
		}
		return
	}
	if c.state == stClosed {
		return
	}
	if c.sess.Connect() == nil {
		if limit := int64(c.p.cfg.MQTT.ConnectTimeoutSeconds) * 1e9; now-c.createdAt >= limit {
			if proxywasm.SetEffectiveContext(c.ctxID) == nil {
				c.closeWith("CLIENT_ERROR", reasonProtocol, "no complete CONNECT within "+
					itoa(c.p.cfg.MQTT.ConnectTimeoutSeconds)+" s (mqtt.connectTimeoutSeconds)")
			}
		}
		return
	}
	if c.closingAt != 0 && now-c.closingAt >= closingGrace {
		if proxywasm.SetEffectiveContext(c.ctxID) == nil {
			c.closeWith("CLIENT_ERROR", reasonProtocol, "the broker did not answer the PINGREQ that carries the DISCONNECT for a protocol error")
		}
		return
	}
	if c.state != stOpen {
		return
	}
	if now >= c.disconnectAt {
		if proxywasm.SetEffectiveContext(c.ctxID) == nil {
			c.closeWith("CUSTOMAUTH_TTL_EXPIRATION", "", "disconnectAfterInSeconds "+itoa(c.d.disconnectSecs)+" reached")
		}
		return
	}
	if now >= c.refreshAt && !c.refreshing && c.req != nil && c.req.auth != nil {
		c.refreshing = true
		r := *c.req
		r.force = true
		o, pending := c.p.decide(&r, c.onRefresh)
		if !pending {
			c.onRefresh(o)
		}
	}
}

// onRefresh applies a refreshed decision: the new policy governs the next packet; a failed or
// negative refresh, or one that no longer allows iot:Connect, closes the connection.
func (c *mqttConn) onRefresh(o outcome) {
	c.refreshing = false
	if c.state != stOpen {
		return
	}
	if proxywasm.SetEffectiveContext(c.ctxID) != nil {
		return
	}
	if o.den != nil {
		c.closeWith("AUTH_ERROR", reasonRefreshFailed, o.den.reason+": "+o.den.details)
		return
	}
	e := newEvaluator(c.p, o.d, c.clientID, c.clientID != "", c.src.ip, c.src.domain)
	if ci := c.sess.Connect(); ci != nil {
		e.SetConnect(ci) // the same connect attributes and Will topic as at CONNECT
	}
	if c.clientID != "" && !e.Allow(session.Connect, []byte(c.clientID)) {
		c.closeWith("AUTH_ERROR", reasonRefreshFailed, "the refreshed policy denies "+e.denied("iot:Connect"))
		return
	}
	c.d, c.eval = o.d, e
	c.sess.SetPolicy(e)
	if !c.sess.WillAllowed() {
		// Closing now would make the broker publish the Will. The client's next bytes (at the
		// latest its keep-alive PINGREQ) become a normal DISCONNECT instead; see fromClient.
		c.willRevoked = true
		c.refreshAt = 1 << 62 // the session is ending: no further refresh
		return
	}
	c.refreshAt = nowNanos() + int64(o.d.refreshSecs)*1e9
	c.p.emit(&logLine{traceID: c.traceID, eventType: evConnect, protocol: "MQTT", status: statusSuccess,
		clientID: c.clientID, principalID: o.d.principalID, sourceIP: c.src.ip, sourcePort: c.src.port,
		authorizerName: c.authName, details: "policy refreshed", debug: true})
}

// onDecision logs and counts every decision the session makes. The session's Disconnect
// events are logged by closeWith and onClosed, which know the whole story.
func (c *mqttConn) onDecision(d session.Decision) {
	if d.Event == session.EventDisconnect {
		if d.Reason == session.ReasonClientDisconnect {
			c.clientSentDisconnect = true
		}
		return
	}
	p := c.p
	if d.Allowed {
		// Per packet: counted locally (flushed on the tick), logged only at debug.
		p.allowedPending++
		if d.Action == session.Connect {
			c.clientID = string(d.Name)
		}
		if !p.logsDebug() && (d.Action == session.Publish || d.Action == session.Receive || d.Action == session.RetainPublish) {
			return
		}
	}
	if d.Will && c.clientID == "" {
		if ci := c.sess.Connect(); ci != nil { // a WebSocket authorized at the upgrade
			c.clientID = string(ci.ClientID)
		}
	}
	principal := ""
	if c.d != nil {
		principal = c.d.principalID
	}
	l := logLine{traceID: c.traceID, eventType: d.Event, protocol: "MQTT", clientID: c.clientID,
		principalID: principal, sourceIP: c.src.ip, sourcePort: c.src.port, authorizerName: c.authName}
	if d.Action == session.Connect {
		l.clientID = string(d.Name)
		c.clientID = l.clientID
	} else {
		l.topicName = string(d.Name)
	}
	if d.Allowed {
		l.status = statusSuccess
		l.debug = d.Action == session.Publish || d.Action == session.Receive || d.Action == session.RetainPublish
		p.emit(&l)
		return
	}
	p.m.denied.Increment(1)
	switch {
	case d.Action == session.Connect || d.Will:
		p.m.deniedConnect.Increment(1)
	case d.Action == session.Publish || d.Action == session.RetainPublish:
		p.m.deniedPublish.Increment(1)
	case d.Action == session.Subscribe:
		p.m.deniedSubscribe.Increment(1)
	case d.Action == session.Receive:
		p.m.deniedReceive.Increment(1)
	}
	l.status = statusFailure
	l.reason = reasonAuthorization
	if c.eval != nil {
		c.eval.Allow(d.Action, d.Name) // re-evaluate for the exact ARN and result in the details
		l.details = c.eval.denied(actionName(d.Action))
	}
	if d.Will {
		l.details = "Will message: " + l.details
	}
	if d.Reason != "" {
		l.details += " (" + d.Reason + ")"
	}
	p.emit(&l)
}

// closeForSession closes after the session asked to: a denied packet under denyAction
// "disconnect" (FORBIDDEN_ACCESS, already logged as a failed decision), a DISCONNECT from either
// side, or a protocol violation.
func (c *mqttConn) closeForSession(res session.Result) {
	switch res.Reason {
	case session.ReasonForbidden, "":
		c.closeWith(session.ReasonForbidden, "", res.Details)
	case session.ReasonClientDisconnect, session.ReasonServerDisconnect:
		c.closeWith(res.Reason, "", res.Details)
	default:
		c.closeWith(res.Reason, reasonProtocol, res.Details)
	}
}

// closeWith closes the connection from the plugin and logs the Disconnect.
func (c *mqttConn) closeWith(disconnectReason, reason, details string) {
	if c.state == stClosed {
		return
	}
	c.state = stClosed
	status := statusSuccess
	if reason != "" {
		status = statusFailure
	}
	c.logDisconnect(status, disconnectReason, reason, details)
	_ = c.t.close()
}

// onClosed records a close that the plugin did not cause.
func (c *mqttConn) onClosed(disconnectReason string) {
	if c.clientSentDisconnect {
		disconnectReason = session.ReasonClientDisconnect
	}
	if c.state != stClosed {
		c.state = stClosed
		c.logDisconnect(statusSuccess, disconnectReason, "", "")
	}
	if c.p.conns[c.ctxID] == c {
		delete(c.p.conns, c.ctxID)
		c.p.m.mqttConns.Add(-1)
	}
	c.p.allowedPending += c.sess.TakeAllowedCount()
	c.p.flushCounts()
}

// abandon forgets a connection whose upgrade did not happen.
func (c *mqttConn) abandon() {
	c.state = stClosed
	if c.p.conns[c.ctxID] == c {
		delete(c.p.conns, c.ctxID)
		c.p.m.mqttConns.Add(-1)
	}
}

func (c *mqttConn) logDisconnect(status, disconnectReason, reason, details string) {
	p := c.p
	p.m.disconnects.Increment(1)
	principal := ""
	if c.d != nil {
		principal = c.d.principalID
	}
	p.emit(&logLine{traceID: c.traceID, eventType: evDisconnect, protocol: "MQTT", status: status,
		clientID: c.clientID, principalID: principal, sourceIP: c.src.ip, sourcePort: c.src.port,
		authorizerName: c.authName, reason: reason, details: details, disconnectReason: disconnectReason})
}

// stripUsername removes the credentials from the CONNECT username before it reaches the broker.
func (c *mqttConn) stripUsername(u []byte) []byte {
	keys := []string{keyAuthorizerName, keySignature}
	for _, a := range c.p.cfg.Authorizers {
		if a.TokenKeyName != "" {
			keys = append(keys, a.TokenKeyName)
		}
	}
	return []byte(credentials.StripUsername(string(u), keys...))
}

// tcpTransport: MQTT over TLS through the network filter's buffers.
type tcpTransport struct{}

func (tcpTransport) clientData(n int) ([]byte, error) { return proxywasm.GetDownstreamData(0, n) }
func (tcpTransport) setClientData(b []byte) error     { return proxywasm.ReplaceDownstreamData(b) }
func (tcpTransport) brokerData(n int) ([]byte, error) { return proxywasm.GetUpstreamData(0, n) }
func (tcpTransport) setBrokerData(b []byte) error     { return proxywasm.ReplaceUpstreamData(b) }
func (tcpTransport) resume() error                    { return proxywasm.ContinueTcpStream() }
func (tcpTransport) close() error                     { return proxywasm.CloseDownstream() }

// wsTransport: MQTT over WebSocket through the upgraded HTTP stream's body buffers.
type wsTransport struct{}

func (wsTransport) clientData(n int) ([]byte, error) { return proxywasm.GetHttpRequestBody(0, n) }
func (wsTransport) setClientData(b []byte) error     { return proxywasm.ReplaceHttpRequestBody(b) }
func (wsTransport) brokerData(n int) ([]byte, error) { return proxywasm.GetHttpResponseBody(0, n) }
func (wsTransport) setBrokerData(b []byte) error     { return proxywasm.ReplaceHttpResponseBody(b) }
func (wsTransport) resume() error                    { return proxywasm.ContinueHttpRequest() }
func (wsTransport) close() error                     { return proxywasm.ResetHttpStream() }

var (
	_ transport = tcpTransport{}
	_ transport = wsTransport{}
)
