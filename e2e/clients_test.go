package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/syncbuf"
)

// eventually polls cond every 20 ms until it holds or timeout passes; then it fails with msg().
func eventually(t testing.TB, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sc is one scenario: its test, the environment, and an id that keeps its tokens, client ids
// and topics apart from the other scenarios running in parallel.
type sc struct {
	*testing.T
	e  *env
	id string // letters and digits only (it becomes a principal id and a topic level)
}

// fatalf fails with the gateway's and plugin's logs.
func (s *sc) fatalf(format string, args ...any) {
	s.Helper()
	s.Fatalf(format+"\n%s", append(args, s.e.logs())...)
}

func (s *sc) eventually(timeout time.Duration, cond func() bool, format string, args ...any) {
	s.Helper()
	eventually(s, timeout, cond, func() string { return fmt.Sprintf(format, args...) + "\n" + s.e.logs() })
}

func (s *sc) token(kind string) string { return kind + "-" + s.id }

func (s *sc) topic(rest string) string { return "devices/" + s.id + "/" + rest }

func (s *sc) sign(token string) string { return gatewaytest.SignWith(s.e.key, token) }

// username carries the credentials as AWS IoT reads them from an MQTT CONNECT.
func (s *sc) username(token string) string {
	return gatewaytest.Username("device", authorizer, tokenKey, token, s.sign(token))
}

// hits is how many authorizer calls carried token (the authorizer's admin API).
func (s *sc) hits(token string) int {
	s.Helper()
	resp, err := http.Get(s.e.authorizer + "/admin/hits?token=" + url.QueryEscape(token))
	if err != nil {
		s.fatalf("authorizer hits: %v", err)
	}
	defer resp.Body.Close()
	var v struct{ Hits int }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		s.fatalf("authorizer hits: %v", err)
	}
	return v.Hits
}

// ---- Paho (MQTT 3.1.1) over TLS or WSS ----

type mqttClient struct {
	paho.Client
	lost     chan struct{}
	lostOnce sync.Once
	msgs     chan string // "topic payload"
}

// embeddedOnly skips t unless the target is the embedded stack (-e2e.target=embedded, the
// default); why says what needs it.
func embeddedOnly(t testing.TB, why string) {
	t.Helper()
	if *flagTarget != "embedded" {
		t.Skip(why)
	}
}

type connOpts struct {
	addr      string // default: the disconnect endpoint
	wss       bool
	clientID  string
	username  string
	tls       *tls.Config // default: the CA, SNI = the endpoint's host, ALPN mqtt (TLS) or none (WSS)
	keepAlive time.Duration
	headers   http.Header               // WSS: headers of the upgrade request
	set       func(*paho.ClientOptions) // last: options the scenarios leave alone (Will, clean session)
}

// dial connects a Paho client; err is the CONNECT's outcome.
func (s *sc) dial(o connOpts) (*mqttClient, error) {
	s.Helper()
	if o.addr == "" {
		o.addr = s.e.addr
	}
	host, _, _ := net.SplitHostPort(o.addr)
	if o.tls == nil {
		o.tls = &tls.Config{RootCAs: s.e.pool, ServerName: host}
		if !o.wss {
			o.tls.NextProtos = []string{"mqtt"}
		}
	}
	c := &mqttClient{lost: make(chan struct{}), msgs: make(chan string, 64)}
	opts := paho.NewClientOptions().SetClientID(o.clientID).SetUsername(o.username).SetTLSConfig(o.tls).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(true).
		SetConnectTimeout(5 * time.Second).SetWriteTimeout(5 * time.Second).
		SetConnectionLostHandler(func(paho.Client, error) { c.lostOnce.Do(func() { close(c.lost) }) })
	if o.keepAlive > 0 {
		opts.SetKeepAlive(o.keepAlive)
	}
	if o.wss {
		opts.AddBroker("wss://" + o.addr + "/mqtt")
		opts.SetHTTPHeaders(o.headers)
	} else {
		opts.AddBroker("tls://" + o.addr)
	}
	if o.set != nil {
		o.set(opts)
	}
	c.Client = paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("CONNECT: no answer within 10s")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	s.Cleanup(func() { c.Disconnect(50) })
	return c, nil
}

// mustDial connects with the scenario's allowed credentials for token (or fails the test).
func (s *sc) mustDial(o connOpts, token string) *mqttClient {
	s.Helper()
	if o.username == "" {
		o.username = s.username(token)
	}
	c, err := s.dial(o)
	if err != nil {
		s.fatalf("connect %s (%s): %v", o.clientID, o.addr, err)
	}
	return c
}

// direct connects to the broker itself (no gateway): to publish what a client receives, and to
// watch what reached the broker.
func (s *sc) direct(clientID string) *mqttClient {
	s.Helper()
	c := &mqttClient{lost: make(chan struct{}), msgs: make(chan string, 64)}
	c.Client = paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + s.e.broker).SetClientID(clientID).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		s.fatalf("connect to the broker directly: %v", tok.Error())
	}
	s.Cleanup(func() { c.Disconnect(50) })
	return c
}

