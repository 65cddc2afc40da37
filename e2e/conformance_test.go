package e2e

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
	paholog "github.com/eclipse/paho.golang/paho/log"
	paho3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/syncbuf"
	"github.com/iotauthz/iotauthz/refauth"
)

// TestConformance is the differential test of MQTT through the proxy: every scenario of
// conformanceScenarios (conformance_scenarios_test.go) runs once straight against mosquitto and
// once through the embedded gateway (host/gateway, what `iotauthz gateway` serves) in front of
// the same mosquitto, under a policy that allows everything, over both transports: mosquitto's
// plain MQTT listener against the gateway's MQTT over TLS, and mosquitto's WebSocket listener
// against the gateway's MQTT over WSS. What every client receives, decoded from the wire
// (tapConn), must be the same both ways. differentScenarios then run under a policy that denies
// some topics, and the gateway's transcript must be mosquitto's with exactly the listed changes.
//
// The runs of all selected scenarios go concurrently (at most confConcurrency at a time, each on
// its own topic prefix and client ids); the subtests then compare. A -run pattern selects
// scenarios before anything runs (TestConformance/NAME/TLS).
func TestConformance(t *testing.T) {
	st := startConformance(t)

	type job struct {
		sc     *scenario
		denied bool
		tr     string // "TLS" or "WSS"
		direct *transcript
		gw     *transcript
	}
	var jobs []*job
	sel := runSelector()
	for _, list := range []struct {
		scs    []scenario
		denied bool
	}{{conformanceScenarios, false}, {differentScenarios, true}} {
		for i := range list.scs {
			sc := &list.scs[i]
			for _, tr := range []string{"TLS", "WSS"} {
				if sel(sc.name, tr) {
					jobs = append(jobs, &job{sc: sc, denied: list.denied, tr: tr})
				}
			}
		}
	}
	sem := make(chan struct{}, confConcurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		token := "conf-all"
		if j.denied {
			token = "deny-all"
		}
		wss := j.tr == "WSS"
		for _, l := range []struct {
			out *(*transcript)
			leg leg
		}{{&j.direct, leg{gateway: false, wss: wss}}, {&j.gw, leg{gateway: true, wss: wss}}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				*l.out = st.run(j.sc, l.leg, token)
			}()
		}
	}
	wg.Wait()

	for _, j := range jobs {
		t.Run(j.sc.name+"/"+j.tr, func(t *testing.T) {
			if j.direct.err != "" {
				t.Errorf("%s: the run straight against mosquitto (%s) failed, so the scenario does not fit this broker:\n%s",
					j.sc.name, j.direct.leg, j.direct)
				return
			}
			if testing.Verbose() {
				t.Logf("%s:\n%s", j.direct.leg, j.direct)
			}
			want := j.direct.lines
			if j.denied {
				var err error
				if want, err = applyChanges(want, j.sc.differs, j.tr); err != nil {
					t.Errorf("%s: the expected difference does not apply to mosquitto's transcript: %v\n%s", j.sc.name, err, j.direct)
					return
				}
			}
			if d := diffLines(want, j.gw.lines); d != "" {
				what := "mosquitto's"
				if j.denied {
					what = "mosquitto's with the expected differences"
				}
				t.Errorf("%s (MQTT %s, %s): what the clients received through the gateway (+) is not %s (-):\n%s\nplugin and gateway log lines of this run:\n%s",
					j.sc.name, versionName(j.sc.version), j.gw.leg, what, d, st.logsFor(j.gw.idPrefix))
			}
		})
	}
}

// confConcurrency bounds the scenario runs in flight; they mostly wait on the network.
const confConcurrency = 12

// runSelector returns whether a -run pattern selects TestConformance/NAME/TRANSPORT. It splits
// the pattern on '/' as the testing package does for simple patterns, so the runs a pattern
// leaves out never start; the subtests are filtered by the testing package itself.
func runSelector() func(name, tr string) bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return func(string, string) bool { return true }
	}
	parts := strings.Split(f.Value.String(), "/")
	match := func(i int, s string) bool {
		if i >= len(parts) {
			return true
		}
		re, err := regexp.Compile(parts[i])
		return err != nil || re.MatchString(s)
	}
	return func(name, tr string) bool { return match(1, name) && match(2, tr) }
}

