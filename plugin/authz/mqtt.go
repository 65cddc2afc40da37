package authz

import (
	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/credentials"
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

// processor is the MQTT enforcement stream processor (session.Session or session.WSSession).
type processor interface {
	FromClient(in []byte) session.Result
	FromBroker(in []byte) session.Result
	Connect() *session.ConnectInfo
	PendingConnect() []byte
	Resume(p session.Policy) session.Result
	Refuse() []byte
	SetPolicy(p session.Policy)
	TakeAllowedCount() uint64
	WillAllowed() bool
	EndToBroker() []byte
}

// closingGrace bounds the wait for the broker's PINGRESP that carries an MQTT 5 protocol
// error's DISCONNECT to the client (session.Closing).
const closingGrace = 5e9

// Conn is one MQTT connection (over TLS, or inside a WebSocket): the session processor, the
// connection's policy and its refresh and disconnect deadlines. Its host side is a Transport.
type Conn struct {
	e       *Engine
	t       Transport
	ws      bool
	sess    processor
	state   int
	prefix  int // while stAuthPending: bytes at the head of the paused buffer that are ours
	src     Source
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
	// refusing: the CONNECT was refused (logged, state stClosed); the refusal CONNECT went to
	// the broker and its CONNACK, rewritten to "not authorized", goes to the client before the
	// close (session.Refusing). closingAt bounds the wait.
	refusing bool
	// refuseAtConnect: the SNI is not a data endpoint (logged and counted by OpenMQTT). The
	// connection only waits for the CONNECT, whose protocol version the CONNACK needs, to refuse
	// it; it is not counted in MetricMQTTConnections and logs nothing more.
	refuseAtConnect bool
}

// OpenMQTT starts an MQTT over TLS connection whose source is src. A connection whose SNI is
// not a data endpoint is refused: logged and counted at once; its CONNECT is answered CONNACK
// "not authorized" (see Conn.refuse) and nothing of the client reaches the broker. Without a
// CONNECT within mqtt.connectTimeoutSeconds it is closed.
func (e *Engine) OpenMQTT(t Transport, src Source) *Conn {
	traceID := newUUID()
	if den := e.resolveMQTT(&src); den != nil { // domains.go: the SNI's endpoint and domain
		e.count(MetricDenied, 1)
		e.count(MetricDeniedConnect, 1)
		e.emit(&logLine{traceID: traceID, eventType: evConnect, protocol: "MQTT", status: statusFailure,
			sourceIP: src.IP, sourcePort: src.Port, reason: den.reason, details: den.details})
		c := &Conn{e: e, t: t, src: src, traceID: traceID, createdAt: e.h.Now(), refuseAtConnect: true}
		c.sess = session.New(session.Options{MaxPacketBytes: e.cfg.MQTT.MaxPacketBytes, MemoEntries: -1})
		e.conns[c] = struct{}{} // for the tick: the CONNECT deadline and the refusal's grace
		return c
	}
	return e.newConn(t, false, src, traceID, nil)
}

// newConn starts an MQTT connection; pre is the decision made at a WebSocket upgrade, or nil
// when the credentials come in the CONNECT.
func (e *Engine) newConn(t Transport, ws bool, src Source, traceID string, pre *decision) *Conn {
	c := &Conn{e: e, t: t, ws: ws, src: src, traceID: traceID, createdAt: e.h.Now()}
	o := session.Options{
		ForwardPassword: e.cfg.MQTT.ForwardPassword,
		MaxPacketBytes:  e.cfg.MQTT.MaxPacketBytes,
		OnDecision:      c.onDecision,
		MemoEntries:     memoEntries,
		Limits:          sessionLimits(&e.cfg.MQTT.Limits),
		// Allowed publishes are counted in the session unless debug lines may need them.
		QuietAllowedPublish: !e.logsDebug(),
	}
	switch e.cfg.MQTT.DenyAction {
	case config.DenyReject:
		o.DenyAction = session.DenyReject
	case config.DenyAuto:
		o.DenyAction = session.DenyByVersion
	}
	if e.cfg.MQTT.StripCredentialsFromUsername {
		o.RewriteUsername = c.stripUsername
	}
	if pre != nil {
		c.d = pre
		c.eval = newEvaluator(e, pre, "", false, src.IP, src.domain)
		o.Preauthorized = c.eval
		c.state = stOpen
		c.startTimers(e.h.Now())
	}
	if ws {
		c.sess = session.NewWS(o)
	} else {
		c.sess = session.New(o)
	}
	e.conns[c] = struct{}{}
	e.h.Record(MetricMQTTConnections, 1)
	return c
}

// FromClient handles size bytes from the client.
func (c *Conn) FromClient(size int) Action {
	if c.state == stClosed {
		return Pause
	}
	if c.willRevoked {
		// Whatever the client sent is replaced by the DISCONNECT that makes the broker discard the
		// Will; the close follows it (Envoy flushes the bytes before closing).
		if err := c.t.SetClientData(c.sess.EndToBroker()); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot end the session: "+err.Error())
			return Pause
		}
		c.closeWith("AUTH_ERROR", reasonRefreshFailed, "the refreshed policy no longer allows the Will; the session was ended so that the broker discards it")
		return Continue
	}
	data, err := c.t.ClientData(size)
	if err != nil {
		c.closeWith("SERVER_ERROR", reasonProtocol, "cannot read client data: "+err.Error())
		return Pause
	}
	if c.refuseAtConnect {
		return c.refuseConnect(data)
	}
	if c.state == stAuthPending {
		// Paused: Envoy re-delivers our CONNECT with whatever arrived since. The session holds
		// the new bytes until the authorizer answers; the buffer keeps only the CONNECT.
		if c.prefix <= len(data) && len(data) > c.prefix {
			if res := c.sess.FromClient(data[c.prefix:]); res.Status == session.Close {
				c.closeWith("CLIENT_ERROR", reasonProtocol, res.Reason)
				return Pause
			}
			_ = c.t.SetClientData(data[:c.prefix])
		}
		return Pause
	}
	res := c.sess.FromClient(data)
	switch res.Status {
	case session.Closing:
		// An MQTT 5 protocol error: the PINGREQ in Out asks the broker for the turn that carries
		// the DISCONNECT to the client; nothing more of the client goes upstream.
		if c.closingAt == 0 {
			c.closingAt = c.e.h.Now()
		}
		if err := c.t.SetClientData(res.Out); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot rewrite client data: "+err.Error())
			return Pause
		}
		return Continue
	case session.Close:
		// The allowed packets that came before the cause still go to the broker.
		if len(res.Out) > 0 && c.t.SetClientData(res.Out) == nil {
			c.closeForSession(res)
			return Continue
		}
		c.closeForSession(res)
		return Pause
	case session.Refusing:
		// A WebSocket authorized at the upgrade whose CONNECT the policy refuses: Out is the
		// refusal CONNECT, in place of the client's bytes.
		c.closeForSession(res)
		return c.refuse(res.Out, true)
	case session.NeedAuth:
		// The buffer becomes the CONNECT as it goes upstream if the authorizer allows it; the
		// pause holds it there until the answer (see session's in-place hand-off).
		held := append(res.Out, c.sess.PendingConnect()...)
		if err := c.t.SetClientData(held); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot hold the CONNECT: "+err.Error())
			return Pause
		}
		c.prefix = len(held)
		c.state = stAuthPending
		return c.startAuth()
	}
	if !res.Unchanged {
		if err := c.t.SetClientData(res.Out); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot rewrite client data: "+err.Error())
			return Pause
		}
	}
	return Continue
}

