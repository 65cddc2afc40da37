package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/syncbuf"
	"github.com/iotauthz/iotauthz/refauth"
)

// TestSecurity is issue 10, sections 1–3, end to end: the Will is authorized at CONNECT, the
// CONNECT's condition keys resolve, and the credentials stay at the proxy. It runs its own stack
// (a mosquitto, a reference authorizer with the rules below, and gateways) so that a watcher
// subscribed to '#' sees only this test's traffic and the rules of TestEmbedded stay untouched;
// section 3 runs against mochi-mqtt with recorders in front of it, because mosquitto does not log
// what it receives.
func TestSecurity(t *testing.T) {
	st := newSecStack(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *secStack)
	}{
		{"Will", secWill},
		{"WillEnds", secWillEnds},
		{"ConnectKeys", secConnectKeys},
		{"Credentials", secCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, st)
		})
	}
}

const secARN = "arn:aws:iot:us-east-1:123456789012:"

// secRules: tokens are KIND-ID. "connectonly" may connect and nothing else; "will" may also
// publish (retained too), subscribe and receive under devices/ID/; "revoke" is "will" refreshed
// after 1 s into "connectonly"; the others add one condition key to the CONNECT of "will";
// "updevice" with its password is the userpass authorizer's device.
const secRules = `{
  "rules": [
    {"name": "connectonly", "match": {"tokenPrefix": "connectonly-"}, "isAuthenticated": true, "principalId": "connectonly",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [CONNECT]}]},
    {"name": "will", "match": {"tokenPrefix": "will-"}, "isAuthenticated": true, "principalId": "will",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [CONNECT, DEVICE]}]},
    {"name": "attrs", "match": {"tokenPrefix": "attrs-"}, "isAuthenticated": true, "principalId": "attrs",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/*",
        "Condition": {"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}}}, DEVICE]}]},
    {"name": "lwt", "match": {"tokenPrefix": "lwt-"}, "isAuthenticated": true, "principalId": "lwt",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/*",
        "Condition": {"ArnEquals": {"iot:LastWillTopic": "arn:aws:iot:us-east-1:123456789012:topic/devices/{{tokenSuffix}}/will"}}}, DEVICE]}]},
    {"name": "domain", "match": {"tokenPrefix": "domain-"}, "isAuthenticated": true, "principalId": "domain",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/*",
        "Condition": {"StringEquals": {"iot:DomainName": "localhost"}}}, DEVICE]}]},
    {"name": "otherdomain", "match": {"tokenPrefix": "otherdomain-"}, "isAuthenticated": true, "principalId": "otherdomain",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/*",
        "Condition": {"StringEquals": {"iot:DomainName": "iot.example.com"}}}, DEVICE]}]},
    {"name": "userpass", "match": {"username": "updevice", "password": "pw-SECRET-userpass"}, "isAuthenticated": true, "principalId": "updevice",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [CONNECT,
       {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:123456789012:topic/devices/*"},
       {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/devices/*"}]}]},
    {"name": "revoked", "match": {"tokenPrefix": "revoke-", "fromHit": 2}, "isAuthenticated": true, "principalId": "revoked",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [CONNECT]}]},
    {"name": "revoke", "match": {"tokenPrefix": "revoke-"}, "isAuthenticated": true, "principalId": "revoke", "refreshAfterInSeconds": 1,
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [CONNECT, DEVICE]}]},
    {"name": "cred", "match": {"tokenPrefix": "cred-"}, "isAuthenticated": true, "principalId": "cred",
     "policyDocuments": [{"Version": "2012-10-17", "Statement": [CONNECT, DEVICE]}]}
  ],
  "default": {"isAuthenticated": false, "principalId": "denied"}
}`

const (
	secConnect = `{"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/*"}`
	secDevice  = `{"Effect": "Allow", "Action": ["iot:Publish", "iot:RetainPublish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:123456789012:topic/devices/{{tokenSuffix}}/*"},
       {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/devices/{{tokenSuffix}}/*"}`
)

// secStack is TestSecurity's own stack.
type secStack struct {
	env                       // the gateway in front of mosquitto, denyAction disconnect
	mosqOut   *syncbuf.Buffer // mosquitto's log (connection_messages: " as CLIENTID (" per CONNECT)
	mosqWS    string          // mosquitto's WebSocket listener, ws://…/mqtt
	log       *secLog         // every gateway's and the authorizer's lines
	credOff   string          // gateway (default mqtt options) in front of mochi, localhost:PORT
	credOn    string          // the same with mqtt.forwardPassword true
	mochi     *secMochi       // what mochi received
	recTCP    *recorder       // the bytes the two cred gateways sent to mochi's TCP listener
	recWS     *recorder       // ... to mochi's WebSocket listener
	recHTTP   *httpRecorder   // the HTTPS publishes the two cred gateways let through
	signing   []byte          // the token-signing public key (PEM)
	tlsConfig *tls.Config     // the gateways' certificate
	clusters  map[string]string
}

