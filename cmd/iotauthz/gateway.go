package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/lambda"
	"github.com/iotauthz/iotauthz/plugin/config"
)

const gatewayHelp = `
usage: iotauthz gateway --wasm FILE --config FILE --cert FILE --key FILE --broker URL
                        [--listen ADDR] [--broker-ws URL] [--http-upstream URL]
                        [--cluster NAME=URL]... [--workers N] [--log-level LEVEL] [--grace DURATION]
                        [--max-connections N] [--lambda-endpoint URL] [--admin ADDR]

Runs the plugin (iotauthz.wasm) without Envoy: the embedded gateway of package host/gateway, on the
host package (wazero). One TLS listener serves, as an Envoy listener on 443 would:

  - MQTT over TLS when the client negotiates ALPN "mqtt" (mosquitto_pub --tls-alpn mqtt). The SNI
    of the handshake is what the plugin checks against dataEndpoints. What the plugin lets through
    goes to --broker over TCP, and the broker's bytes come back through the plugin.
  - HTTPS otherwise (no ALPN, "http/1.1", or any other protocol): POST /topics/{topic} (AWS IoT's
    HTTPS publish) goes to --http-upstream once the plugin allows it; GET /mqtt with a WebSocket
    upgrade (MQTT over WSS) goes to the broker's WebSocket endpoint --broker-ws, and the MQTT bytes
    inside it pass through the plugin both ways. Denials are the plugin's local replies (403).

--config is the plugin configuration (the JSON Envoy passes as the wasm filter's configuration,
DESIGN contract 1). Each cluster it names (authorizers[].authorizerFunction.cluster) needs a
--cluster NAME=URL, e.g. --cluster authorizer=http://127.0.0.1:9000. Connections are spread
round-robin over --workers VMs, as Envoy spreads them over its worker threads.

An authorizer given by authorizerFunctionArn (a Lambda function, as AWS IoT's DescribeAuthorizer
prints it) needs no --cluster: the gateway invokes the function itself with the AWS SDK
(synchronous Invoke, the event as payload), with the SDK's default credential chain
(AWS_ACCESS_KEY_ID..., AWS_PROFILE, SSO, web identity, ECS or EC2 role) and the region of the
ARN; the caller needs lambda:InvokeFunction on it (docs/lambda.md). --lambda-endpoint sends
those calls elsewhere, e.g. to the Lambda Runtime Interface Emulator or a VPC endpoint.

What one client may hold, enforced by the gateway itself, whatever the plugin does:

  - the CONNECT deadline, mqtt.connectTimeoutSeconds of --config (default 10 s): from the accept,
    the TLS handshake and then the MQTT CONNECT (ALPN mqtt) or the first request's headers
    (HTTPS) must be complete; a WebSocket gets the same time again from its upgrade request to
    its CONNECT. Later requests on a kept-alive connection get it for their headers. Past it
    the connection is closed.
  - request headers: the request line and header lines at most 60 KiB and 100 lines (Envoy's
    defaults), else 431; a request body at most 128 KiB (AWS IoT's limit), declared or chunked,
    else 413. Both answers are {"message":...,"traceId":...}, and the connection closes.
  - --max-connections N caps simultaneous client connections: above it a new connection is
    accepted and closed at once. 0 (default): no cap but the file-descriptor limit; when accept
    fails (EMFILE...) the gateway retries after 5 ms, doubling up to 1 s, and open connections
    go on.

Each refusal writes one decision line ("gateway: {...}", the plugin's field names; at most 20
per reason and second).

--admin ADDR (e.g. 127.0.0.1:9901, Envoy's admin address in envoy/envoy.yaml) serves plain HTTP,
for scrapers and health checks; bind it to loopback or a private address:

  GET /stats/prometheus  the plugin's metrics as Envoy's /stats/prometheus shows them
                         (iotauthz_decisions_allowed..., envoy/grafana-dashboard.json uses them)
  GET /stats             the counters and gauges as Envoy's /stats: wasmcustom.iotauthz...: N
  GET /ready             200 LIVE once the TLS listener is served; 503 DRAINING while stopping

The network filter (MQTT over TLS) and the HTTP filter (HTTPS, WSS) run as two plugins in one VM
per worker, as envoy/envoy.yaml configures Envoy (same vm_id and code, two root contexts).

The plugin's log lines (decision logs included) go to stderr. SIGINT or SIGTERM stop it cleanly:
no new connections; requests and MQTT publishes already read finish (up to --grace); then every
connection is closed.

Example (with 'iotauthz authorizer --rules rules.json' on :9000 and mosquitto on 1883/8080):

  iotauthz gateway --wasm dist/iotauthz.wasm --config plugin.json --listen :8443 \
    --cert server.pem --key server-key.pem \
    --broker tcp://127.0.0.1:1883 --broker-ws ws://127.0.0.1:8080/mqtt \
    --http-upstream http://127.0.0.1:8081 --cluster authorizer=http://127.0.0.1:9000
`

