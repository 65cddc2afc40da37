package e2e

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/syncbuf"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
	"github.com/iotauthz/iotauthz/refauth"
)

// Flags. The compose stack passes them (e2e/docker-compose.yaml, service tester).
var (
	flagTarget      = flag.String("e2e.target", "embedded", `"embedded" (start everything here) or "compose" (the docker compose stack)`)
	flagAddr        = flag.String("e2e.addr", "", "compose: the gateway, HOST:PORT (HOST is the data endpoint: SNI and Host), denyAction disconnect")
	flagRejectAddr  = flag.String("e2e.reject-addr", "", "compose: the gateway's data endpoint with denyAction reject")
	flagCA          = flag.String("e2e.ca", "", "compose: the CA certificate (PEM) that signed the gateway's certificate")
	flagSigningKey  = flag.String("e2e.signing-key", "", "compose: the token-signing private key (PEM) of authorizer \"tokens\"")
	flagAuthorizer  = flag.String("e2e.authorizer", "", "compose: the reference authorizer's base URL (with its /admin/ API)")
	flagBroker      = flag.String("e2e.broker", "", "compose: the MQTT broker, directly, HOST:PORT")
	flagHTTPPublish = flag.String("e2e.http-publish", "", "compose: the HTTP publish receiver's base URL")
	flagEnvoyAdmin  = flag.String("e2e.envoy-admin", "", "compose: Envoy's admin base URL (readiness)")
	flagWasm        = flag.String("e2e.wasm", "", "embedded: the plugin; default: built from ./plugin into a temporary directory")
)

// env is where the scenarios run: the gateway's two data endpoints, the broker, the authorizer.
type env struct {
	addr, rejectAddr string // HOST:PORT; HOST is the SNI and Host the clients send
	caFile           string
	pool             *x509.CertPool
	key              *rsa.PrivateKey // signs tokens for authorizer "tokens"
	authorizer       string          // base URL with /admin/
	broker           string          // HOST:PORT, plain MQTT, directly
	logs             func() string   // what to show when a scenario fails
	embedded         bool
}

const (
	tokenKey   = "x-device-token"
	authorizer = "tokens"
)

// checkMosquitto fails (CI) or skips (elsewhere) when the Debian packages are missing.
func checkMosquitto(t *testing.T, needBroker bool) {
	t.Helper()
	var missing []string
	if needBroker {
		if _, err := os.Stat(mosquittoPath()); err != nil {
			missing = append(missing, "mosquitto")
		}
	}
	for _, c := range []string{"mosquitto_pub", "mosquitto_sub"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, "mosquitto-clients")
			break
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("the e2e tests need %s: run `make deps`, or `sudo apt-get update && sudo apt-get install -y %s`",
		strings.Join(missing, " and "), strings.Join(missing, " "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (skipped because CI is unset; in CI this fails)")
}

func mosquittoPath() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	return "/usr/sbin/mosquitto"
}

// ---- compose ----

func composeEnv(t *testing.T) *env {
	t.Helper()
	for name, v := range map[string]string{"e2e.addr": *flagAddr, "e2e.reject-addr": *flagRejectAddr, "e2e.ca": *flagCA,
		"e2e.signing-key": *flagSigningKey, "e2e.authorizer": *flagAuthorizer, "e2e.broker": *flagBroker} {
		if v == "" {
			t.Fatalf("-e2e.target=compose needs -%s", name)
		}
	}
	ca, err := os.ReadFile(*flagCA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("%s: no certificate", *flagCA)
	}
	keyPEM, err := os.ReadFile(*flagSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := gatewaytest.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatalf("%s: %v", *flagSigningKey, err)
	}
	e := &env{addr: *flagAddr, rejectAddr: *flagRejectAddr, caFile: *flagCA, pool: pool, key: key,
		authorizer: strings.TrimRight(*flagAuthorizer, "/"), broker: *flagBroker,
		logs: func() string { return "(compose: see `docker compose logs envoy`)" }}
	// Readiness: Envoy's admin says LIVE, the authorizer answers.
	ready := func(u, want string) func() bool {
		return func() bool {
			resp, err := http.Get(u)
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode == 200 && strings.Contains(string(b), want)
		}
	}
	if *flagEnvoyAdmin != "" {
		eventually(t, time.Minute, ready(strings.TrimRight(*flagEnvoyAdmin, "/")+"/ready", "LIVE"), func() string { return "Envoy is not ready" })
	}
	eventually(t, time.Minute, ready(e.authorizer+"/healthz", "ok"), func() string { return "the authorizer is not ready" })
	return e
}

// ---- embedded ----

// embedded is the local stack.
type embedded struct {
	env
	gws       []*gateway.Gateway
	logMu     sync.Mutex
	logBuf    bytes.Buffer
	mosq      *exec.Cmd
	mosqOut   *syncbuf.Buffer
	received  http.Handler // the HTTP publish receiver (newReceiver)
	publicPEM []byte       // the token-signing public key in the plugin configurations
	brokerWS  string       // mosquitto's WebSocket listener, ws://HOST:PORT/mqtt
}

func (s *embedded) logf(format string, args ...any) {
	s.logMu.Lock()
	fmt.Fprintf(&s.logBuf, time.Now().UTC().Format("15:04:05.000")+" "+format+"\n", args...)
	s.logMu.Unlock()
}

func (s *embedded) allLogs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := "---- gateway and plugin logs ----\n" + s.logBuf.String()
	if s.mosqOut != nil {
		out += "---- mosquitto ----\n" + s.mosqOut.String()
	}
	return out
}

