// Package demostack runs what `iotauthz demo` runs, for tests that need the real plugin behind the
// gateway: the plugin built from ./plugin, the reference authorizer (package refauth) with the
// demo's rules, an embedded MQTT broker with its HTTPS-publish receiver, and the gateway with its
// admin listener. Traffic drives the demo's scenario over MQTT over TLS, MQTT over WSS and HTTPS
// publish, at once, and reports what each client saw.
//
// It is test support, as package gatewaytest is: throwaway keys, loopback addresses only.
package demostack

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/refauth"
)

// The demo's credentials: a token the rules allow, and one they deny.
const (
	Authorizer = "tokens"
	TokenKey   = "x-device-token"
	Token      = "demo-token"
	BadToken   = "stolen-token"
)

// Rules are the rules of `iotauthz demo`, which writes this constant: Token may connect as any
// client, publish under demo/, subscribe to and receive demo/<its client id>/ only. Any other
// token is denied.
const Rules = `{
  "rules": [{
    "name": "demo device",
    "match": {"token": "demo-token"},
    "isAuthenticated": true,
    "principalId": "demodevice",
    "refreshAfterInSeconds": 3600,
    "disconnectAfterInSeconds": 86400,
    "policyDocuments": [{
      "Version": "2012-10-17",
      "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/*"},
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/demo/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/demo/${iot:ClientId}/*"},
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/demo/${iot:ClientId}/*"}
      ]
    }]
  }],
  "default": {"isAuthenticated": false, "principalId": "denied"}
}`

// Options change the stack.
type Options struct {
	// Filters is gateway.Config.Filters.
	Filters gateway.FilterMode
	// Workers is gateway.Config.Workers; default 2.
	Workers int
}

// Stack is a running demo: Close stops it.
type Stack struct {
	GW       *gateway.Gateway
	Addr     string // the gateway, "localhost:PORT"
	AdminURL string // the admin listener, "http://127.0.0.1:PORT"
	PKI      *gatewaytest.PKI
	Key      *gatewaytest.SigningKey
	Broker   *gatewaytest.Broker
	Auth     *refauth.Server

	logMu sync.Mutex
	logs  []host.LogEntry

	closers []func()
}

// PluginConfig is the demo's plugin configuration (DESIGN contract 1) for publicPEM: data
// endpoint localhost, authorizer "tokens" on cluster "authorizer", the connection cache, and
// mqtt.denyAction "disconnect" (AWS IoT's MQTT 3.1.1 behaviour).
func PluginConfig(publicPEM []byte) []byte {
	b, _ := json.Marshal(Config(publicPEM, "disconnect", "info"))
	return b
}

// Config is PluginConfig as a value, with mqtt.denyAction and logging.level given: `iotauthz demo`
// writes it indented, and tests change the parts they test.
func Config(publicPEM []byte, denyAction, logLevel string) map[string]any {
	return map[string]any{
		"region":                "us-east-1",
		"accountId":             "123456789012",
		"dataEndpoints":         []string{"localhost"},
		"defaultAuthorizerName": Authorizer,
		"authorizers": []map[string]any{{
			"authorizerName": Authorizer,
			"authorizerFunction": map[string]any{"cluster": "authorizer", "authority": "authorizer",
				"path": "/authorize", "timeoutMillis": 5000},
			"tokenKeyName":           TokenKey,
			"tokenSigningPublicKeys": map[string]string{"demo": string(publicPEM)},
			"signingDisabled":        false,
			"status":                 "ACTIVE",
			"enableCachingForHttp":   true,
		}},
		"cache":   map[string]any{"scope": "connection", "maxEntries": 10000, "staleIfErrorSeconds": 0},
		"mqtt":    map[string]any{"denyAction": denyAction, "maxPacketBytes": 131072, "stripCredentialsFromUsername": true},
		"logging": map[string]any{"level": logLevel, "debugClientIds": []string{}},
	}
}