func versionName(v byte) string {
	if v == 4 {
		return "3.1.1"
	}
	return "5"
}

// ---- the stack ----

// confStack is this test's own mosquitto, reference authorizer and gateway, so that its broker
// settings and its policies do not meet the other e2e tests'.
type confStack struct {
	broker   string // mosquitto's MQTT listener, 127.0.0.1:PORT
	brokerWS string // mosquitto's WebSocket listener, 127.0.0.1:PORT
	gateway  string // the gateway, localhost:PORT (MQTT over TLS with ALPN mqtt, and WSS /mqtt)
	pool     *x509.CertPool
	key      *rsa.PrivateKey
	mosqOut  *syncbuf.Buffer

	mu    sync.Mutex
	logs  []string
	sigMu sync.Mutex
	sigs  map[string]string
}

// confMaxPacket is mosquitto's max_packet_size here, which its CONNACK announces. It is below
// the plugin's mqtt.maxPacketBytes (131072, pluginConfig), so the limit a client is told is the
// one that holds both ways; MaximumPacketSizeServer goes above each.
const confMaxPacket = 100000

// confRules: tokens "conf-…" may do everything; tokens "deny-…" everything but what
// differentScenarios show refused. "*" in a resource crosses topic levels (policy/SYNTAX.md).
const confRules = `{
  "rules": [
    {"name": "conformance", "match": {"tokenPrefix": "conf-"}, "isAuthenticated": true, "principalId": "conformance",
     "refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 86400,
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}]},
    {"name": "denials", "match": {"tokenPrefix": "deny-"}, "isAuthenticated": true, "principalId": "denials",
     "refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 86400,
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": "iot:*", "Resource": "*"},
       {"Effect": "Deny", "Action": "iot:Publish", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/*/denied"},
       {"Effect": "Deny", "Action": "iot:RetainPublish", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/*/noretain"},
       {"Effect": "Deny", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/*/nosub/#"},
       {"Effect": "Deny", "Action": "iot:Receive", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/*/noreceive"}
     ]}]}
  ],
  "default": {"isAuthenticated": false, "principalId": "denied"}
}`

