// Command httppublish is the HTTP publish receiver of the docker compose stack: the upstream of
// Envoy's http_publish cluster. Envoy (with iotauthz) has already authorized each request, so it
// only turns an AWS IoT-style HTTPS publish into an MQTT publish on the broker, the way AWS IoT
// Core's data plane does, and remembers what it received for the tester.
//
//	POST /topics/{url-encoded topic}?qos=0|1&retain=true|false   body = payload
//	  -> MQTT 3.1.1 PUBLISH on the broker; 200 {"message":"OK","traceId":"..."}
//	GET /received   the last 1000 publishes, oldest first: [{"topic","payload","qos","retain"}]
//	GET /healthz    "ok"
//
// usage: httppublish [-listen 0.0.0.0:8081] [-broker mosquitto:1883]
// With -broker "" nothing is forwarded (only recorded).
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

func main() {
	listen := flag.String("listen", "0.0.0.0:8081", "address to serve HTTP on")
	broker := flag.String("broker", "mosquitto:1883", "MQTT broker to publish to (host:port); empty: record only")
	flag.Parse()
	r := &receiver{broker: *broker}
	log.Printf("httppublish: listening on %s, publishing to %q", *listen, *broker)
	log.Fatal((&http.Server{Addr: *listen, Handler: r, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe())
}

// message is one received publish.
type message struct {
	Topic   string `json:"topic"`
	Payload string `json:"payload"`
	QoS     int    `json:"qos"`
	Retain  bool   `json:"retain"`
}

type receiver struct {
	broker string
	seq    atomic.Uint64

	mu       sync.Mutex
	received []message
}

const (
	maxPayload  = 128 << 10 // AWS IoT's message size limit
	maxReceived = 1000
)

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		io.WriteString(w, "ok\n")
	case r.Method == http.MethodGet && r.URL.Path == "/received":
		rc.mu.Lock()
		out := append([]message{}, rc.received...)
		rc.mu.Unlock()
		w.Header().Set("content-type", "application/json")
		json.NewEncoder(w).Encode(out)
	case strings.HasPrefix(r.URL.EscapedPath(), "/topics/"):
		rc.publish(w, r)
	default:
		jsonError(w, http.StatusNotFound, "Not Found")
	}
}

func (rc *receiver) publish(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		jsonError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	topic, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/topics/"))
	if err != nil || topic == "" || strings.ContainsAny(topic, "+#\x00") {
		jsonError(w, http.StatusBadRequest, "Invalid topic")
		return
	}
	q := r.URL.Query()
	m := message{Topic: topic}
	switch q.Get("qos") {
	case "", "0":
	case "1":
		m.QoS = 1
	default:
		jsonError(w, http.StatusBadRequest, "Invalid qos")
		return
	}
	switch strings.ToLower(q.Get("retain")) {
	case "", "false":
	case "true":
		m.Retain = true
	default:
		jsonError(w, http.StatusBadRequest, "Invalid retain")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		jsonError(w, http.StatusRequestEntityTooLarge, "Payload too large")
		return
	}
	m.Payload = string(body)
	if rc.broker != "" {
		id := fmt.Sprintf("httppublish-%d", rc.seq.Add(1))
		if err := publishMQTT(rc.broker, id, m, 5*time.Second); err != nil {
			log.Printf("httppublish: %s: %v", topic, err)
			jsonError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
	}
	rc.mu.Lock()
	if len(rc.received) == maxReceived {
		rc.received = append(rc.received[:0], rc.received[1:]...)
	}
	rc.received = append(rc.received, m)
	rc.mu.Unlock()
	w.Header().Set("content-type", "application/json")
	fmt.Fprintf(w, `{"message":"OK","traceId":"%s"}`, traceID())
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"message":%q,"traceId":"%s"}`, msg, traceID())
}

func traceID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// publishMQTT publishes m with one short MQTT 3.1.1 session: CONNECT, PUBLISH (waiting for the
// PUBACK at QoS 1), DISCONNECT. One session per request keeps this receiver stateless; it is a
// test fixture, not a bridge for production load.
func publishMQTT(addr, clientID string, m message, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))

	// CONNECT: protocol "MQTT" level 4, clean session, keep alive 30 s.
	vh := append(mqttString(nil, "MQTT"), 4, 0x02, 0, 30)
	if _, err := c.Write(packet(0x10, append(vh, mqttString(nil, clientID)...))); err != nil {
		return err
	}
	var ack [4]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		return fmt.Errorf("reading CONNACK: %w", err)
	}
	if ack[0] != 0x20 || ack[1] != 2 || ack[3] != 0 {
		return fmt.Errorf("broker refused the connection: CONNACK % x", ack)
	}

	flags := byte(m.QoS << 1)
	if m.Retain {
		flags |= 1
	}
	body := mqttString(nil, m.Topic)
	if m.QoS == 1 {
		body = append(body, 0, 1) // packet identifier 1
	}
	body = append(body, m.Payload...)
	if _, err := c.Write(packet(0x30|flags, body)); err != nil {
		return err
	}
	if m.QoS == 1 {
		if _, err := io.ReadFull(c, ack[:]); err != nil {
			return fmt.Errorf("reading PUBACK: %w", err)
		}
		if ack[0] != 0x40 || ack[1] != 2 || ack[2] != 0 || ack[3] != 1 {
			return fmt.Errorf("unexpected answer to PUBLISH: % x", ack)
		}
	}
	_, err = c.Write([]byte{0xe0, 0}) // DISCONNECT
	return err
}

func mqttString(dst []byte, s string) []byte {
	return append(append(dst, byte(len(s)>>8), byte(len(s))), s...)
}

// packet frames an MQTT control packet: fixed header byte, remaining length, body.
func packet(header byte, body []byte) []byte {
	return append(mqtt.AppendVarint([]byte{header}, len(body)), body...)
}

var _ http.Handler = (*receiver)(nil)