// Start starts the stack on loopback ports with module, the plugin.
func Start(module []byte, o Options) (s *Stack, err error) {
	s = &Stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if o.Workers == 0 {
		o.Workers = 2
	}
	if s.PKI, err = gatewaytest.NewPKI("localhost", "127.0.0.1"); err != nil {
		return s, err
	}
	if s.Key, err = gatewaytest.NewSigningKey(); err != nil {
		return s, err
	}
	rules, err := refauth.Parse([]byte(Rules))
	if err != nil {
		return s, err
	}
	s.Auth = refauth.New(rules)
	authURL, err := s.serve(s.Auth)
	if err != nil {
		return s, err
	}
	if s.Broker, err = gatewaytest.NewBroker(nil); err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { s.Broker.Close() })
	pubURL, err := s.serve(s.Broker.PublishHandler())
	if err != nil {
		return s, err
	}
	s.GW, err = gateway.New(context.Background(), gateway.Config{
		Module:       module,
		PluginConfig: PluginConfig(s.Key.PublicPEM),
		Workers:      o.Workers,
		Clusters:     map[string]string{"authorizer": authURL},
		TLS:          s.PKI.ServerTLS(),
		Broker:       "tcp://" + s.Broker.TCPAddr,
		BrokerWS:     s.Broker.WSURL,
		HTTPUpstream: pubURL,
		LogLevel:     host.LogInfo,
		LogSink: func(e host.LogEntry) {
			s.logMu.Lock()
			s.logs = append(s.logs, e)
			s.logMu.Unlock()
		},
		Filters: o.Filters,
	})
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { s.GW.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return s, err
	}
	go s.GW.Serve(ln)
	go s.GW.ServeAdmin(adminLn)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s.Addr = "localhost:" + port
	s.AdminURL = "http://" + adminLn.Addr().String()
	return s, s.waitReady()
}

func (s *Stack) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s.closers = append(s.closers, func() { srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// waitReady waits for the admin listener's /ready to answer 200.
func (s *Stack) waitReady() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, err := s.Admin("/ready")
		if err == nil && code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateway not ready after 10s: %d %v", code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Admin GETs path on the admin listener.
func (s *Stack) Admin(path string) (int, []byte, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(s.AdminURL + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Logs returns the plugin's log lines so far.
func (s *Stack) Logs() []host.LogEntry {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]host.LogEntry(nil), s.logs...)
}

// Close stops everything Start started, in reverse order.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Username is the MQTT username carrying the demo's credentials for token.
func (s *Stack) Username(token string) string {
	return gatewaytest.Username("demo", Authorizer, TokenKey, token, s.Key.Sign(token))
}

// Outcome is what one client of Traffic saw, in order: "connect ok", "subscribe ok",
// "publish ok", "received TOPIC PAYLOAD", "disconnected", "connect refused", "https 200"...
type Outcome struct {
	Client string
	Steps  []string
}

// Traffic runs the demo's scenario with every client at once:
//
//   - over MQTT over TLS (ALPN mqtt) and over MQTT over WSS, a client each (demo-tls, demo-wss):
//     CONNECT (allowed), SUBSCRIBE to demo/<id>/# (allowed), PUBLISH QoS 1 to
//     demo/<id>/temperature (allowed, and received back), PUBLISH to secret/plans (denied: the
//     connection is closed, denyAction disconnect);
//   - an MQTT over TLS CONNECT with BadToken (denied: CONNACK not authorized);
//   - over HTTPS on one kept-alive connection: POST /topics/demo/https/humidity twice (200; the
//     second from the connection's cache), POST /topics/secret/plans (403).
//
// Each client's steps are in its Outcome, sorted by client name. Traffic returns once every
// client is done and the plugin's metrics have settled (Flushed).
func (s *Stack) Traffic() ([]Outcome, error) {
	type result struct {
		o   Outcome
		err error
	}
	runs := []func() (Outcome, error){
		func() (Outcome, error) { return s.mqttClient("demo-tls", "tls") },
		func() (Outcome, error) { return s.mqttClient("demo-wss", "wss") },
		s.badConnect,
		s.httpsPublishes,
	}
	ch := make(chan result, len(runs))
	for _, run := range runs {
		go func() { o, err := run(); ch <- result{o, err} }()
	}
	var out []Outcome
	var errs []error
	for range runs {
		r := <-ch
		out = append(out, r.o)
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.o.Client, r.err))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Client < out[j].Client })
	if len(errs) == 0 {
		if err := s.Flushed(); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

func (s *Stack) mqttOptions(id, scheme, token string) *paho.ClientOptions {
	o := paho.NewClientOptions().SetClientID(id).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(10 * time.Second).SetProtocolVersion(4).SetUsername(s.Username(token))
	_, port, _ := net.SplitHostPort(s.Addr)
	if scheme == "wss" {
		o.AddBroker("wss://localhost:" + port + "/mqtt")
		o.SetTLSConfig(s.PKI.ClientTLS("localhost"))
	} else {
		o.AddBroker("tls://localhost:" + port)
		o.SetTLSConfig(s.PKI.ClientTLS("localhost", "mqtt"))
	}
	return o
}

func (s *Stack) mqttClient(id, scheme string) (Outcome, error) {
	out := Outcome{Client: id + " (MQTT over " + strings.ToUpper(scheme) + ")"}
	lost := make(chan struct{})
	o := s.mqttOptions(id, scheme, Token).SetConnectionLostHandler(func(paho.Client, error) { close(lost) })
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return out, fmt.Errorf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	out.Steps = append(out.Steps, "connect ok")
	got := make(chan string, 4)
	filter := "demo/" + id + "/#"
	tok = c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() + " " + string(m.Payload()) })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return out, fmt.Errorf("subscribe %s: %v", filter, tok.Error())
	}
	if r := tok.(*paho.SubscribeToken).Result()[filter]; r != 1 {
		return out, fmt.Errorf("subscribe %s: granted %#x, want 1", filter, r)
	}
	out.Steps = append(out.Steps, "subscribe ok")
	topic := "demo/" + id + "/temperature"
	tok = c.Publish(topic, 1, false, "21.5")
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return out, fmt.Errorf("publish %s: %v", topic, tok.Error())
	}
	out.Steps = append(out.Steps, "publish ok")
	select {
	case m := <-got:
		out.Steps = append(out.Steps, "received "+m)
	case <-time.After(10 * time.Second):
		return out, fmt.Errorf("no message on %s within 10s", topic)
	}
	// Denied: the gateway closes the connection (denyAction disconnect).
	c.Publish("secret/plans", 0, false, "nope")
	select {
	case <-lost:
		out.Steps = append(out.Steps, "disconnected")
	case <-time.After(10 * time.Second):
		return out, errors.New("still connected 10s after a PUBLISH to secret/plans")
	}
	return out, nil
}