func startConformance(t *testing.T) *confStack {
	t.Helper()
	embeddedOnly(t, "embedded target only: it starts its own mosquitto and gateway")
	checkMosquitto(t, true)
	wasm := pluginWasm(t)
	st := &confStack{sigs: map[string]string{}}
	dir := t.TempDir()

	pki, err := gatewaytest.NewPKI("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	st.pool = pki.Pool
	sk, err := gatewaytest.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	st.key = sk.Key

	// mosquitto as the other e2e tests run it, plus max_packet_size.
	st.broker, st.brokerWS, st.mosqOut = startMosquitto(t, dir, fmt.Sprintf("max_packet_size %d\n", confMaxPacket))

	auth := refauth.New(refauth.MustParse(confRules))
	as := httptest.NewServer(auth)
	t.Cleanup(as.Close)

	st.gateway = serveGateway(t, "conformance", gateway.Config{
		Module:       wasm,
		PluginConfig: pluginConfig(sk.PublicPEM, "reject"),
		Workers:      2,
		Clusters:     map[string]string{"authorizer": as.URL, "unreachable": as.URL},
		TLS:          pki.ServerTLS(),
		Broker:       "tcp://" + st.broker,
		BrokerWS:     "ws://" + st.brokerWS + "/mqtt",
		LogLevel:     host.LogDebug,
		LogSink:      func(e host.LogEntry) { st.logf("plugin %s %s", e.Level, e.Message) },
		Logf:         func(f string, a ...any) { st.logf("gateway "+f, a...) },
	})
	return st
}

func (st *confStack) logf(format string, args ...any) {
	st.mu.Lock()
	st.logs = append(st.logs, fmt.Sprintf(format, args...))
	st.mu.Unlock()
}

// logsFor returns the plugin's and gateway's lines that name a client id starting with idPrefix
// (decision logs carry "clientId"), and mosquitto's.
func (st *confStack) logsFor(idPrefix string) string {
	st.mu.Lock()
	var out []string
	for _, l := range st.logs {
		if strings.Contains(l, idPrefix) {
			out = append(out, "  "+l)
		}
	}
	st.mu.Unlock()
	if len(out) == 0 {
		out = append(out, "  (none name this run's clients)")
	}
	var mosq []string
	for _, l := range strings.Split(st.mosqOut.String(), "\n") {
		if strings.Contains(l, idPrefix) {
			mosq = append(mosq, "  "+l)
		}
	}
	return strings.Join(out, "\n") + "\nmosquitto:\n" + strings.Join(mosq, "\n")
}

// username is what a client sends: the broker sees "device" both ways (the plugin strips the
// credentials from the username, mqtt.stripCredentialsFromUsername).
func (st *confStack) username(l leg, token string) string {
	if !l.gateway {
		return "device"
	}
	st.sigMu.Lock()
	sig, ok := st.sigs[token]
	if !ok {
		sig = gatewaytest.SignWith(st.key, token)
		st.sigs[token] = sig
	}
	st.sigMu.Unlock()
	return gatewaytest.Username("device", authorizer, tokenKey, token, sig)
}

// leg is where a run's clients connect.
type leg struct{ gateway, wss bool }

func (l leg) String() string {
	switch {
	case l.gateway && l.wss:
		return "gateway over WSS"
	case l.gateway:
		return "gateway over TLS"
	case l.wss:
		return "mosquitto over WebSocket"
	}
	return "mosquitto over TCP"
}

func (l leg) short() string {
	return map[leg]string{{false, false}: "tcp", {false, true}: "ws", {true, false}: "tls", {true, true}: "wss"}[l]
}

func (st *confStack) dial(l leg) (net.Conn, error) {
	const timeout = 5 * time.Second
	switch {
	case l.gateway && l.wss:
		return paho3.NewWebsocket("wss://"+st.gateway+"/mqtt", &tls.Config{RootCAs: st.pool, ServerName: "localhost"}, timeout, nil, nil)
	case l.gateway:
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", st.gateway,
			&tls.Config{RootCAs: st.pool, ServerName: "localhost", NextProtos: []string{"mqtt"}})
	case l.wss:
		return paho3.NewWebsocket("ws://"+st.brokerWS+"/mqtt", nil, timeout, nil, nil)
	}
	return net.DialTimeout("tcp", st.broker, timeout)
}

// ---- one run ----

// transcript is what one run's clients received: per client, in the order the scenario first
// names them, one line per packet ("name: PUBACK pid=1 reason=0x00 props[]"), normalized
// (normalize). A step that could not complete ends the run with a line "!! step N …".
type transcript struct {
	leg      leg
	idPrefix string
	lines    []string
	err      string
}

func (tr *transcript) String() string {
	return "  " + strings.Join(tr.lines, "\n  ")
}

// run is one scenario on one leg.
type run struct {
	st      *confStack
	leg     leg
	version byte
	token   string
	prefix  string // every topic of the run is below it
	idp     string // every client id of the run starts with it
	clients map[string]*cclient
	order   []string
	frozen  bool // the transcript is complete: the teardown records nothing
	mu      sync.Mutex
}