// subscribe subscribes filter at QoS 1 and returns the SUBACK's return code (0x80: refused).
func (s *sc) subscribe(c *mqttClient, filter string) (byte, error) {
	s.Helper()
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		select {
		case c.msgs <- m.Topic() + " " + string(m.Payload()):
		default:
		}
	})
	if !tok.WaitTimeout(5 * time.Second) {
		return 0, fmt.Errorf("SUBSCRIBE %s: no SUBACK within 5s", filter)
	}
	if err := tok.Error(); err != nil {
		return 0, err
	}
	return tok.(*paho.SubscribeToken).Result()[filter], nil
}

func (s *sc) mustSubscribe(c *mqttClient, filter string) {
	s.Helper()
	code, err := s.subscribe(c, filter)
	if err != nil || code > 2 {
		s.fatalf("SUBSCRIBE %s: code %#x, %v", filter, code, err)
	}
}

func (s *sc) publish(c *mqttClient, topic string, qos byte, payload string) error {
	tok := c.Publish(topic, qos, false, payload)
	if !tok.WaitTimeout(5 * time.Second) {
		return fmt.Errorf("PUBLISH %s: not acknowledged within 5s", topic)
	}
	return tok.Error()
}

func (s *sc) mustPublish(c *mqttClient, topic string, qos byte, payload string) {
	s.Helper()
	if err := s.publish(c, topic, qos, payload); err != nil {
		s.fatalf("%v", err)
	}
}

// receive waits for the next message and requires it to be want ("topic payload"): a message
// that should not have arrived shows up here, ahead of the sentinel sent after it.
func (s *sc) receive(c *mqttClient, want string) {
	s.Helper()
	select {
	case got := <-c.msgs:
		if got != want {
			s.fatalf("received %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		s.fatalf("did not receive %q within 10s", want)
	}
}

// closed waits until the gateway closes c.
func (s *sc) closed(c *mqttClient, within time.Duration, why string) {
	s.Helper()
	select {
	case <-c.lost:
	case <-time.After(within):
		s.fatalf("the connection is still open %v after %s", within, why)
	}
}

func (s *sc) open(c *mqttClient) {
	s.Helper()
	select {
	case <-c.lost:
		s.fatalf("the connection was closed")
	default:
	}
}

// ---- mosquitto_pub / mosquitto_sub ----

// mosqArgs are the connection flags a person types: the CA, the endpoint's host (SNI), ALPN mqtt.
func (s *sc) mosqArgs(addr, clientID, username string) []string {
	host, port, _ := net.SplitHostPort(addr)
	return []string{"-h", host, "-p", port, "--cafile", s.e.caFile, "--tls-alpn", "mqtt",
		"-V", "mqttv311", "-i", clientID, "-u", username}
}

// mosquittoSub starts mosquitto_sub -d (debug lines show the SUBACK) and waits for its SUBACK.
type mosqSub struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan error
}

func (s *sc) mosquittoSub(addr, clientID, username string, extra ...string) *mosqSub {
	s.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s.Cleanup(cancel)
	args := append(append(s.mosqArgs(addr, clientID, username), "-d", "-v"), extra...)
	m := &mosqSub{out: &syncbuf.Buffer{}, done: make(chan error, 1)}
	m.cmd = exec.CommandContext(ctx, "mosquitto_sub", args...)
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	if err := m.cmd.Start(); err != nil {
		s.fatalf("mosquitto_sub: %v", err)
	}
	go func() { m.done <- m.cmd.Wait() }()
	s.Cleanup(func() { m.cmd.Process.Kill() })
	return m
}

func (s *sc) mosquittoPub(addr, clientID, username string, extra ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "mosquitto_pub", append(s.mosqArgs(addr, clientID, username), extra...)...).CombinedOutput()
	return string(out), err
}

// lines returns the non-debug lines mosquitto_sub -v printed: "topic payload".
func (m *mosqSub) lines() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(m.out.String()))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "Client ") || strings.HasPrefix(l, "Subscribed") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// ---- HTTPS publish ----

// httpsPublish POSTs body to /topics/{topic} with the credentials in headers; it returns the
// status and the body.
func (s *sc) httpsPublish(topic, token, body string, hdr map[string]string) (int, string) {
	s.Helper()
	host, _, _ := net.SplitHostPort(s.e.addr)
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.e.pool, ServerName: host}}}
	req, _ := http.NewRequest(http.MethodPost, "https://"+s.e.addr+"/topics/"+url.PathEscape(topic)+"?qos=1", strings.NewReader(body))
	req.Header.Set("x-amz-customauthorizer-name", authorizer)
	req.Header.Set("x-amz-customauthorizer-signature", s.sign(token))
	req.Header.Set(tokenKey, token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		s.fatalf("POST /topics/%s: %v", topic, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