var (
	wasmOnce sync.Once
	wasmPath string
	wasmErr  error
)

// pluginWasm returns the plugin, built from ./plugin (wasmbuild) unless -e2e.wasm names one, so the
// tests never run a stale dist/iotauthz.wasm; wasmPath is then a file holding it, for the
// commands the tests run.
func pluginWasm(t *testing.T) []byte {
	t.Helper()
	wasmOnce.Do(func() {
		if *flagWasm != "" {
			wasmPath = *flagWasm
			return
		}
		var module []byte
		if module, wasmErr = wasmbuild.Build(wasmbuild.Plugin); wasmErr != nil {
			return
		}
		var dir string
		if dir, wasmErr = os.MkdirTemp("", "iotauthz-e2e"); wasmErr != nil {
			return
		}
		wasmPath = filepath.Join(dir, "iotauthz.wasm")
		wasmErr = os.WriteFile(wasmPath, module, 0o644)
	})
	if wasmErr != nil {
		t.Fatal(wasmErr)
	}
	b, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pluginConfig is DESIGN contract 1 as envoy/envoy-compose.yaml has it (authorizers "tokens",
// "userpass", "inactive"), for the data endpoint "localhost", plus "unreachable": an authorizer
// whose cluster points at a closed port. Intervals down to 1 s are allowed (testOverrides).
func pluginConfig(publicPEM []byte, denyAction string) []byte {
	fn := func(cluster string) map[string]any {
		return map[string]any{"cluster": cluster, "authority": "authorizer", "path": "/authorize", "timeoutMillis": 2000}
	}
	keys := map[string]string{"e2e": string(publicPEM)}
	cfg := map[string]any{
		"region":                "us-east-1",
		"accountId":             "123456789012",
		"dataEndpoints":         []string{"localhost"},
		"defaultAuthorizerName": authorizer,
		"authorizers": []map[string]any{
			{"authorizerName": authorizer, "authorizerFunction": fn("authorizer"), "tokenKeyName": tokenKey,
				"tokenSigningPublicKeys": keys, "signingDisabled": false, "status": "ACTIVE", "enableCachingForHttp": true},
			{"authorizerName": "userpass", "authorizerFunction": fn("authorizer"), "signingDisabled": true, "status": "ACTIVE"},
			{"authorizerName": "inactive", "authorizerFunction": fn("authorizer"), "tokenKeyName": tokenKey,
				"tokenSigningPublicKeys": keys, "status": "INACTIVE"},
			{"authorizerName": "unreachable", "authorizerFunction": fn("unreachable"), "tokenKeyName": tokenKey,
				"tokenSigningPublicKeys": keys, "status": "ACTIVE"},
		},
		"cache":         map[string]any{"scope": "connection", "maxEntries": 1000, "staleIfErrorSeconds": 0},
		"mqtt":          map[string]any{"denyAction": denyAction, "maxPacketBytes": 131072, "stripCredentialsFromUsername": true},
		"logging":       map[string]any{"level": "debug", "debugClientIds": []string{}},
		"testOverrides": map[string]any{"minIntervalSeconds": 1},
	}
	b, _ := json.Marshal(cfg)
	return b
}

var (
	embeddedOnce sync.Once
	embeddedEnv  *embedded
	embeddedErr  error
)

// startEmbedded starts the local stack once for the package; TestMain's cleanup stops it. It
// skips t unless the target is embedded.
func startEmbedded(t *testing.T) *embedded {
	t.Helper()
	embeddedOnly(t, "embedded target only")
	checkMosquitto(t, true)
	wasm := pluginWasm(t)
	embeddedOnce.Do(func() { embeddedEnv, embeddedErr = newEmbedded(wasm) })
	if embeddedErr != nil {
		msg := embeddedErr.Error()
		if embeddedEnv != nil {
			msg += "\n" + embeddedEnv.allLogs()
		}
		t.Fatal(msg)
	}
	return embeddedEnv
}

var stopEmbedded []func()

func newEmbedded(wasm []byte) (*embedded, error) {
	s := &embedded{}
	s.embedded = true
	s.logs = s.allLogs
	dir, err := os.MkdirTemp("", "iotauthz-e2e-stack")
	if err != nil {
		return nil, err
	}
	stopEmbedded = append(stopEmbedded, func() { os.RemoveAll(dir) })

	// Credentials.
	pki, err := gatewaytest.NewPKI("localhost", "127.0.0.1")
	if err != nil {
		return nil, err
	}
	if s.caFile, _, _, err = pki.WriteFiles(dir); err != nil {
		return nil, err
	}
	s.pool = pki.Pool
	sk, err := gatewaytest.NewSigningKey()
	if err != nil {
		return nil, err
	}
	s.key = sk.Key
	s.publicPEM = sk.PublicPEM

	// mosquitto: a TCP and a WebSocket listener on free loopback ports.
	addrs, err := gatewaytest.FreeAddrs(2)
	if err != nil {
		return nil, err
	}
	tcpAddr, wsAddr := addrs[0], addrs[1]
	_, tcpPort, _ := net.SplitHostPort(tcpAddr)
	_, wsPort, _ := net.SplitHostPort(wsAddr)
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := writeMosquittoConf(conf, tcpPort, wsPort, ""); err != nil {
		return nil, err
	}
	s.mosqOut = &syncbuf.Buffer{}
	s.mosq = exec.Command(mosquittoPath(), "-c", conf)
	s.mosq.Stdout, s.mosq.Stderr = s.mosqOut, s.mosqOut
	dieWithTest(s.mosq)
	if err := s.mosq.Start(); err != nil {
		return nil, fmt.Errorf("starting mosquitto: %v", err)
	}
	stopEmbedded = append(stopEmbedded, func() { s.mosq.Process.Kill(); s.mosq.Wait() })
	s.broker = tcpAddr
	s.brokerWS = "ws://" + wsAddr + "/mqtt"
	if err := gatewaytest.WaitListening(tcpAddr, wsAddr); err != nil {
		return s, fmt.Errorf("mosquitto: %v", err)
	}

	// The reference authorizer, with its admin API (the scenarios set rules and read hits there).
	auth := refauth.New(refauth.MustParse(`{"rules": []}`))
	auth.Admin = true
	auth.Log = func(line string) { s.logf("authorizer: %s", line) }
	as := httptest.NewServer(auth)
	stopEmbedded = append(stopEmbedded, as.Close)
	s.authorizer = as.URL

	// The HTTP publish receiver: what the gateway's HTTPS publish reaches, publishing into
	// mosquitto.
	s.received = newReceiver(tcpAddr)
	hs := httptest.NewServer(s.received)
	stopEmbedded = append(stopEmbedded, hs.Close)

	closed, err := gatewaytest.FreeAddr() // nothing listens there: the unreachable authorizer
	if err != nil {
		return nil, err
	}
	for i, deny := range []string{"disconnect", "reject"} {
		deny := deny
		gw, err := gateway.New(context.Background(), gateway.Config{
			Module:       wasm,
			PluginConfig: pluginConfig(sk.PublicPEM, deny),
			Workers:      2,
			Clusters:     map[string]string{"authorizer": as.URL, "unreachable": "http://" + closed},
			TLS:          pki.ServerTLS(),
			Broker:       "tcp://" + tcpAddr,
			BrokerWS:     "ws://" + wsAddr + "/mqtt",
			HTTPUpstream: hs.URL,
			LogLevel:     host.LogDebug,
			LogSink:      func(e host.LogEntry) { s.logf("plugin[%s] %s %s", deny, e.Level, e.Message) },
			Logf:         func(f string, a ...any) { s.logf("gateway[%s] "+f, append([]any{deny}, a...)...) },
		})
		if err != nil {
			return s, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return s, err
		}
		go gw.Serve(ln)
		stopEmbedded = append(stopEmbedded, func() { gw.Close() })
		s.gws = append(s.gws, gw)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		if i == 0 {
			s.addr = "localhost:" + port
		} else {
			s.rejectAddr = "localhost:" + port
		}
	}
	return s, nil
}

// startMosquitto starts a mosquitto of the test's own until t ends, configured in dir by
// writeMosquittoConf with extra settings; it returns its TCP and WebSocket listeners
// (127.0.0.1:PORT) and its output.
func startMosquitto(t *testing.T, dir, extra string) (tcpAddr, wsAddr string, out *syncbuf.Buffer) {
	t.Helper()
	addrs, err := gatewaytest.FreeAddrs(2)
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr, wsAddr = addrs[0], addrs[1]
	_, tcpPort, _ := net.SplitHostPort(tcpAddr)
	_, wsPort, _ := net.SplitHostPort(wsAddr)
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := writeMosquittoConf(conf, tcpPort, wsPort, extra); err != nil {
		t.Fatal(err)
	}
	out = &syncbuf.Buffer{}
	cmd := exec.Command(mosquittoPath(), "-c", conf)
	cmd.Stdout, cmd.Stderr = out, out
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting mosquitto: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := gatewaytest.WaitListening(tcpAddr, wsAddr); err != nil {
		t.Fatalf("mosquitto: %v\n%s", err, out)
	}
	return tcpAddr, wsAddr, out
}

// serveGateway builds a gateway from cfg and serves it on a free loopback port until t ends; it
// returns the gateway's data endpoint, "localhost:PORT". name tells which gateway failed.
func serveGateway(t *testing.T, name string, cfg gateway.Config) string {
	t.Helper()
	gw, err := gateway.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("gateway %s: %v", name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gw.Serve(ln)
	t.Cleanup(func() { gw.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "localhost:" + port
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for i := len(stopEmbedded) - 1; i >= 0; i-- {
		stopEmbedded[i]()
	}
	os.Exit(code)
}

// receiver is the embedded stack's HTTP publish receiver: gatewaytest.PublishHandler publishing
// into mosquitto (the compose stack runs e2e/compose/httppublish for this).
type receiver struct {
	broker string
	once   sync.Once
	client paho.Client
	err    error
}

func newReceiver(broker string) http.Handler {
	r := &receiver{broker: broker}
	return gatewaytest.PublishHandler(r.publish)
}

// publish publishes on mosquitto through one client, connected at the first publish.
func (r *receiver) publish(topic string, payload []byte, retain bool, qos byte) error {
	r.once.Do(func() {
		r.client = paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + r.broker).SetClientID("e2e-http-publish").SetAutoReconnect(true))
		tok := r.client.Connect()
		if !tok.WaitTimeout(5 * time.Second) {
			r.err = errors.New("connect timeout")
		} else {
			r.err = tok.Error()
		}
	})
	if r.err != nil {
		return fmt.Errorf("broker: %v", r.err)
	}
	tok := r.client.Publish(topic, qos, retain, payload)
	if !tok.WaitTimeout(5 * time.Second) {
		return errors.New("publish timeout")
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("publish failed: %v", err)
	}
	return nil
}

// writeMosquittoConf writes the configuration every e2e mosquitto runs with: anonymous, no
// persistence, connection messages logged, a TCP and a WebSocket listener on loopback; extra
// holds further global settings (one per line, each ending in a newline).
func writeMosquittoConf(path, tcpPort, wsPort, extra string) error {
	conf := "per_listener_settings false\nallow_anonymous true\npersistence false\n" + extra +
		"log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nconnection_messages true\n" +
		"listener " + tcpPort + " 127.0.0.1\nprotocol mqtt\n" +
		"listener " + wsPort + " 127.0.0.1\nprotocol websockets\n"
	return os.WriteFile(path, []byte(conf), 0o644)
}