func (st *confStack) run(sc *scenario, l leg, token string) *transcript {
	name := strings.ToLower(sc.name)
	r := &run{st: st, leg: l, version: sc.version, token: token,
		prefix: "cf/" + l.short() + "/" + name, idp: "cf-" + l.short() + "-" + name + "-",
		clients: map[string]*cclient{}}
	tr := &transcript{leg: l, idPrefix: r.idp}
	for i, s := range sc.steps {
		if err := s.do(r); err != nil {
			tr.err = fmt.Sprintf("!! step %d %s: %v", i+1, stepName(s), err)
			break
		}
	}
	if tr.err == "" {
		// The final barrier: a PINGREQ round trip on every open connection, twice. The first
		// round makes sure the broker has taken in everything each client published (it answers
		// a connection's packets in order); the second, that it has sent every client what it
		// routed to it before. Whatever a client should not receive and did shows up here.
		for round := 0; round < 2 && tr.err == ""; round++ {
			for _, n := range r.order {
				if c := r.clients[n]; c.isUp() {
					if err := c.ping(); err != nil && c.isUp() {
						tr.err = fmt.Sprintf("!! final barrier: %s: %v", n, err)
						break
					}
				}
			}
		}
	}
	r.mu.Lock()
	r.frozen = true
	r.mu.Unlock()
	for _, n := range r.order {
		c := r.clients[n]
		c.mu.Lock()
		tr.lines = append(tr.lines, c.lines...)
		c.mu.Unlock()
		c.teardown()
	}
	if tr.err != "" {
		tr.lines = append(tr.lines, tr.err)
	}
	return tr
}

func stepName(s step) string {
	return strings.TrimPrefix(fmt.Sprintf("%T%+v", s, s), "e2e.")
}

// topic places a scenario's topic (or filter, or $share/GROUP/filter) below the run's prefix.
func (r *run) topic(t string) string {
	if strings.HasPrefix(t, "$share/") {
		p := strings.SplitN(t, "/", 3)
		if len(p) == 3 {
			return p[0] + "/" + p[1] + "/" + r.prefix + "/" + p[2]
		}
	}
	return r.prefix + "/" + t
}

// client returns the scenario's client name, creating it on first use.
func (r *run) client(name string) *cclient {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clients[name]
	if !ok {
		c = &cclient{r: r, name: name, changed: make(chan struct{})}
		r.clients[name] = c
		r.order = append(r.order, name)
	}
	return c
}

// normalize removes what legitimately differs between two runs: the topic prefix ("~") and the
// client id prefix ("<id>") of the run. (Property values that differ run to run are normalized
// where they are formatted: see formatProps.)
func (r *run) normalize(line string) string {
	line = strings.ReplaceAll(line, r.prefix, "~")
	return strings.ReplaceAll(line, r.idp, "<id>")
}

// ---- a client ----

// cclient is one client of a scenario, across its connections.
type cclient struct {
	r    *run
	name string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every event
	lines   []string
	pubs    []rxPacket // every PUBLISH received
	pongs   int
	handled int // PUBLISHes the client library has handed over
	held    []*paho5.Publish
	heldIDs []uint16

	conn    *tapConn
	up      bool
	closing bool // this side is closing the connection
	hold    bool // manual acknowledgement
	v5      *paho5.Client
	v3      paho3.Client
}

func (c *cclient) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *cclient) record(tc *tapConn, p rxPacket) {
	c.r.mu.Lock()
	frozen := c.r.frozen
	c.r.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc != c.conn {
		return
	}
	switch p.typ {
	case 13:
		// PINGRESP: keep-alive and the barriers' own; which of them a client sees depends on
		// timing, not on the broker or the proxy.
		c.pongs++
	case 3:
		c.pubs = append(c.pubs, p)
		if c.hold && p.qos == 1 {
			c.heldIDs = append(c.heldIDs, p.pid)
		}
		fallthrough
	default:
		if !frozen {
			c.lines = append(c.lines, c.name+": "+c.r.normalize(p.line))
		}
	}
	c.notifyLocked()
}

func (c *cclient) ended(tc *tapConn) {
	c.r.mu.Lock()
	frozen := c.r.frozen
	c.r.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc != c.conn || !c.up {
		return
	}
	c.up = false
	if !c.closing && !frozen {
		c.lines = append(c.lines, c.name+": closed")
	}
	c.notifyLocked()
}

func (c *cclient) isUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

// serverClosed reports whether the other side closed the current connection.
func (c *cclient) serverClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.up && !c.closing
}