func init() {
	register("gateway", "serve MQTT/TLS, HTTPS and WSS through iotauthz.wasm without Envoy (the embedded gateway)", runGateway)
}

func runGateway(args []string, stdout, stderr io.Writer) int {
	return untilSignal(func(ctx context.Context) int { return serveGateway(ctx, args, stdout, stderr, nil) })
}

// serveGateway runs the gateway until ctx ends. ready, if set, receives the listening address and
// the admin listener's ("" without --admin).
func serveGateway(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr, admin string)) int {
	fs := newFlagSet("gateway", gatewayHelp, stdout, stderr)
	wasmPath := fs.String("wasm", "dist/iotauthz.wasm", "the plugin module")
	configPath := fs.String("config", "", "the plugin configuration JSON file (required)")
	listen := fs.String("listen", ":8443", "TLS listener address, HOST:PORT")
	certPath := fs.String("cert", "", "server certificate chain, PEM (required)")
	keyPath := fs.String("key", "", "server private key, PEM (required)")
	broker := fs.String("broker", "", "the MQTT broker for MQTT over TLS, tcp://HOST:PORT (required)")
	brokerWS := fs.String("broker-ws", "", "the broker's WebSocket endpoint for MQTT over WSS, ws://HOST:PORT/mqtt")
	httpUpstream := fs.String("http-upstream", "", "where allowed HTTPS publishes go, http://HOST:PORT")
	var clusters multiFlag
	fs.Var(&clusters, "cluster", "NAME=URL: an upstream the plugin calls by cluster name (repeatable)")
	workers := fs.Int("workers", 2, "worker VMs")
	level := fs.String("log-level", "info", "plugin log level: trace, debug, info, warn, error, critical")
	grace := fs.Duration("grace", 10*time.Second, "how long a shutdown waits for work in flight")
	lambdaEndpoint := fs.String("lambda-endpoint", "", "Lambda API endpoint URL for authorizerFunctionArn authorizers (default: the ARN's regional endpoint)")
	maxConns := fs.Int("max-connections", 0, "most simultaneous client connections; more are closed at once (0: no cap)")
	adminAddr := fs.String("admin", "", "admin listener, HOST:PORT (plain HTTP: /stats/prometheus, /stats, /ready), e.g. 127.0.0.1:9901")
	if code := parseNoArgs(fs, args, stdout); code >= 0 {
		return code
	}
	for name, v := range map[string]string{"--config": *configPath, "--cert": *certPath, "--key": *keyPath, "--broker": *broker} {
		if v == "" {
			fmt.Fprintf(stderr, "iotauthz gateway: %s is required (see --help)\n", name)
			return 2
		}
	}
	if *maxConns < 0 {
		fmt.Fprintf(stderr, "iotauthz gateway: --max-connections %d: want 0 (no cap) or more\n", *maxConns)
		return 2
	}
	lv, ok := parseLogLevel(*level)
	if !ok {
		fmt.Fprintf(stderr, "iotauthz gateway: --log-level %q: want trace, debug, info, warn, error or critical\n", *level)
		return 2
	}
	cm := map[string]string{}
	for _, c := range clusters {
		name, u, ok := strings.Cut(c, "=")
		if !ok || name == "" || !strings.HasPrefix(u, "http://") {
			fmt.Fprintf(stderr, "iotauthz gateway: --cluster %q: want NAME=http://HOST:PORT\n", c)
			return 2
		}
		cm[name] = u
	}
	module, err := os.ReadFile(*wasmPath)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz gateway: %v (build it with make build)\n", err)
		return 1
	}
	pluginConfig, err := os.ReadFile(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz gateway: %v\n", err)
		return 1
	}
	if err := checkClusters(pluginConfig, cm); err != nil { // clusters.go
		fmt.Fprintf(stderr, "iotauthz gateway: %v\n", err)
		return 2
	}
	cert, err := tls.LoadX509KeyPair(*certPath, *keyPath)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz gateway: --cert/--key: %v\n", err)
		return 1
	}
	var logMu sync.Mutex
	logf := func(format string, a ...any) {
		logMu.Lock()
		fmt.Fprintf(stderr, time.Now().UTC().Format("2006-01-02T15:04:05.000Z")+" "+format+"\n", a...)
		logMu.Unlock()
	}
	// Lambda authorizers: a configuration the plugin refuses is reported by gateway.New below.
	var handlers map[string]http.Handler
	if _, perr := config.Parse(pluginConfig); perr == nil {
		handlers, err = lambda.Clusters(ctx, pluginConfig, lambda.Options{Endpoint: *lambdaEndpoint, Logf: logf})
		if err != nil {
			fmt.Fprintf(stderr, "iotauthz gateway: %v\n", err)
			return 1
		}
	}
	gw, err := gateway.New(ctx, gateway.Config{
		Module:         module,
		PluginConfig:   pluginConfig,
		Workers:        *workers,
		Clusters:       cm,
		Handlers:       handlers,
		TLS:            &tls.Config{Certificates: []tls.Certificate{cert}},
		Broker:         *broker,
		BrokerWS:       *brokerWS,
		HTTPUpstream:   *httpUpstream,
		LogLevel:       lv,
		LogSink:        func(e host.LogEntry) { logf("plugin %s: %s", e.Level, e.Message) },
		Logf:           func(f string, a ...any) { logf(f, a...) },
		ShutdownGrace:  *grace,
		MaxConnections: *maxConns,
	})
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz gateway: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		gw.Close()
		fmt.Fprintf(stderr, "iotauthz gateway: %v\n", err)
		return 1
	}
	var adminLn net.Listener
	if *adminAddr != "" {
		if adminLn, err = net.Listen("tcp", *adminAddr); err != nil {
			ln.Close()
			gw.Close()
			fmt.Fprintf(stderr, "iotauthz gateway: --admin: %v\n", err)
			return 1
		}
	}
	served := make(chan error, 2)
	go func() { served <- gw.Serve(ln) }()
	admin := ""
	if adminLn != nil {
		admin = adminLn.Addr().String()
		go func() {
			if err := gw.ServeAdmin(adminLn); !errors.Is(err, gateway.ErrServerClosed) {
				served <- fmt.Errorf("admin listener: %w", err)
			}
		}()
	}
	fmt.Fprintf(stdout, "iotauthz gateway: listening on %s (MQTT over TLS with ALPN mqtt, HTTPS, WSS), %d workers\n", ln.Addr(), *workers)
	if admin != "" {
		fmt.Fprintf(stdout, "iotauthz gateway: admin on http://%s (/stats/prometheus, /stats, /ready)\n", admin)
	}
	if ready != nil {
		ready(ln.Addr().String(), admin)
	}
	select {
	case err := <-served:
		gw.Close()
		fmt.Fprintf(stderr, "iotauthz gateway: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	logf("iotauthz gateway: shutting down (grace %v)", *grace)
	if err := gw.Shutdown(context.Background()); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(stderr, "iotauthz gateway: shutdown: %v\n", err)
		return 1
	}
	logf("iotauthz gateway: stopped")
	return 0
}

func parseLogLevel(s string) (host.LogLevel, bool) {
	for l := host.LogTrace; l <= host.LogCritical; l++ {
		if strings.EqualFold(l.String(), s) || (s == "warn" && l == host.LogWarn) {
			return l, true
		}
	}
	return 0, false
}
