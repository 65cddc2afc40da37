package authz

import (
	"slices"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/credentials"
	"github.com/iotauthz/iotauthz/policy"
)

// HTTP stream modes.
const (
	modeNew     = iota
	modePublish // POST /topics/{topic}: decided once, at the headers
	modeWS      // GET /mqtt upgrade: MQTT inside WebSocket frames after the 101
	modeDone    // decided and denied, or passed through
)

// Stream is one HTTP request: an HTTPS publish or a WebSocket upgrade carrying MQTT. Its host
// side is a StreamHost. The host may keep a Stream for reuse once Done says it can.
type Stream struct {
	e       *Engine
	h       StreamHost
	mode    int
	done    bool // the stream is gone; late authorizer answers are dropped
	traceID string
	now     int64 // the clock read by this callback (0: none); a refusal's log line reuses it

	// what the request says
	src      Source
	haveAddr bool // src.IP and src.Port have been read
	authName string
	topic    string
	retain   bool
	// retainRead: the publish's qos and retain were read and accepted (its log lines carry retain)
	retainRead bool
	// publish: an HTTPS publish, whose body is bounded by maxPublishBody; body counts its bytes.
	publish bool
	body    int

	req      *authRequest // the upgrade's authorizer request, kept for MQTT refreshes
	ws       *Conn
	upgraded bool
}

// InitStream makes s a new stream of e on h (s may be a Stream that Done released).
func (e *Engine) InitStream(s *Stream, h StreamHost) { *s = Stream{e: e, h: h} }

// HeadersUnreadable denies a request whose headers the host could not read.
func (s *Stream) HeadersUnreadable(err error) Action {
	return s.deny(&denial{reasonUnsupported, "cannot read the request headers: " + err.Error()})
}

// RequestHeaders decides on the request headers hs (names lower case, as Envoy hands them;
// the engine keeps no reference to hs past the call unless it clones it) from a connection
// whose SNI and id src gives (its address is read later, through the host, if needed). Every
// check that needs no call happens here; a miss in the cache pauses the stream until the
// authorizer answers.
func (s *Stream) RequestHeaders(hs [][2]string, src Source) Action {
	p := s.e
	s.src = src
	h := scanHeaders(hs)
	method, fullPath, authority := h.method, h.path, h.authority
	path, rawQuery, _ := strings.Cut(fullPath, "?")

	if den := p.resolveHTTP(&s.src, authority); den != nil { // domains.go
		return s.deny(den)
	}

	isWS := h.isWebSocketUpgrade(path)
	switch {
	case isWS:
		s.mode = modeWS
		// Compressed frames (permessage-deflate sets RSV1) cannot be inspected: never let the
		// client and the broker negotiate an extension.
		if h.hasExtensions {
			s.h.RemoveHeader("sec-websocket-extensions")
		}
	case method == "POST" && strings.HasPrefix(path, "/topics/"):
		s.mode = modePublish
		topic, ok := credentials.UnescapePath(path[len("/topics/"):])
		if !ok || topic == "" {
			return s.deny(&denial{reasonUnsupported, "the topic in " + quote(path) + " is empty or badly encoded"})
		}
		s.topic = topic
		if d := p.httpTopicLimit(topic); d != "" {
			return s.reply(&denial{reasonLimit, d}, "", 400, "Bad Request")
		}
		s.publish = true
		if h.hasLength {
			if n, ok := parseLength(h.length); !ok || n > p.httpBodyLimit() {
				return s.tooLarge("content-length " + quote(h.length))
			}
		}
	default:
		return s.deny(&denial{reasonUnsupported, method + " " + quote(path) + " is not supported: only POST /topics/{topic} and the MQTT WebSocket upgrade GET /mqtt"})
	}
	if den := s.src.dom.refusesMode(s.mode); den != nil { // the domain's applicationProtocol
		return s.deny(den)
	}

	// One pass over the query reads the credentials and the publish's qos and retain.
	where := credentials.Sources{Headers: hs, Query: rawQuery, Extra: [2]string{"qos", "retain"}}
	c := where.Extract()
	if s.mode == modePublish {
		if v, ok := where.Param(0); ok && v != "0" && v != "1" {
			return s.deny(&denial{reasonUnsupported, "qos must be 0 or 1, not " + quote(v)})
		}
		if v, ok := where.Param(1); ok {
			switch v {
			case "true":
				s.retain = true
			case "false", "":
			default:
				return s.deny(&denial{reasonUnsupported, "retain must be true or false, not " + quote(v)})
			}
		}
		s.retainRead = true
	}
	// An upgrade with no name, no signature header and no token leaves the credentials to the
	// MQTT CONNECT (username and password); a signature in the query alone does not count.
	if s.mode == modeWS && !c.HasName && !c.SignatureHeader && !where.AnyToken(p.tokenKeys) {
		s.ws = s.newWSConn(nil)
		s.ws.upgradeHeaders, s.ws.upgradeQuery = slices.Clone(hs), rawQuery
		return Continue
	}
	ae, den := p.selectAuthorizer(&c, s.src.dom)
	if den != nil {
		return s.deny(den)
	}
	a := ae.a
	s.authName = a.Name
	where.Token(&c, a.TokenKeyName)
	key, scoped := p.cacheKeyBytes(a, &c, s.mode == modePublish, s.src.Conn)
	// The credentials are stripped from what goes upstream once the request is known not to be
	// refused here: a refusal is answered locally and never forwarded, and is spared the host
	// calls.
	if key != nil && s.mode == modePublish {
		// The key holds the token and its signature: a hit means these exact credentials were
		// verified and authorized before, so neither is repeated.
		s.now = p.h.Now()
		if d := p.cached(unsafeString(key), scoped, s.now); d != nil {
			act := s.apply(outcome{d: d})
			if act == Continue {
				s.stripCredentials(&c, ae.tokenHeader, fullPath, a)
			}
			s.now = 0
			return act
		}
	}
	verified, den := p.checkToken(a, &c)
	if den != nil {
		return s.deny(den)
	}
	r := &authRequest{auth: a}
	if key != nil {
		r.key, r.tokenScoped = string(key), scoped
	}
	s.stripCredentials(&c, ae.tokenHeader, fullPath, a)
	s.now = 0 // the decision may come in a later callback
	r.event = authorizer.NewEvent(&authorizer.Inputs{
		Token:             c.Token,
		SignatureVerified: verified,
		ServerName:        s.src.SNI,
		HTTP:              true,
		Headers:           hs,
		RawQuery:          rawQuery,
		WebSocket:         s.mode == modeWS,
		ConnectionID:      s.trace(),
	})
	s.req = r

	o, pending := p.decide(r, func(o outcome) {
		if s.done || s.h.Enter() != nil {
			return
		}
		if s.apply(o) == Continue {
			_ = s.h.Resume()
		}
	})
	if pending {
		return Pause
	}
	return s.apply(o)
}