// waitFor waits until cond (called with c.mu held) holds, or the connection is closed by the
// other side, or timeout.
func (c *cclient) waitFor(timeout time.Duration, what string, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok, up, ch := cond(), c.up, c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		if !up {
			return fmt.Errorf("%s: the connection is closed", what)
		}
		select {
		case <-ch:
		case <-deadline.C:
			return fmt.Errorf("%s: not within %v", what, timeout)
		}
	}
}

// ping is a barrier: a PINGREQ, and its PINGRESP, which the broker sends after everything it
// queued for this connection before.
func (c *cclient) ping() error {
	c.mu.Lock()
	n, tc := c.pongs, c.conn
	c.mu.Unlock()
	if err := tc.writeRaw([]byte{0xc0, 0}); err != nil {
		// The other side is closing the connection: wait until the pump sees it.
		c.waitFor(confWait, "the close after a failed write", func() bool { return false })
		return err
	}
	return c.waitFor(confWait, "PINGRESP", func() bool { return c.pongs > n })
}

// noPinger is Paho 5's keep-alive turned off: its own pinger sends a PINGREQ at once after the
// CONNACK, from its own goroutine, which would race the barriers (and the scenarios' DISCONNECTs,
// see DisconnectThenStrayBytes). The keep-alive of 60 s never falls inside a scenario.
type noPinger struct{}

func (noPinger) Run(context.Context, net.Conn, uint16) error { return nil }
func (noPinger) PacketSent()                                 {}
func (noPinger) PacketReceived()                             {}
func (noPinger) PingResp()                                   {}
func (noPinger) SetDebug(paholog.Logger)                     {}

// confWait bounds every wait for the broker.
const confWait = 8 * time.Second

func (c *cclient) onPublish(p paho5.PublishReceived) (bool, error) {
	c.mu.Lock()
	c.handled++
	if c.hold && p.Packet.QoS > 0 {
		c.held = append(c.held, p.Packet)
	}
	c.notifyLocked()
	c.mu.Unlock()
	return true, nil
}

func (c *cclient) teardown() {
	c.mu.Lock()
	c.closing = true
	tc := c.conn
	c.mu.Unlock()
	if tc != nil {
		tc.closeNet()
	}
}

// stop marks c's connection as closed by this side, then closes it.
func (c *cclient) stop() {
	c.mu.Lock()
	c.closing, c.up = true, false
	tc := c.conn
	c.notifyLocked()
	c.mu.Unlock()
	tc.closeNet()
}

// call runs op, a client library call that waits for the broker's answer, and returns its
// error; or nil as soon as the other side closes the connection (the transcript shows how).
func (c *cclient) call(op func() error) error {
	done := make(chan error, 1)
	go func() { done <- op() }()
	for {
		c.mu.Lock()
		closedByPeer, ch := !c.up && !c.closing, c.changed
		c.mu.Unlock()
		if closedByPeer {
			return nil
		}
		select {
		case err := <-done:
			if err != nil && c.serverClosed() {
				return nil
			}
			return err
		case <-ch:
		}
	}
}

// connect opens a new connection for c (its previous one must be closed).
func (c *cclient) connect(s conn) error {
	r := c.r
	nc, err := r.st.dial(r.leg)
	if err != nil {
		return fmt.Errorf("dial: %v", err)
	}
	var tc *tapConn
	c.mu.Lock()
	tc = newTapConn(nc, r.version, func(p rxPacket) { c.record(tc, p) }, func() { c.ended(tc) })
	c.conn, c.up, c.closing, c.hold = tc, true, false, s.hold
	c.held, c.heldIDs = nil, nil
	c.mu.Unlock()

	id := r.idp + c.name
	if s.id != "" {
		id = r.idp + s.id
	}
	if s.emptyID {
		id = ""
	}
	keepAlive := s.keepAlive
	if keepAlive == 0 {
		keepAlive = 60
	}
	user := r.st.username(r.leg, r.token)
	if r.version == 4 {
		return c.connect3(s, tc, id, user, keepAlive)
	}
	cl := paho5.NewClient(paho5.ClientConfig{
		ClientID:                   id,
		Conn:                       tc,
		PacketTimeout:              confWait,
		OnPublishReceived:          []func(paho5.PublishReceived) (bool, error){c.onPublish},
		OnClientError:              func(error) {},
		OnServerDisconnect:         func(*paho5.Disconnect) {},
		EnableManualAcknowledgment: s.hold,
		PingHandler:                noPinger{},
	})
	cp := &paho5.Connect{ClientID: id, KeepAlive: keepAlive, CleanStart: s.clean, Username: user, UsernameFlag: true,
		Properties: s.props}
	if s.will != nil {
		w := *s.will
		w.Topic = r.topic(w.Topic)
		cp.WillMessage = &w
		if s.willProps != nil {
			wp := *s.willProps
			if wp.ResponseTopic != "" {
				wp.ResponseTopic = r.topic(wp.ResponseTopic)
			}
			cp.WillProperties = &wp
		}
	}
	c.mu.Lock()
	c.v5 = cl
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), confWait)
	defer cancel()
	return c.call(func() error {
		if ca, err := cl.Connect(ctx, cp); err != nil && ca == nil {
			return fmt.Errorf("CONNECT: %v", err)
		}
		return nil
	})
}