// secLog keeps the plugin's decision lines (parsed) and every line as text.
type secLog struct {
	mu        sync.Mutex
	text      bytes.Buffer
	decisions []secDecision
}

type secDecision struct {
	gateway string
	fields  map[string]any
}

func (l *secLog) add(gw string, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.text, "%s %s %s\n", time.Now().UTC().Format("15:04:05.000"), gw, line)
	var f map[string]any
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &f) == nil && f["eventType"] != nil {
		l.decisions = append(l.decisions, secDecision{gw, f})
	}
}

// findReason returns the first decision line of gateway gw for clientID with this reason.
func (l *secLog) findReason(gw, clientID, reason string) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.decisions {
		if d.gateway == gw && d.fields["clientId"] == clientID && d.fields["reason"] == reason {
			return d.fields
		}
	}
	return nil
}

// find returns the first decision line of gateway gw for clientID whose eventType and status are
// the given ones.
func (l *secLog) find(gw, clientID, eventType, status string) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.decisions {
		f := d.fields
		if d.gateway == gw && f["clientId"] == clientID && f["eventType"] == eventType && f["status"] == status {
			return f
		}
	}
	return nil
}

func (l *secLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

func newSecStack(t *testing.T) *secStack {
	t.Helper()
	embeddedOnly(t, "embedded target only")
	checkMosquitto(t, true)
	wasm := pluginWasm(t)
	dir := t.TempDir()
	st := &secStack{log: &secLog{}}
	st.logs = func() string {
		out := "---- TestSecurity gateways and authorizer ----\n" + st.log.String()
		if st.mosqOut != nil {
			out += "---- TestSecurity mosquitto ----\n" + st.mosqOut.String()
		}
		return out
	}

	pki, err := gatewaytest.NewPKI("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if st.caFile, _, _, err = pki.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	st.pool = pki.Pool
	st.tlsConfig = pki.ServerTLS()
	sk, err := gatewaytest.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	st.key, st.signing = sk.Key, sk.PublicPEM

	var mosqWS string
	st.broker, mosqWS, st.mosqOut = startMosquitto(t, dir, "")
	st.mosqWS = "ws://" + mosqWS + "/mqtt"

	rules := strings.NewReplacer("CONNECT", secConnect, "DEVICE", secDevice).Replace(secRules)
	auth := refauth.New(refauth.MustParse(rules))
	auth.Admin = true
	auth.Log = func(line string) { st.log.add("authorizer", line) }
	as := httptest.NewServer(auth)
	t.Cleanup(as.Close)
	st.authorizer = as.URL
	closed, err := gatewaytest.FreeAddr() // the "unreachable" authorizer's cluster
	if err != nil {
		t.Fatal(err)
	}
	st.clusters = map[string]string{"authorizer": as.URL, "unreachable": "http://" + closed}

	st.addr = st.gateway(t, wasm, "mosquitto", nil, "tcp://"+st.broker, st.mosqWS, "")

	// Section 3: mochi-mqtt, which shows the decoded CONNECT to a hook, behind two recorders.
	st.mochi = startSecMochi(t)
	st.recTCP = newRecorder(t, st.mochi.tcpAddr)
	st.recWS = newRecorder(t, st.mochi.wsAddr)
	brokerWS := "ws://" + st.recWS.addr() + "/mqtt"
	st.recHTTP = &httpRecorder{}
	hs := httptest.NewServer(st.recHTTP)
	t.Cleanup(hs.Close)
	st.credOff = st.gateway(t, wasm, "credOff", nil, "tcp://"+st.recTCP.addr(), brokerWS, hs.URL)
	st.credOn = st.gateway(t, wasm, "credOn", map[string]any{"forwardPassword": true}, "tcp://"+st.recTCP.addr(), brokerWS, hs.URL)
	return st
}

// gateway starts an embedded gateway with e2e's plugin configuration (denyAction disconnect),
// mqtt fields overridden by mqttOverride, and returns its data endpoint, "localhost:PORT".
func (st *secStack) gateway(t *testing.T, wasm []byte, name string, mqttOverride map[string]any, broker, brokerWS, httpUpstream string) string {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(pluginConfig(st.signing, "disconnect"), &cfg); err != nil {
		t.Fatal(err)
	}
	m := cfg["mqtt"].(map[string]any)
	for k, v := range mqttOverride {
		m[k] = v
	}
	pc, _ := json.Marshal(cfg)
	return serveGateway(t, name, gateway.Config{
		Module:       wasm,
		PluginConfig: pc,
		Workers:      1,
		Clusters:     st.clusters,
		TLS:          st.tlsConfig.Clone(),
		Broker:       broker,
		BrokerWS:     brokerWS,
		HTTPUpstream: httpUpstream,
		LogLevel:     host.LogDebug,
		LogSink:      func(e host.LogEntry) { st.log.add(name, e.Message) },
		Logf:         func(f string, a ...any) { st.log.add(name, fmt.Sprintf(f, a...)) },
	})
}

// brokerSaw reports whether mosquitto logged a CONNECT from clientID ("New client connected from
// … as CLIENTID (p2, c1, k60).").
func (st *secStack) brokerSaw(clientID string) bool {
	return strings.Contains(st.mosqOut.String(), " as "+clientID+" (")
}

// ---- section 1: the Will ----

// secWill: a device allowed only iot:Connect cannot leave a (retained) Will on a topic it may not
// publish, over TLS (mosquitto_sub) and WSS (Paho for 3.1.1, a minimal WebSocket client for 5):
// the CONNECT is refused, the broker never sees it, a watcher on '#' receives nothing and no
// retained message is left. A device allowed to publish its Will topic still gets its Will
// published when it vanishes.
func secWill(t *testing.T, st *secStack) {
	type variant struct {
		name    string
		version byte   // 4 (3.1.1) or 5
		client  string // "mosquitto_sub", "paho" or "raw"
	}
	denied := []variant{
		{"TLS311", 4, "mosquitto_sub"}, {"TLS5", 5, "mosquitto_sub"},
		{"WSS311", 4, "paho"}, {"WSS5", 5, "raw"},
	}
	for _, v := range denied {
		t.Run("Denied"+v.name, func(t *testing.T) {
			t.Parallel()
			s := &sc{T: t, e: &st.env, id: "willdeny" + strings.ToLower(v.name)}
			tok := s.token("connectonly")
			willTopic, willPayload := "devices/"+s.id+"/secret/status", "will-"+s.id
			watch := s.direct("watch-" + s.id)
			s.mustSubscribe(watch, "#")

			// The same device without a Will connects: the refusal below is the Will's.
			s.mustDial(connOpts{clientID: "ctl-" + s.id, wss: v.client != "mosquitto_sub"}, tok)

			cid := "c-" + s.id
			switch v.client {
			case "mosquitto_sub":
				m := st.mosquittoSubLB(s, st.addr, cid, s.username(tok), append(mqttVersion(v.version),
					"-t", s.topic("sub"), "--will-topic", willTopic, "--will-payload", willPayload, "--will-retain", "--will-qos", "1")...)
				st.waitWillDenied(s, "mosquitto", cid, willTopic)
				s.eventually(10*time.Second, func() bool { return notAuthorizedConnack(m.output()) },
					"mosquitto_sub with a forbidden Will got no CONNACK not authorized:\n%s", m.output())
				out := m.stop()
				if !strings.Contains(out, "sending CONNECT") || !notAuthorizedConnack(out) {
					s.fatalf("mosquitto_sub with a forbidden Will: want CONNECT sent and CONNACK not authorized; it printed:\n%s", out)
				}
			case "paho":
				_, err := dialPaho(s, connOpts{clientID: cid, wss: true, username: s.username(tok)}, func(o *paho.ClientOptions) {
					o.SetBinaryWill(willTopic, []byte(willPayload), 1, true)
				})
				if err == nil {
					s.fatalf("Paho over WSS connected with a Will on a forbidden topic")
				}
				st.waitWillDenied(s, "mosquitto", cid, willTopic)
			case "raw":
				c := s.wsDial(st.addr, nil, "")
				_, _ = c.Write(connectSpec{version: v.version, clientID: cid, username: s.username(tok), clean: true,
					willTopic: willTopic, willPayload: willPayload, willRetain: true, willQoS: 1}.packet())
				if typ, body, err := c.readPacket(10 * time.Second); err != nil || typ != 0x20 || !bytes.Equal(body, []byte{0x00, 0x87, 0x00}) {
					s.fatalf("MQTT 5 over WSS with a forbidden Will: got packet %#x %x (%v), want CONNACK 0x87", typ, body, err)
				}
				if typ, body, err := c.readPacket(10 * time.Second); err == nil {
					s.fatalf("MQTT 5 over WSS with a forbidden Will: got packet %#x %x after the CONNACK, want the connection closed", typ, body)
				}
				st.waitWillDenied(s, "mosquitto", cid, willTopic)
			}
			if st.brokerSaw(cid) {
				s.fatalf("mosquitto received the CONNECT of %s (with its forbidden Will)", cid)
			}
			// Nothing reached the watcher: a sentinel published after the refusal arrives first.
			s.mustPublish(watch, s.topic("sentinel"), 1, "after")
			secReceiveOnly(s, watch, s.topic("sentinel")+" after", willTopic, willPayload)
			// No retained message on the Will topic: a new subscriber gets the sentinel first.
			secNoRetained(s, willTopic)
		})
	}

	// The allowed path: the device may publish (and retain) its Will topic; killed without a
	// DISCONNECT, its Will is published, and kept.
	allowed := []struct {
		name    string
		version byte
		wss     bool
	}{{"TLS311", 4, false}, {"TLS5", 5, false}, {"WSS311", 4, true}, {"WSS5", 5, true}}
	for _, v := range allowed {
		t.Run("Allowed"+v.name, func(t *testing.T) {
			t.Parallel()
			s := &sc{T: t, e: &st.env, id: "willok" + strings.ToLower(v.name)}
			tok := s.token("will")
			willTopic, willPayload := s.topic("will"), "gone-"+s.id
			watch := s.direct("watch-" + s.id)
			s.mustSubscribe(watch, s.topic("#"))
			cid := "c-" + s.id
			if v.wss {
				c := s.rawDial(st.addr, true)
				c.connack(s, connectSpec{version: v.version, clientID: cid, username: s.username(tok), clean: true,
					willTopic: willTopic, willPayload: willPayload, willRetain: true, willQoS: 1})
				c.reset() // abruptly: no DISCONNECT, no WebSocket close, a TCP reset
			} else {
				m := st.mosquittoSubLB(s, st.addr, cid, s.username(tok), append(mqttVersion(v.version),
					"-t", s.topic("sub"), "--will-topic", willTopic, "--will-payload", willPayload, "--will-retain", "--will-qos", "1")...)
				s.eventually(10*time.Second, func() bool { return st.brokerSaw(cid) }, "mosquitto never saw the CONNECT of %s", cid)
				m.kill()
			}
			s.receive(watch, willTopic+" "+willPayload)
			// Retained: a later subscriber gets it.
			later := s.direct("later-" + s.id)
			s.mustSubscribe(later, willTopic)
			s.receive(later, willTopic+" "+willPayload)
		})
	}
}

// secWillEnds: a Will the broker holds must not be published when the session ends normally:
// after the device's own DISCONNECT, and after a refresh whose policy no longer allows the Will
// (the plugin turns the device's next bytes, here a PINGREQ, into a DISCONNECT to the broker and
// closes). Over TLS and WSS, MQTT 3.1.1 and 5, with hand-written packets (a PINGREQ on demand).
func secWillEnds(t *testing.T, st *secStack) {
	for _, how := range []string{"Disconnect", "Revoked"} {
		for _, v := range []struct {
			name    string
			version byte
			wss     bool
		}{{"TLS311", 4, false}, {"TLS5", 5, false}, {"WSS311", 4, true}, {"WSS5", 5, true}} {
			t.Run(how+v.name, func(t *testing.T) {
				t.Parallel()
				s := &sc{T: t, e: &st.env, id: "will" + strings.ToLower(how+v.name)}
				tok := s.token("will")
				if how == "Revoked" {
					tok = s.token("revoke")
				}
				willTopic, willPayload := s.topic("will"), "gone-"+s.id
				watch := s.direct("watch-" + s.id)
				s.mustSubscribe(watch, "#")
				cid := "c-" + s.id
				c := s.rawDial(st.addr, v.wss)
				c.connack(s, connectSpec{version: v.version, clientID: cid, username: s.username(tok), clean: true,
					willTopic: willTopic, willPayload: willPayload, willRetain: true, willQoS: 1})
				if how == "Disconnect" {
					if _, err := c.Write([]byte{0xe0, 0}); err != nil {
						s.fatalf("write DISCONNECT: %v", err)
					}
					c.conn.Close()
				} else {
					s.eventually(15*time.Second, func() bool { return s.hits(tok) >= 2 }, "no refresh for %s", tok)
					// The refresh's answer may still be on its way: ping until the gateway ends it.
					deadline := time.Now().Add(10 * time.Second)
					for {
						if time.Now().After(deadline) {
							s.fatalf("the connection is still open 10s after the refresh that revoked its Will")
						}
						if _, err := c.Write([]byte{0xc0, 0}); err != nil {
							break
						}
						typ, _, err := c.readPacket(2 * time.Second)
						if err != nil {
							var ne net.Error
							if errors.As(err, &ne) && ne.Timeout() {
								continue
							}
							break // closed
						}
						if typ != 0xd0 {
							s.fatalf("answer to PINGREQ: %#x", typ)
						}
						time.Sleep(50 * time.Millisecond)
					}
					if f := st.log.findReason("mosquitto", cid, "REFRESH_FAILED"); f == nil {
						s.fatalf("no REFRESH_FAILED line for %s", cid)
					}
				}
				// mosquitto logs "Client ID disconnected." for a DISCONNECT, "closed its
				// connection." without one (and then publishes the Will).
				s.eventually(10*time.Second, func() bool {
					out := st.mosqOut.String()
					return strings.Contains(out, "Client "+cid+" disconnected.") || strings.Contains(out, "Client "+cid+" closed its connection.")
				}, "mosquitto did not log the end of %s", cid)
				if !strings.Contains(st.mosqOut.String(), "Client "+cid+" disconnected.") {
					s.fatalf("mosquitto did not receive a DISCONNECT from %s: it will publish the Will", cid)
				}
				s.mustPublish(watch, s.topic("sentinel"), 1, "after")
				secReceiveOnly(s, watch, s.topic("sentinel")+" after", willTopic, willPayload)
				secNoRetained(s, willTopic)
			})
		}
	}
}

// waitWillDenied waits for the Connect failure of clientID whose details name the Will and its
// topic.
func (st *secStack) waitWillDenied(s *sc, gw, clientID, willTopic string) {
	s.Helper()
	var f map[string]any
	s.eventually(15*time.Second, func() bool {
		if st.brokerSaw(clientID) {
			s.fatalf("mosquitto received the CONNECT of %s, with its Will on a forbidden topic", clientID)
		}
		f = st.log.find(gw, clientID, "Connect", "Failure")
		return f != nil
	}, "no Connect failure logged for %s", clientID)
	d, _ := f["details"].(string)
	if !strings.HasPrefix(d, "Will message:") || !strings.Contains(d, "topic/"+willTopic) {
		s.fatalf("Connect failure of %s: details %q, want the Will message and its topic", clientID, d)
	}
}

// secReceiveOnly requires the next message on c to be want, and fails on any message on topic or
// with payload before it (messages of other tests are skipped).
func secReceiveOnly(s *sc, c *mqttClient, want, topic, payload string) {
	s.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-c.msgs:
			if got == want {
				return
			}
			t, p, _ := strings.Cut(got, " ")
			if t == topic || p == payload || strings.HasPrefix(t, "devices/"+s.id+"/") {
				s.fatalf("the broker published %q", got)
			}
		case <-deadline:
			s.fatalf("the sentinel %q did not arrive within 10s", want)
		}
	}
}