// FromBroker handles size bytes from the broker. It never pauses (Envoy cannot resume the
// upstream direction of a network filter).
func (c *Conn) FromBroker(size int) Action {
	if c.state == stClosed {
		if c.refusing {
			c.refusalAnswer(size)
		}
		return Continue
	}
	data, err := c.t.BrokerData(size)
	if err != nil {
		c.closeWith("SERVER_ERROR", reasonProtocol, "cannot read broker data: "+err.Error())
		return Continue
	}
	res := c.sess.FromBroker(data)
	if res.Status == session.Close {
		// Out holds what may still reach the client: the allowed packets before the cause and,
		// after a client's MQTT 5 protocol error, the DISCONNECT that tells it why.
		if c.t.SetBrokerData(res.Out) == nil && len(res.Out) > 0 && c.ws {
			c.closeOnTick = true
		}
		c.closeForSession(res)
		return Continue
	}
	if !res.Unchanged {
		if err := c.t.SetBrokerData(res.Out); err != nil {
			c.closeWith("SERVER_ERROR", reasonProtocol, "cannot rewrite broker data: "+err.Error())
		}
	}
	return Continue
}

// startAuth runs the checks on the CONNECT's credentials and asks the authorizer.
func (c *Conn) startAuth() Action {
	e := c.e
	ci := c.sess.Connect()
	c.clientID = string(ci.ClientID)
	// Over a WebSocket the upgrade request's headers and query come before the username.
	src := credentials.Sources{Headers: c.upgradeHeaders, Query: c.upgradeQuery, Username: string(ci.Username)}
	pr := src.Extract()
	ae, den := e.selectAuthorizer(&pr, c.src.dom)
	if den != nil {
		return c.finishAuth(outcome{den: den}, true)
	}
	a := ae.a
	c.authName = a.Name
	src.Token(&pr, a.TokenKeyName)
	verified, den := e.checkToken(a, &pr)
	if den != nil {
		return c.finishAuth(outcome{den: den}, true)
	}
	r := &authRequest{auth: a}
	r.event = authorizer.NewEvent(&authorizer.Inputs{
		Token:             pr.Token,
		SignatureVerified: verified,
		ServerName:        c.src.SNI,
		HTTP:              c.ws,
		Headers:           c.upgradeHeaders,
		RawQuery:          c.upgradeQuery,
		WebSocket:         c.ws,
		Connect: &authorizer.MQTTData{
			Username: string(ci.Username), HasUsername: ci.HasUsername,
			Password: ci.Password, HasPassword: ci.HasPassword,
			ClientID: c.clientID, HasClientID: len(ci.ClientID) > 0,
		},
		ConnectionID: c.traceID,
	})
	r.key, r.tokenScoped = e.cacheKey(a, &pr, false, 0)
	c.req = r
	o, pending := e.decide(r, func(o outcome) {
		if c.state != stAuthPending || c.t.Enter() != nil {
			return
		}
		c.finishAuth(o, false)
	})
	if pending {
		return Pause
	}
	return c.finishAuth(o, true)
}

