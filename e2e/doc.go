// Package e2e holds the end-to-end tests: real MQTT clients (mosquitto_pub and mosquitto_sub from
// Debian's mosquitto-clients, and the Eclipse Paho Go client over TLS and WSS) against a real
// mosquitto broker, through the plugin (dist/iotauthz.wasm) and the reference authorizer.
//
// By default (go test ./e2e, part of make test) the tests start everything on free loopback
// ports: mosquitto (/usr/sbin/mosquitto, a TCP and a WebSocket listener), the reference
// authorizer in process, an HTTP publish receiver, and two embedded gateways (host/gateway), one
// per mqtt.denyAction ("disconnect" and "reject"). TestEmbedded runs every scenario there.
//
// With -args -e2e.target=compose (the docker compose stack, e2e/docker-compose.yaml) TestCompose
// runs the same scenarios against Envoy; the flags name the stack's addresses. Without a Docker
// engine that mode cannot run here.
//
// Missing mosquitto fails the tests with the command that installs it (`make deps`, or
// `sudo apt-get install -y mosquitto mosquitto-clients`); outside CI (CI unset) they are skipped
// with that message instead.
//
// Beside TestEmbedded:
//   - TestConformance runs one MQTT 3.1.1 and 5 scenario list twice, straight against a mosquitto
//     and through the gateway under an allow-all policy, over TLS and WSS, and compares the
//     wire-level transcripts; a second list states where the proxy must differ (denials).
//   - TestSecurity: the Will, the CONNECT's condition keys and the credentials that must not
//     reach the broker (read from a recording broker).
//   - TestHostile_*: the CONNECT deadline, the header and body limits and EMFILE, each followed by
//     good clients.
//   - TestLambda: Lambda authorizers through AWS's Runtime Interface Emulator.
//   - TestParity_*: AWS IoT Core's MQTT behaviour: the receive stall (an idle subscriber behind 30
//     denied QoS 1/2 messages, mosquitto at its defaults; the delay is logged), the CONNACK of a
//     refused CONNECT, and the per-version deny behaviour of mqtt.denyAction "auto".
//
// Every wait is bounded; a failure prints the gateway's and the plugin's logs.
package e2e