// secNoRetained: a new subscriber to topic gets a sentinel published after its SUBACK first, so
// the broker retains nothing there (retained messages are sent before later publishes).
func secNoRetained(s *sc, topic string) {
	s.Helper()
	c := s.direct("retained-" + s.id)
	s.mustSubscribe(c, topic)
	s.mustPublish(c, topic, 1, "sentinel-"+s.id)
	s.receive(c, topic+" sentinel-"+s.id)
}

// ---- section 2: the CONNECT's condition keys ----

// secConnectKeys: AWS's "default features only" policy (iot:ConnectAttributes is the empty list
// under ForAllValues:StringEquals) lets a clean CONNECT without a Will in and refuses a persistent
// session or a Will, though the policy allows publishing that Will; iot:LastWillTopic and
// iot:DomainName decide too.
func secConnectKeys(t *testing.T, st *secStack) {
	cases := []struct {
		name    string
		kind    string // token prefix: the rule
		client  string // "paho" (TLS) / "pahows" (WSS) / "mosquitto_sub" (TLS) / "raw" (WSS)
		version byte
		clean   bool
		will    string // Will topic under devices/ID/, "" for none
		allow   bool
	}{
		{"AttrsPlainTLS", "attrs", "paho", 4, true, "", true},
		{"AttrsPlainWSS", "attrs", "pahows", 4, true, "", true},
		{"AttrsPlainTLS5", "attrs", "mosquitto_sub", 5, true, "", true},
		{"AttrsPersistentTLS", "attrs", "paho", 4, false, "", false},
		{"AttrsPersistentTLS5", "attrs", "mosquitto_sub", 5, false, "", false},
		{"AttrsPersistentWSS5", "attrs", "raw", 5, false, "", false},
		{"AttrsWillTLS311", "attrs", "mosquitto_sub", 4, true, "will", false},
		{"AttrsWillWSS5", "attrs", "raw", 5, true, "will", false},
		// The same CONNECTs under a policy without the condition: allowed.
		{"NoCondPersistentTLS5", "will", "mosquitto_sub", 5, false, "", true},
		{"NoCondWillWSS5", "will", "raw", 5, true, "will", true},
		{"LastWillTopicOwn", "lwt", "raw", 4, true, "will", true},
		{"LastWillTopicOther", "lwt", "raw", 4, true, "other", false},
		{"LastWillTopicNone", "lwt", "paho", 4, true, "", false},
		{"DomainName", "domain", "paho", 4, true, "", true},
		{"DomainNameOther", "otherdomain", "paho", 4, true, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := &sc{T: t, e: &st.env, id: "keys" + strings.ToLower(c.name)}
			tok := s.token(c.kind)
			cid := "c-" + s.id
			willTopic := ""
			if c.will != "" {
				willTopic = s.topic(c.will)
			}
			var connected bool
			switch c.client {
			case "paho", "pahows":
				_, err := dialPaho(s, connOpts{clientID: cid, wss: c.client == "pahows", username: s.username(tok)}, func(o *paho.ClientOptions) {
					o.SetCleanSession(c.clean)
					if willTopic != "" {
						o.SetWill(willTopic, "w", 1, false)
					}
				})
				connected = err == nil
			case "mosquitto_sub":
				args := append(mqttVersion(c.version), "-t", s.topic("sub"))
				if !c.clean {
					args = append(args, "-c")
				}
				if willTopic != "" {
					args = append(args, "--will-topic", willTopic, "--will-payload", "w")
				}
				m := st.mosquittoSubLB(s, st.addr, cid, s.username(tok), args...)
				var status string
				s.eventually(15*time.Second, func() bool {
					if st.log.find("mosquitto", cid, "Connect", "Success") != nil {
						status = "Success"
					} else if st.log.find("mosquitto", cid, "Connect", "Failure") != nil {
						status = "Failure"
					}
					return status != ""
				}, "no Connect decision logged for %s", cid)
				if status == "Success" {
					s.eventually(10*time.Second, func() bool { return strings.Contains(m.output(), "received CONNACK (0)") },
						"mosquitto_sub got no CONNACK:\n%s", m.output())
					connected = true
				} else {
					s.eventually(10*time.Second, func() bool { return notAuthorizedConnack(m.output()) },
						"mosquitto_sub got no CONNACK not authorized although the CONNECT was refused:\n%s", m.output())
				}
				m.stop()
			case "raw":
				ws := s.wsDial(st.addr, nil, "")
				_, _ = ws.Write(connectSpec{version: c.version, clientID: cid, username: s.username(tok), clean: c.clean,
					willTopic: willTopic, willPayload: "w", willQoS: 1}.packet())
				typ, body, err := ws.readPacket(10 * time.Second)
				connected = err == nil && typ == 0x20 && len(body) >= 2 && body[1] == 0
				refused := err == nil && typ == 0x20 && len(body) >= 2 && (body[1] == 5 || body[1] == 0x87)
				if !connected && !refused {
					s.fatalf("CONNECT answered %#x %x (%v), want CONNACK accepted or not authorized", typ, body, err)
				}
				ws.conn.Close()
			}
			if connected != c.allow {
				s.fatalf("connected: %v, want %v", connected, c.allow)
			}
			if !c.allow {
				f := st.log.find("mosquitto", cid, "Connect", "Failure")
				if f == nil {
					s.eventually(10*time.Second, func() bool { f = st.log.find("mosquitto", cid, "Connect", "Failure"); return f != nil },
						"no Connect failure logged for %s", cid)
				}
				// The refusal is the CONNECT's own (its condition), not the Will's iot:Publish.
				if d, _ := f["details"].(string); strings.HasPrefix(d, "Will message:") || !strings.Contains(d, "iot:Connect") {
					s.fatalf("Connect failure of %s: details %q, want the iot:Connect denial", cid, d)
				}
				if st.brokerSaw(cid) {
					s.fatalf("mosquitto received the refused CONNECT of %s", cid)
				}
			}
		})
	}
}