// address returns the connection facts with the client's address read (once): only logs and
// policies that use ${aws:SourceIp} need it, so the cached path usually skips the host call.
func (s *Stream) address() Source {
	if !s.haveAddr {
		s.src.IP, s.src.Port = s.h.Address()
		s.haveAddr = true
	}
	return s.src
}

// trace returns the request's trace id (a UUID made on first use: the 403 body, the logs and the
// event's connectionMetadata.id share it).
func (s *Stream) trace() string {
	if s.traceID == "" {
		s.traceID = newUUID()
	}
	return s.traceID
}

// apply enforces an outcome: for a publish, iot:Publish (and iot:RetainPublish) on the topic; for
// an upgrade, the connection keeps the policy for its MQTT packets.
func (s *Stream) apply(o outcome) Action {
	if o.den != nil {
		return s.deny(o.den)
	}
	d := o.d
	p := s.e
	if s.mode == modeWS {
		s.ws = s.newWSConn(d)
		s.ws.authName, s.ws.req = s.authName, s.req
		p.count(MetricAllowed, 1)
		p.emit(&logLine{traceID: s.trace(), eventType: evConnect, protocol: "HTTP", status: statusSuccess,
			principalID: d.principalID, sourceIP: s.address().IP, sourcePort: s.src.Port,
			authorizerName: s.authName, details: "WebSocket upgrade authorized"})
		return Continue
	}
	ip := ""
	if d.usesSourceIP {
		ip = s.address().IP
	}
	ev := p.httpEvaluator(d, ip, s.src.domain)
	topic := unsafeBytes(s.topic)
	if !ev.allow(policy.ActionPublish, kindTopic, topic) {
		return s.denyPolicy(d, ev, policy.ActionPublish)
	}
	if s.retain && !ev.allow(policy.ActionRetainPublish, kindTopic, topic) {
		return s.denyPolicy(d, ev, policy.ActionRetainPublish)
	}
	p.allowedPending++
	s.mode = modeDone
	if p.logsDebug() {
		details := ""
		if o.stale {
			details = "stale decision served (staleIfErrorSeconds)"
		}
		p.emit(&logLine{traceID: s.trace(), eventType: evPublishIn, protocol: "HTTP", status: statusSuccess,
			principalID: d.principalID, sourceIP: s.address().IP, sourcePort: s.src.Port, topicName: s.topic,
			authorizerName: s.authName, details: details, retain: retainValue(s.retain), debug: true})
	}
	return Continue
}