func (s *Stack) badConnect() (Outcome, error) {
	out := Outcome{Client: "demo-bad (MQTT over TLS)"}
	c := paho.NewClient(s.mqttOptions("demo-bad", "tls", BadToken))
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return out, errors.New("no CONNACK within 10s")
	}
	if tok.Error() == nil {
		c.Disconnect(100)
		return out, errors.New("CONNECT with a denied token was accepted")
	}
	// paho reports the CONNACK's refusal, or the close that follows it when it reads that first.
	out.Steps = append(out.Steps, "connect refused")
	return out, nil
}

func (s *Stack) httpsPublishes() (Outcome, error) {
	out := Outcome{Client: "demo-https (HTTPS publish)"}
	tr := &http.Transport{TLSClientConfig: s.PKI.ClientTLS("localhost"), MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, topic := range []string{"demo/https/humidity", "demo/https/humidity", "secret/plans"} {
		req, err := http.NewRequest(http.MethodPost, "https://"+s.Addr+"/topics/"+url.PathEscape(topic)+"?qos=1", bytes.NewBufferString("40"))
		if err != nil {
			return out, err
		}
		req.Header.Set("x-amz-customauthorizer-name", Authorizer)
		req.Header.Set("x-amz-customauthorizer-signature", s.Key.Sign(Token))
		req.Header.Set(TokenKey, Token)
		resp, err := c.Do(req)
		if err != nil {
			return out, fmt.Errorf("POST %s: %v", topic, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out.Steps = append(out.Steps, fmt.Sprintf("https %s %d", topic, resp.StatusCode))
	}
	return out, nil
}

// Flushed waits until the plugin has added what its hot paths counted to the metrics: it counts
// allowed decisions and cache hits locally and adds them on its tick (authz.TickMillis, 1 s), so
// a scrape right after the traffic may lack them. It returns once /stats/prometheus has not
// changed for longer than two ticks, or an error after 15 s.
func (s *Stack) Flushed() error {
	var last bytes.Buffer
	if err := s.GW.WritePrometheus(&last); err != nil {
		return err
	}
	stable := time.Now()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		var cur bytes.Buffer
		if err := s.GW.WritePrometheus(&cur); err != nil {
			return err
		}
		if !bytes.Equal(cur.Bytes(), last.Bytes()) {
			last, stable = cur, time.Now()
			continue
		}
		if time.Since(stable) > 2*time.Second+200*time.Millisecond {
			return nil
		}
	}
	return errors.New("the plugin's metrics still change 15s after the traffic")
}

// ClientTLS is the client TLS configuration for the stack's gateway, with ALPN protos.
func (s *Stack) ClientTLS(alpn ...string) *tls.Config { return s.PKI.ClientTLS("localhost", alpn...) }
