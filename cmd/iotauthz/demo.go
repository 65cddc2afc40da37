package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/demostack"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/refauth"
)

const demoHelp = `
usage: iotauthz demo [--wasm FILE] [--listen ADDR] [--dir DIR] [--deny-action disconnect|reject]
                     [--verbose]

What 'make run' starts: everything a device needs to talk to the plugin, on loopback, with only
Go installed. It

  1. writes into DIR a token-signing RSA key pair, a throwaway CA and a server certificate for
     "localhost", the plugin configuration (plugin.json) and the authorizer's rules (rules.json);
  2. starts the reference authorizer, an embedded MQTT broker (mochi-mqtt, TCP and WebSocket) with
     an HTTP publish receiver, and the embedded gateway running FILE on ADDR;
  3. prints the mosquitto_sub, mosquitto_pub and curl commands that show an allowed publish
     arriving at a subscriber, a denied publish and a denied subscribe.

The demo device token "demo-token" may publish anywhere under demo/, and subscribe to and receive
only its own tree demo/<client id>/; everything else is denied. The plugin's decision logs go to
stderr. Ctrl-C stops everything cleanly.

The commands need the mosquitto clients: 'sudo apt-get install mosquitto-clients' (Debian,
Ubuntu), 'brew install mosquitto' (macOS).
`

func init() {
	register("demo", "run authorizer, embedded broker and gateway on loopback and print commands to try (make run)", runDemo)
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	return untilSignal(func(ctx context.Context) int { return serveDemo(ctx, args, stdout, stderr, nil) })
}

// The demo's names: the plugin configuration's authorizer and token key, the device token.
const (
	demoAuthorizer = demostack.Authorizer
	demoTokenKey   = demostack.TokenKey
	demoToken      = demostack.Token
)

// demoInfo is what the printed commands need; serveDemo hands it to ready (tests).
type demoInfo struct {
	Dir, CAFile, Host, Port string
	Username                string // the MQTT username with the credentials, not yet shell-quoted
	Signature               string
	Authorizer, TokenKey    string
	Token                   string
	DenyAction              string
}

func serveDemo(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(demoInfo)) int {
	fs := newFlagSet("demo", demoHelp, stdout, stderr)
	wasmPath := fs.String("wasm", "dist/iotauthz.wasm", "the plugin module (make build writes it)")
	listen := fs.String("listen", "127.0.0.1:8443", "the gateway's address, HOST:PORT (port 0 picks a free one)")
	dir := fs.String("dir", "dist/demo", "where to write the keys, certificates and configuration")
	denyAction := fs.String("deny-action", "reject", `what a denied PUBLISH or SUBSCRIBE does: "reject" (refused with a reason code the clients print) or "disconnect" (AWS IoT's MQTT 3.1.1 behaviour: the connection is closed)`)
	verbose := fs.Bool("verbose", false, "log every plugin decision (debug), not only connections and denials")
	if code := parseNoArgs(fs, args, stdout); code >= 0 {
		return code
	}
	if *denyAction != "disconnect" && *denyAction != "reject" {
		fmt.Fprintf(stderr, "iotauthz demo: --deny-action %q: want disconnect or reject\n", *denyAction)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "iotauthz demo: %v\n", err)
		return 1
	}
	module, err := os.ReadFile(*wasmPath)
	if err != nil {
		return fail(fmt.Errorf("%v (build the plugin first: make build)", err))
	}

	// The gateway's address first: a busy port fails before anything starts.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(fmt.Errorf("%v (choose another address with --listen)", err))
	}
	defer ln.Close()

	// 1. Files.
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fail(err)
	}
	if abs, err := filepath.Abs(*dir); err == nil {
		*dir = abs
	}
	pki, err := gatewaytest.NewPKI("localhost", "127.0.0.1", "::1")
	if err != nil {
		return fail(err)
	}
	caFile, _, _, err := pki.WriteFiles(*dir)
	if err != nil {
		return fail(err)
	}
	key, err := gatewaytest.NewSigningKey()
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "token-signing-private.pem"), key.PrivatePEM, 0o600); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "token-signing-public.pem"), key.PublicPEM, 0o644); err != nil {
		return fail(err)
	}
	pluginJSON := demoPluginConfig(key.PublicPEM, *denyAction, *verbose)
	if err := os.WriteFile(filepath.Join(*dir, "plugin.json"), pluginJSON, 0o644); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "rules.json"), []byte(demostack.Rules), 0o644); err != nil {
		return fail(err)
	}
	rules, err := refauth.Parse([]byte(demostack.Rules))
	if err != nil {
		return fail(fmt.Errorf("demo rules: %v", err))
	}

	var logMu sync.Mutex
	logf := func(format string, a ...any) {
		logMu.Lock()
		fmt.Fprintf(stderr, time.Now().Format("15:04:05.000")+" "+format+"\n", a...)
		logMu.Unlock()
	}

	// 2. Authorizer, broker and its HTTP publish receiver, gateway.
	auth := refauth.New(rules)
	auth.Log = func(line string) { logf("authorizer: %s", line) }
	authLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	authSrv := &http.Server{Handler: auth, ReadHeaderTimeout: 10 * time.Second}
	go authSrv.Serve(authLn)
	defer authSrv.Close()

	broker, err := gatewaytest.NewBroker(nil)
	if err != nil {
		return fail(fmt.Errorf("embedded broker: %v", err))
	}
	defer broker.Close()
	pubLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	pubSrv := &http.Server{Handler: broker.PublishHandler(), ReadHeaderTimeout: 10 * time.Second}
	go pubSrv.Serve(pubLn)
	defer pubSrv.Close()

	level := host.LogInfo
	if *verbose {
		level = host.LogDebug
	}
	gw, err := gateway.New(ctx, gateway.Config{
		Module:       module,
		PluginConfig: pluginJSON,
		Workers:      2,
		Clusters:     map[string]string{"authorizer": "http://" + authLn.Addr().String()},
		TLS:          pki.ServerTLS(),
		Broker:       "tcp://" + broker.TCPAddr,
		BrokerWS:     broker.WSURL,
		HTTPUpstream: "http://" + pubLn.Addr().String(),
		LogLevel:     level,
		LogSink:      func(e host.LogEntry) { logf("plugin %s: %s", e.Level, e.Message) },
		Logf:         func(f string, a ...any) { logf(f, a...) },
	})
	if err != nil {
		return fail(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ln) }()

	// 3. The commands.
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	sig := key.Sign(demoToken)
	info := demoInfo{Dir: *dir, CAFile: caFile, Host: "localhost", Port: port,
		Username:  gatewaytest.Username("demo", demoAuthorizer, demoTokenKey, demoToken, sig),
		Signature: sig, Authorizer: demoAuthorizer, TokenKey: demoTokenKey, Token: demoToken, DenyAction: *denyAction}
	if err := demoCommands.Execute(stdout, info); err != nil {
		return fail(err)
	}
	if ready != nil {
		ready(info)
	}

	select {
	case err := <-served:
		gw.Close()
		return fail(err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "\niotauthz demo: stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := gw.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fail(err)
	}
	return 0
}