// denyPolicy refuses what ev has just denied (action on the resource it evaluated). The details
// (the action, the resource, the deciding statement) are ev.denied(action), built only for a line
// that is written: a suppressed one costs no string.
func (s *Stream) denyPolicy(d *decision, ev *evaluator, action string) Action {
	return s.refuse(&denial{reason: reasonAuthorization}, ev, action, d.principalID, 403, "Forbidden")
}

func (s *Stream) deny(den *denial) Action { return s.denyAs(den, "") }

// maxPublishBody is AWS IoT Core's message size limit, which its HTTPS publish enforces too
// (128 KiB): a larger body is answered 413.
const maxPublishBody = 128 * 1024

// tooLarge answers 413 {"message":"Payload Too Large","traceId":…} and logs why.
func (s *Stream) tooLarge(what string) Action {
	return s.reply(&denial{reasonPayloadTooLarge, what + " exceeds the HTTPS publish limit of " + itoa(s.e.httpBodyLimit()) + " bytes"}, "",
		413, "Payload Too Large")
}

// parseLength reads a content-length value: decimal digits only.
func parseLength(v string) (int, bool) {
	if v == "" || len(v) > 12 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, true
}

// denyAs answers 403 {"message":"Forbidden","traceId":…} and logs why.
func (s *Stream) denyAs(den *denial, principalID string) Action {
	return s.reply(den, principalID, 403, "Forbidden")
}

// reply answers a refusal with status and {"message":message,"traceId":…}, and logs why.
func (s *Stream) reply(den *denial, principalID string, status int, message string) Action {
	return s.refuse(den, nil, "", principalID, status, message)
}

// refuse is reply; when ev is not nil, the line's details are ev.denied(action) (denyPolicy).
func (s *Stream) refuse(den *denial, ev *evaluator, action, principalID string, status int, message string) Action {
	p := s.e
	s.publish = false // one answer per request
	event := evPublishIn
	if s.mode == modeWS {
		event = evConnect
	}
	s.mode = modeDone
	p.deny.denied++ // added to the metric on the tick (denycost.go): no host call per refusal
	now := s.now
	s.now = 0
	retain := ""
	if event == evPublishIn && s.retainRead {
		retain = retainValue(s.retain)
	}
	l := logLine{traceID: s.trace(), eventType: event, protocol: "HTTP", status: statusFailure,
		principalID: principalID, topicName: s.topic,
		authorizerName: s.authName, reason: den.reason, details: den.details, retain: retain}
	if level, name, at, ok := p.admit(&l, now); ok {
		// The client's address only for a line written: a suppressed one costs no host call.
		l.sourceIP, l.sourcePort = s.address().IP, s.src.Port
		if ev != nil {
			l.details = ev.denied(action)
		}
		p.write(&l, level, name, at)
	}
	if err := s.h.Reply(status, p.replyBody(message, s.trace())); err != nil {
		p.logText(LevelError, "iotauthz: cannot send the "+itoa(status)+": "+err.Error())
		_ = s.h.Close()
	}
	return Pause
}

// RequestBody handles size more bytes of the request body: an HTTPS publish's, counted against
// its limit, or, after the upgrade, client WebSocket frames.
func (s *Stream) RequestBody(size int) Action {
	if s.publish && s.mode != modeWS {
		// Chunked or under-declared bodies are counted as they pass.
		if s.body += size; s.body > s.e.httpBodyLimit() {
			s.publish = false
			return s.tooLarge("the request body")
		}
		return Continue
	}
	if s.mode != modeWS || s.ws == nil {
		return Continue
	}
	return s.ws.FromClient(size)
}