// finishAuth applies the authorizer's outcome to the held CONNECT. inCallback says whether we
// are still inside the downstream callback (return the action) or in the HTTP-call callback
// (resume or close the stream ourselves).
func (c *Conn) finishAuth(o outcome, inCallback bool) Action {
	e := c.e
	if o.den != nil {
		e.count(MetricDenied, 1)
		e.count(MetricDeniedConnect, 1)
		e.emit(&logLine{traceID: c.traceID, eventType: evConnect, protocol: "MQTT", status: statusFailure,
			clientID: c.clientID, sourceIP: c.src.IP, sourcePort: c.src.Port, authorizerName: c.authName,
			reason: o.den.reason, details: o.den.details})
		c.end("AUTH_ERROR", "", "")
		return c.refuse(c.sess.Refuse(), inCallback)
	}
	c.d = o.d
	c.eval = newEvaluator(e, o.d, c.clientID, true, c.src.IP, c.src.domain)
	res := c.sess.Resume(c.eval)
	if res.Status == session.Refusing {
		c.closeForSession(res)
		return c.refuse(res.Out, inCallback)
	}
	if res.Status == session.Close {
		c.closeForSession(res)
		return Pause
	}
	c.state = stOpen
	c.startTimers(e.h.Now())
	if inCallback {
		return Continue
	}
	if err := c.t.Resume(); err != nil {
		c.closeWith("SERVER_ERROR", reasonProtocol, "cannot resume the connection: "+err.Error())
	}
	return Continue
}

// refuse answers a refused CONNECT (already logged, the state closed) with a CONNACK: out, the
// refusal CONNECT, replaces the paused client bytes and goes to the broker, whose CONNACK
// refusalAnswer rewrites (see session.Refusing). inCallback as for finishAuth. When the bytes
// cannot be placed, the connection closes without a CONNACK.
func (c *Conn) refuse(out []byte, inCallback bool) Action {
	if len(out) == 0 || c.t.SetClientData(out) != nil {
		_ = c.t.Close()
		return Pause
	}
	c.refusing = true
	c.closingAt = c.e.h.Now()
	if inCallback {
		return Continue
	}
	if err := c.t.Resume(); err != nil {
		c.refusing = false
		_ = c.t.Close()
	}
	return Continue
}