func (c *cclient) connect3(s conn, tc *tapConn, id, user string, keepAlive uint16) error {
	opts := paho3.NewClientOptions().AddBroker("tcp://tapconn").SetClientID(id).SetUsername(user).
		SetCleanSession(s.clean).SetKeepAlive(time.Duration(keepAlive) * time.Second).SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(confWait).SetWriteTimeout(confWait).
		SetOrderMatters(true).SetResumeSubs(false).
		SetCustomOpenConnectionFn(func(*url.URL, paho3.ClientOptions) (net.Conn, error) { return tc, nil }).
		SetDefaultPublishHandler(func(paho3.Client, paho3.Message) {})
	if s.will != nil {
		opts.SetBinaryWill(c.r.topic(s.will.Topic), s.will.Payload, s.will.QoS, s.will.Retain)
	}
	cl := paho3.NewClient(opts)
	c.mu.Lock()
	c.v3 = cl
	c.mu.Unlock()
	tok := cl.Connect()
	return c.call(func() error {
		if !tok.WaitTimeout(confWait) {
			return fmt.Errorf("CONNECT: no CONNACK within %v", confWait)
		}
		if err := tok.Error(); err != nil {
			// Paho 3 reports a refused CONNECT as an error; the CONNACK is in the transcript.
			if strings.Contains(err.Error(), "refused") {
				return nil
			}
			return fmt.Errorf("CONNECT: %v", err)
		}
		return nil
	})
}

// ---- comparing ----

// change is one expected difference of the gateway's transcript from mosquitto's: the first
// line equal to from (not yet changed) becomes to; to may hold several lines ("\n") or none
// (""). only, when set, limits it to one transport ("TLS" or "WSS").
type change struct{ only, from, to string }

func applyChanges(lines []string, changes []change, tr string) ([]string, error) {
	out := append([]string(nil), lines...)
	done := make([]bool, len(out))
	for _, ch := range changes {
		if ch.only != "" && ch.only != tr {
			continue
		}
		i := 0
		for ; i < len(out); i++ {
			if !done[i] && out[i] == ch.from {
				break
			}
		}
		if i == len(out) {
			return nil, fmt.Errorf("no line %q", ch.from)
		}
		var repl []string
		if ch.to != "" {
			repl = strings.Split(ch.to, "\n")
		}
		out = append(out[:i], append(repl, out[i+1:]...)...)
		d := make([]bool, len(repl))
		for k := range d {
			d[k] = true
		}
		done = append(done[:i], append(d, done[i+1:]...)...)
	}
	return out, nil
}

// diffLines is a line diff of want (-) and got (+), with the common lines as context; "" when
// they are equal.
func diffLines(want, got []string) string {
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	same := true
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			b.WriteString("    " + want[i] + "\n")
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			b.WriteString("  + " + got[j] + "\n")
			j, same = j+1, false
		default:
			b.WriteString("  - " + want[i] + "\n")
			i, same = i+1, false
		}
	}
	if same {
		return ""
	}
	return b.String()
}