// ResponseHeaders reads the response's status: the upgrade took place only on a 101.
func (s *Stream) ResponseHeaders() Action {
	if s.mode == modeWS {
		s.upgraded = s.h.ResponseStatus() == "101"
		if !s.upgraded && s.ws != nil {
			s.ws.abandon()
			s.ws = nil
		}
	}
	return Continue
}

// ResponseBody handles size more bytes of the response body: server WebSocket frames.
func (s *Stream) ResponseBody(size int) Action {
	if s.mode != modeWS || s.ws == nil || !s.upgraded {
		return Continue
	}
	return s.ws.FromBroker(size)
}

// Done ends the stream. It reports whether the host may reuse s for a later stream: true
// when nothing refers to it any more (it never waited for the authorizer, whose answer would
// still find it).
func (s *Stream) Done() (reusable bool) {
	s.done = true
	if s.ws != nil {
		s.ws.Closed("CLIENT_INITIATED_DISCONNECT")
		return false
	}
	return s.req == nil
}

// newWSConn starts the MQTT connection inside the upgraded stream; pre is the decision made at
// the upgrade, or nil when the credentials come in the CONNECT.
func (s *Stream) newWSConn(pre *decision) *Conn {
	return s.e.newConn(s.h, true, s.address(), s.trace(), pre)
}

// httpEvaluator returns the evaluator for an HTTP request (no client id on HTTP).
func (e *Engine) httpEvaluator(d *decision, sourceIP, domain string) *evaluator {
	ev := e.httpEval
	if ev == nil {
		ev = newEvaluator(e, d, "", false, sourceIP, "")
		e.httpEval = ev
	}
	ev.set = d.set
	ev.vars.SourceIP = sourceIP
	ev.vars.Context = d.context
	ev.vars.DomainName, ev.vars.HasDomainName = domain, domain != ""
	return ev
}

// reqHeaders are the request headers the filter reads, found in one pass. Envoy hands header
// names to filters lower-cased, so they compare exactly.
type reqHeaders struct {
	method, path, authority, protocol, upgrade string
	length                                     string
	hasExtensions, hasLength                   bool
}

func scanHeaders(hs [][2]string) (h reqHeaders) {
	// Dispatch on the length first: most headers match no case, and inside a .wasm every string
	// comparison is a byte loop.
	for _, kv := range hs {
		switch k := kv[0]; len(k) {
		case len(":path"):
			if k == ":path" {
				h.path = kv[1]
			}
		case len(":method"): // and "upgrade"
			if k == ":method" {
				h.method = kv[1]
			} else if k == "upgrade" {
				h.upgrade = kv[1]
			}
		case len(":authority"):
			if k == ":authority" {
				h.authority = kv[1]
			}
		case len(":protocol"):
			if k == ":protocol" {
				h.protocol = kv[1]
			}
		case len("sec-websocket-extensions"):
			if k == "sec-websocket-extensions" {
				h.hasExtensions = true
			}
		case len("content-length"):
			if k == "content-length" {
				h.length, h.hasLength = kv[1], true
			}
		}
	}
	return h
}

func (h *reqHeaders) isWebSocketUpgrade(path string) bool {
	if h.method == "CONNECT" { // HTTP/2 extended CONNECT (RFC 8441)
		return strings.EqualFold(h.protocol, "websocket") && path == "/mqtt"
	}
	return h.method == "GET" && path == "/mqtt" && strings.EqualFold(h.upgrade, "websocket")
}

// stripCredentials removes the credentials from the request before it goes upstream: the
// x-amz-customauthorizer-* headers, the token header (tokenHeader, lower case) and the same
// query parameters.
func (s *Stream) stripCredentials(c *credentials.Presented, tokenHeader, fullPath string, a *config.Authorizer) {
	if c.NameHeader {
		s.h.RemoveHeader(credentials.NameKey)
	}
	if c.SignatureHeader {
		s.h.RemoveHeader(credentials.SignatureKey)
	}
	if c.TokenHeader {
		s.h.RemoveHeader(tokenHeader)
	}
	if !c.InQuery {
		return
	}
	path, rawQuery, ok := strings.Cut(fullPath, "?")
	if !ok {
		return
	}
	kept := credentials.StripQuery(rawQuery, credentials.NameKey, credentials.SignatureKey, a.TokenKeyName)
	if kept == rawQuery {
		return
	}
	if kept != "" {
		path += "?" + kept
	}
	s.h.SetPath(path)
}