// demoPluginConfig is the demo stack's configuration (demostack.Config), indented for the reader
// of plugin.json.
func demoPluginConfig(publicPEM []byte, denyAction string, verbose bool) []byte {
	level := "info"
	if verbose {
		level = "debug"
	}
	b, _ := json.MarshalIndent(demostack.Config(publicPEM, denyAction, level), "", "  ")
	return append(b, '\n')
}

var demoCommands = template.Must(template.New("demo").Funcs(template.FuncMap{
	"q":     shellQuote,
	"topic": url.PathEscape,
}).Parse(`
iotauthz demo: the gateway listens on {{.Host}}:{{.Port}} (MQTT over TLS with ALPN mqtt, HTTPS, WSS).
Files in {{.Dir}}: ca.pem, server.pem, token-signing-*.pem, plugin.json, rules.json.
The device token {{q .Token}} may publish under demo/, and subscribe to and receive demo/<its client id>/ only.
Denied MQTT packets are {{if eq .DenyAction "reject"}}refused with reason codes (--deny-action disconnect closes the connection instead, as AWS IoT does for MQTT 3.1.1){{else}}answered by closing the connection (AWS IoT's MQTT 3.1.1 behaviour){{end}}.
You need the mosquitto clients: sudo apt-get install mosquitto-clients (Debian/Ubuntu), brew install mosquitto (macOS).

# 1. In a second terminal, subscribe as client sensor-1 to its own tree (allowed; keep it running):
mosquitto_sub -h {{.Host}} -p {{.Port}} --cafile {{q .CAFile}} --tls-alpn mqtt -V mqttv5 -i sensor-1 -u {{q .Username}} -t 'demo/sensor-1/#' -v

# 2. Publish as client sensor-2 into sensor-1's tree (allowed: terminal 1 prints "demo/sensor-1/temperature 21.5"):
mosquitto_pub -h {{.Host}} -p {{.Port}} --cafile {{q .CAFile}} --tls-alpn mqtt -V mqttv5 -i sensor-2 -u {{q .Username}} -q 1 -t demo/sensor-1/temperature -m 21.5

# 3. Publish outside demo/ (denied: mosquitto_pub prints "Warning: Publish 1 failed: Not authorized."; nothing reaches the broker):
mosquitto_pub -h {{.Host}} -p {{.Port}} --cafile {{q .CAFile}} --tls-alpn mqtt -V mqttv5 -i sensor-2 -u {{q .Username}} -q 1 -t secret/plans -m nope

# 4. Subscribe to another device's tree (denied: mosquitto_sub prints "All subscription requests were denied."):
mosquitto_sub -h {{.Host}} -p {{.Port}} --cafile {{q .CAFile}} --tls-alpn mqtt -V mqttv5 -i sensor-3 -u {{q .Username}} -t 'demo/sensor-1/#' -v

# 5. HTTPS publish (allowed: {"message":"OK",...} HTTP 200, and terminal 1 prints "demo/sensor-1/humidity 40"):
curl -sS -w ' HTTP %{http_code}\n' --cacert {{q .CAFile}} -X POST 'https://{{.Host}}:{{.Port}}/topics/{{topic "demo/sensor-1/humidity"}}?qos=1' -H 'x-amz-customauthorizer-name: {{.Authorizer}}' -H {{q (print "x-amz-customauthorizer-signature: " .Signature)}} -H '{{.TokenKey}}: {{.Token}}' -d 40

# 6. HTTPS publish outside demo/ (denied: {"message":"Forbidden","traceId":"..."} HTTP 403):
curl -sS -w ' HTTP %{http_code}\n' --cacert {{q .CAFile}} -X POST 'https://{{.Host}}:{{.Port}}/topics/{{topic "secret/plans"}}' -H 'x-amz-customauthorizer-name: {{.Authorizer}}' -H {{q (print "x-amz-customauthorizer-signature: " .Signature)}} -H '{{.TokenKey}}: {{.Token}}' -d nope

# Without a valid signature the gateway refuses before calling the authorizer; sign another token with:
#   go run ./cmd/iotauthz sign --key {{q .Dir}}/token-signing-private.pem TOKEN
The plugin's decision logs follow on stderr. Ctrl-C stops everything.
`))

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