// refuseConnect reads the CONNECT of a connection refused by OpenMQTT and refuses it; nothing
// of the client goes to the broker before.
func (c *Conn) refuseConnect(data []byte) Action {
	switch res := c.sess.FromClient(data); res.Status {
	case session.NeedAuth:
		c.state = stClosed
		return c.refuse(c.sess.Refuse(), true)
	case session.Continue:
		if c.t.SetClientData(nil) == nil { // an incomplete CONNECT, held by the session
			return Continue
		}
	}
	c.state = stClosed // not a CONNECT: closed without more (the refusal is already logged)
	_ = c.t.Close()
	return Pause
}

// refusalAnswer passes the broker's answer to the refusal CONNECT on as the client's CONNACK
// "not authorized", then closes.
func (c *Conn) refusalAnswer(size int) {
	data, err := c.t.BrokerData(size)
	if err != nil {
		c.refusing = false
		_ = c.t.Close()
		return
	}
	res := c.sess.FromBroker(data)
	if res.Status == session.Refusing {
		_ = c.t.SetBrokerData(res.Out) // an incomplete answer: nothing reaches the client yet
		return
	}
	c.refusing = false
	if c.t.SetBrokerData(res.Out) == nil && len(res.Out) > 0 && c.ws {
		c.closeOnTick = true // the CONNACK must leave before the stream is reset
		return
	}
	_ = c.t.Close()
}

func (c *Conn) startTimers(now int64) {
	c.refreshAt = now + int64(c.d.refreshSecs)*1e9
	c.disconnectAt = now + int64(c.d.disconnectSecs)*1e9
}

// onTick enforces disconnectAfterInSeconds and re-invokes the authorizer after
// refreshAfterInSeconds. It runs in the root context.
func (c *Conn) onTick(now int64) {
	if c.closeOnTick {
		c.closeOnTick = false
		if c.t.Enter() == nil {
			_ = c.t.Close()
		}
		return
	}
	if c.refusing && now-c.closingAt >= closingGrace {
		// The broker never answered the refusal CONNECT: close without the CONNACK.
		c.refusing = false
		if c.t.Enter() == nil {
			_ = c.t.Close()
		}
		return
	}
	if c.state == stClosed {
		return
	}
	if c.sess.Connect() == nil {
		if limit := int64(c.e.cfg.MQTT.ConnectTimeoutSeconds) * 1e9; now-c.createdAt >= limit {
			if c.refuseAtConnect {
				c.state = stClosed
				if c.t.Enter() == nil {
					_ = c.t.Close()
				}
				return
			}
			if c.t.Enter() == nil {
				c.closeWith("CLIENT_ERROR", reasonProtocol, "no complete CONNECT within "+
					itoa(c.e.cfg.MQTT.ConnectTimeoutSeconds)+" s (mqtt.connectTimeoutSeconds)")
			}
		}
		return
	}
	if c.closingAt != 0 && now-c.closingAt >= closingGrace {
		if c.t.Enter() == nil {
			c.closeWith("CLIENT_ERROR", reasonProtocol, "the broker did not answer the PINGREQ that carries the DISCONNECT for a protocol error")
		}
		return
	}
	if c.state != stOpen {
		return
	}
	if now >= c.disconnectAt {
		if c.t.Enter() == nil {
			c.closeWith("CUSTOMAUTH_TTL_EXPIRATION", "", "disconnectAfterInSeconds "+itoa(c.d.disconnectSecs)+" reached")
		}
		return
	}
	if now >= c.refreshAt && !c.refreshing && c.req != nil && c.req.auth != nil {
		c.refreshing = true
		r := *c.req
		r.force = true
		o, pending := c.e.decide(&r, c.onRefresh)
		if !pending {
			c.onRefresh(o)
		}
	}
}