// ---- section 3: credentials stay at the proxy ----

// secCredentials: what a real broker (mochi-mqtt) receives from the gateway, for every place a
// device can put a credential: the CONNECT username's query keys and password (TLS and WSS, 3.1.1
// and 5), the WebSocket upgrade's headers and query string. With the default configuration
// neither the keys, the token, the signature nor the password arrive; with mqtt.forwardPassword
// the password does, and nothing else changes.
func secCredentials(t *testing.T, st *secStack) {
	for _, g := range []struct {
		name     string
		addr     string
		password bool // the broker receives the password
	}{{"Default", st.credOff, false}, {"ForwardPassword", st.credOn, true}} {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			s := &sc{T: t, e: &st.env, id: "cred" + strings.ToLower(g.name)}
			tok := s.token("cred")
			sig := s.sign(tok)
			secrets := []string{tok, sig, url.QueryEscape(sig), "x-amz-customauthorizer", tokenKey}
			type sent struct {
				clientID     string
				wantUsername string // what the broker must receive
				password     string // sent by the device; "" for none
				wss          bool
			}
			var all []sent
			pw := func(p string) string { secrets = append(secrets, p); return p }

			// TLS, 3.1.1 (Paho): the keys in the username with an extra key, and a password.
			c1 := sent{"tls311-" + s.id, "device?SDK=Go&Version=1", pw("pw-SECRET-tls311-" + s.id), false}
			u1 := s.username(tok) + "&SDK=Go&Version=1"
			mustPahoPassword(s, connOpts{addr: g.addr, clientID: c1.clientID, username: u1}, c1.password)
			all = append(all, c1)

			// TLS, MQTT 5 (mosquitto_pub): the keys in the username and a password.
			c2 := sent{"tls5-" + s.id, "device", pw("pw-SECRET-tls5-" + s.id), false}
			if out, err := s.mosquittoPub(g.addr, c2.clientID, s.username(tok), "-V", "mqttv5", "-P", c2.password,
				"-q", "1", "-t", s.topic("x"), "-m", "m"); err != nil {
				s.fatalf("mosquitto_pub: %v\n%s", err, out)
			}
			all = append(all, c2)

			// WSS, 3.1.1: the userpass authorizer (signing disabled: the password is the secret).
			c3 := sent{"wssup-" + s.id, "updevice", "pw-SECRET-userpass", true}
			secrets = append(secrets, c3.password)
			mustPahoPassword(s, connOpts{addr: g.addr, wss: true, clientID: c3.clientID,
				username: "updevice?x-amz-customauthorizer-name=userpass", headers: marker(c3.clientID)}, c3.password)
			all = append(all, c3)

			// WSS, the upgrade's headers carry the credentials; a plain username and a password.
			c4 := sent{"wsshdr-" + s.id, "plain", pw("pw-SECRET-wsshdr-" + s.id), true}
			h := marker(c4.clientID)
			h.Set("x-amz-customauthorizer-name", authorizer)
			h.Set("x-amz-customauthorizer-signature", sig)
			h.Set(tokenKey, tok)
			mustPahoPassword(s, connOpts{addr: g.addr, wss: true, clientID: c4.clientID, username: "plain", headers: h}, c4.password)
			all = append(all, c4)

			// WSS, MQTT 5: the upgrade's query string carries them (a minimal WebSocket client).
			c5 := sent{"wssq-" + s.id, "plain", pw("pw-SECRET-wssq-" + s.id), true}
			q := "?keep=1&x-amz-customauthorizer-name=" + authorizer + "&x-amz-customauthorizer-signature=" + url.QueryEscape(sig) +
				"&" + tokenKey + "=" + url.QueryEscape(tok) + "&also=2"
			ws := s.wsDial(g.addr, marker(c5.clientID), q)
			ws.connack(s, connectSpec{version: 5, clientID: c5.clientID, username: "plain", password: c5.password, hasPassword: true, clean: true})
			all = append(all, c5)

			// What mochi decoded from each CONNECT.
			for _, c := range all {
				var got *connectRecord
				s.eventually(10*time.Second, func() bool { got = st.mochi.find(c.clientID); return got != nil },
					"mochi received no CONNECT from %s", c.clientID)
				if got.username != c.wantUsername || !got.usernameFlag {
					s.fatalf("%s: the broker received username %q (flag %v), want %q", c.clientID, got.username, got.usernameFlag, c.wantUsername)
				}
				if g.password {
					if !got.passwordFlag || got.password != c.password {
						s.fatalf("%s: with mqtt.forwardPassword the broker received password %q (flag %v), want %q", c.clientID, got.password, got.passwordFlag, c.password)
					}
				} else if got.passwordFlag || got.password != "" {
					s.fatalf("%s: the broker received a password: %q (flag %v)", c.clientID, got.password, got.passwordFlag)
				}
			}

			// What reached the broker's TCP listener from the TLS devices: raw bytes, unmasked.
			raw := st.recTCP.containing(c1.clientID, c2.clientID)
			if len(raw) != 2 {
				s.fatalf("the TCP recorder saw %d streams with the TLS devices' CONNECTs, want 2", len(raw))
			}
			for _, b := range raw {
				for _, sec := range secrets {
					if sec == c1.password || sec == c2.password {
						if g.password {
							continue
						}
					}
					if bytes.Contains(b, []byte(sec)) {
						s.fatalf("the broker's TCP listener received %q:\n%q", sec, b)
					}
				}
			}

			// The upgrade requests that reached the broker's WebSocket listener.
			for _, c := range all {
				if !c.wss {
					continue
				}
				heads := st.recWS.heads(c.clientID)
				if len(heads) != 1 {
					s.fatalf("%s: the WebSocket recorder saw %d upgrade requests, want 1", c.clientID, len(heads))
				}
				head := heads[0]
				for _, sec := range secrets {
					if strings.Contains(strings.ToLower(head), strings.ToLower(sec)) {
						s.fatalf("%s: the broker's upgrade request carries %q:\n%s", c.clientID, sec, head)
					}
				}
				if c == c5 {
					req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head)))
					if err != nil {
						s.fatalf("%s: the recorded upgrade request: %v\n%s", c.clientID, err, head)
					}
					if got := req.URL.RawQuery; got != "keep=1&also=2" {
						s.fatalf("%s: the broker's upgrade query is %q, want the other parameters kept: keep=1&also=2", c.clientID, got)
					}
				}
			}

			// HTTPS publish, the credentials in the headers, then in the query: what the HTTP
			// upstream receives.
			for _, inQuery := range []bool{false, true} {
				name := "https-hdr-" + s.id
				target := "https://" + g.addr + "/topics/" + url.PathEscape(s.topic("http")) + "?qos=1&keep=1"
				h := marker(name)
				if inQuery {
					name = "https-query-" + s.id
					h = marker(name)
					target += "&x-amz-customauthorizer-name=" + authorizer + "&x-amz-customauthorizer-signature=" + url.QueryEscape(sig) +
						"&" + tokenKey + "=" + url.QueryEscape(tok)
				} else {
					h.Set("x-amz-customauthorizer-name", authorizer)
					h.Set("x-amz-customauthorizer-signature", sig)
					h.Set(tokenKey, tok)
				}
				req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader("22.5"))
				req.Header = h
				cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
					TLSClientConfig: &tls.Config{RootCAs: s.e.pool, ServerName: "localhost"}}}
				resp, err := cl.Do(req)
				if err != nil {
					s.fatalf("%s: %v", name, err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					s.fatalf("%s: %s", name, resp.Status)
				}
				got := st.recHTTP.find(name)
				if got == nil {
					s.fatalf("%s: the HTTP upstream received nothing", name)
				}
				if got.URL.RawQuery != "qos=1&keep=1" {
					s.fatalf("%s: the HTTP upstream's query is %q, want qos=1&keep=1", name, got.URL.RawQuery)
				}
				var head strings.Builder
				_ = got.Header.Write(&head)
				for _, sec := range secrets {
					if strings.Contains(strings.ToLower(head.String()), strings.ToLower(sec)) {
						s.fatalf("%s: the HTTP upstream received %q in the headers:\n%s", name, sec, head.String())
					}
				}
			}
		})
	}
}

// mustPahoPassword connects Paho (3.1.1) with a password, or fails the test.
func mustPahoPassword(s *sc, o connOpts, password string) {
	s.Helper()
	if _, err := dialPaho(s, o, func(p *paho.ClientOptions) { p.SetPassword(password) }); err != nil {
		s.fatalf("connect %s (%s) with a password: %v", o.clientID, o.addr, err)
	}
}

// marker is a header that names the device, so the recorder's upgrade requests can be told apart
// (and that shows other headers pass).
func marker(clientID string) http.Header {
	h := http.Header{}
	h.Set("x-e2e-client", clientID)
	return h
}

// notAuthorizedConnack: mosquitto_sub -d printed the CONNACK of a refused CONNECT, "not
// authorized" (3.1.1 return code 5, MQTT 5 reason 0x87 = 135), as AWS IoT Core answers.
func notAuthorizedConnack(out string) bool {
	return strings.Contains(out, "received CONNACK (5)") || strings.Contains(out, "received CONNACK (135)")
}