// onRefresh applies a refreshed decision: the new policy governs the next packet; a failed or
// negative refresh, or one that no longer allows iot:Connect, closes the connection.
func (c *Conn) onRefresh(o outcome) {
	c.refreshing = false
	if c.state != stOpen {
		return
	}
	if c.t.Enter() != nil {
		return
	}
	if o.den != nil {
		c.closeWith("AUTH_ERROR", reasonRefreshFailed, o.den.reason+": "+o.den.details)
		return
	}
	// The new policy is evaluated with exactly the CONNECT's inputs: the client id the CONNECT
	// was decided with (an empty one stays present and empty: ${iot:ClientId} resolves to ""),
	// its connect attributes and Will topic, the source address and the domain.
	if c.eval == nil { // stOpen always has one; never guess the CONNECT's inputs
		c.closeWith("AUTH_ERROR", reasonRefreshFailed, "no CONNECT decision to refresh")
		return
	}
	id := c.eval.connectClientID()
	ev := newEvaluator(c.e, o.d, id, true, c.src.IP, c.src.domain)
	if ci := c.sess.Connect(); ci != nil {
		ev.SetConnect(ci)
	}
	if !ev.Allow(session.Connect, []byte(id)) {
		c.closeWith("AUTH_ERROR", reasonRefreshFailed, "the refreshed policy denies "+ev.denied("iot:Connect"))
		return
	}
	c.d, c.eval = o.d, ev
	c.sess.SetPolicy(ev)
	if !c.sess.WillAllowed() {
		// Closing now would make the broker publish the Will. The client's next bytes (at the
		// latest its keep-alive PINGREQ) become a normal DISCONNECT instead; see fromClient.
		c.willRevoked = true
		c.refreshAt = 1 << 62 // the session is ending: no further refresh
		return
	}
	details := "policy refreshed"
	c.refreshAt = c.e.h.Now() + int64(o.d.refreshSecs)*1e9
	if o.stale {
		// The authorizer failed and an expired decision stands in (cache.staleIfErrorSeconds):
		// try again soon, and at the latest when the stale window ends, where a failure closes.
		wait := c.staleRetry(o.d)
		details = "refresh failed; stale decision served (staleIfErrorSeconds), retried in " + itoa(int((wait+999e6)/1e9)) + " s"
		c.refreshAt = c.e.h.Now() + wait
	}
	c.e.emit(&logLine{traceID: c.traceID, eventType: evConnect, protocol: "MQTT", status: statusSuccess,
		clientID: c.clientID, principalID: o.d.principalID, sourceIP: c.src.IP, sourcePort: c.src.Port,
		authorizerName: c.authName, details: details, debug: !o.stale})
}

// onDecision logs and counts every decision the session makes. The session's Disconnect
// events are logged by closeWith and onClosed, which know the whole story.
func (c *Conn) onDecision(d session.Decision) {
	if d.Event == session.EventDisconnect {
		if d.Reason == session.ReasonClientDisconnect {
			c.clientSentDisconnect = true
		}
		return
	}
	e := c.e
	if d.Allowed {
		// Per packet: counted locally (flushed on the tick), logged only at debug.
		e.allowedPending++
		if d.Action == session.Connect {
			c.clientID = string(d.Name)
		}
		if !e.logsDebug() && (d.Action == session.Publish || d.Action == session.Receive || d.Action == session.RetainPublish) {
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
		principalID: principal, sourceIP: c.src.IP, sourcePort: c.src.Port, authorizerName: c.authName}
	if d.Action == session.Connect {
		l.clientID = string(d.Name)
		c.clientID = l.clientID
	} else {
		l.topicName = string(d.Name)
	}
	if d.Event == session.EventPublishIn {
		l.retain = retainValue(d.Retain)
	}
	if d.Allowed {
		l.status = statusSuccess
		l.debug = d.Action == session.Publish || d.Action == session.Receive || d.Action == session.RetainPublish
		e.emit(&l)
		return
	}
	e.count(MetricDenied, 1)
	switch {
	case d.Action == session.Connect || d.Will:
		e.count(MetricDeniedConnect, 1)
	case d.Action == session.Publish || d.Action == session.RetainPublish:
		e.count(MetricDeniedPublish, 1)
	case d.Action == session.Subscribe:
		e.count(MetricDeniedSubscribe, 1)
	case d.Action == session.Receive:
		e.count(MetricDeniedReceive, 1)
	}
	l.status = statusFailure
	if d.Reason == reasonLimit || d.Reason == reasonPayloadLimit || d.Reason == reasonClientIDEmpty {
		// mqtt.limits: refused before any policy. A hostile name is logged shortened.
		l.reason, l.details = d.Reason, d.Details
		l.clientID, l.topicName = shorten(l.clientID), shorten(l.topicName)
		c.clientID = l.clientID
		e.emit(&l)
		return
	}
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
	e.emit(&l)
}

// closeForSession closes after the session asked to: a denied packet under denyAction
// "disconnect" (FORBIDDEN_ACCESS, already logged as a failed decision), a DISCONNECT from either
// side, or a protocol violation.
func (c *Conn) closeForSession(res session.Result) {
	var closing bool
	switch {
	case res.Limit != "": // mqtt.limits: already logged as a failed decision with its reason
		closing = c.end(res.Reason, res.Limit, res.Details)
	case res.Reason == session.ReasonForbidden || res.Reason == "":
		closing = c.end(session.ReasonForbidden, "", res.Details)
	case res.Reason == session.ReasonClientDisconnect || res.Reason == session.ReasonServerDisconnect:
		closing = c.end(res.Reason, "", res.Details)
	default:
		closing = c.end(res.Reason, reasonProtocol, res.Details)
	}
	if closing && res.Status != session.Refusing {
		_ = c.t.Close()
	}
}

// closeWith closes the connection from the plugin and logs the Disconnect.
func (c *Conn) closeWith(disconnectReason, reason, details string) {
	if c.end(disconnectReason, reason, details) {
		_ = c.t.Close()
	}
}

// end marks the connection closed and logs the Disconnect, unless it already was; the caller
// closes the transport (now, or after a last packet: refuse).
func (c *Conn) end(disconnectReason, reason, details string) bool {
	if c.state == stClosed {
		return false
	}
	c.state = stClosed
	status := statusSuccess
	if reason != "" {
		status = statusFailure
	}
	c.logDisconnect(status, disconnectReason, reason, details)
	return true
}

// Closed records a close that the plugin did not cause; disconnectReason is the host's
// (CLIENT_INITIATED_DISCONNECT, CONNECTION_LOST…) unless the client ended with a DISCONNECT.
// It may come more than once; the connection is forgotten at the first.
func (c *Conn) Closed(disconnectReason string) {
	if c.refuseAtConnect {
		c.state = stClosed
		c.forget()
		return
	}
	if c.clientSentDisconnect {
		disconnectReason = session.ReasonClientDisconnect
	}
	if c.state != stClosed {
		c.state = stClosed
		c.logDisconnect(statusSuccess, disconnectReason, "", "")
	}
	c.forget()
	c.e.allowedPending += c.sess.TakeAllowedCount()
	c.e.flushCounts()
}

// UpstreamClosed records the broker's close, unless the plugin closed first.
func (c *Conn) UpstreamClosed() {
	if c.state != stClosed {
		c.Closed("SERVER_INITIATED_DISCONNECT")
	}
}

// forget removes c from the live connections.
func (c *Conn) forget() {
	if _, ok := c.e.conns[c]; ok {
		delete(c.e.conns, c)
		if !c.refuseAtConnect {
			c.e.h.Record(MetricMQTTConnections, -1)
		}
	}
}

// abandon forgets a connection whose upgrade did not happen.
func (c *Conn) abandon() {
	c.state = stClosed
	c.forget()
}

func (c *Conn) logDisconnect(status, disconnectReason, reason, details string) {
	c.e.count(MetricDisconnects, 1)
	principal := ""
	if c.d != nil {
		principal = c.d.principalID
	}
	c.e.emit(&logLine{traceID: c.traceID, eventType: evDisconnect, protocol: "MQTT", status: status,
		clientID: c.clientID, principalID: principal, sourceIP: c.src.IP, sourcePort: c.src.Port,
		authorizerName: c.authName, reason: reason, details: details, disconnectReason: disconnectReason})
}

// stripUsername removes the credentials from the CONNECT username before it reaches the broker.
func (c *Conn) stripUsername(u []byte) []byte {
	return []byte(credentials.StripUsername(string(u), c.e.usernameKeys...))
}
