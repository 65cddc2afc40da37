package gatewaytest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is an embedded MQTT broker (mochi-mqtt) on loopback, with a TCP listener, a WebSocket
// listener, and an HTTP handler that publishes POST /topics/{topic} bodies into it: what an
// upstream of the gateway's HTTPS publish does. It accepts every client; the gateway in front of
// it is what authorizes.
type Broker struct {
	// TCPAddr is "127.0.0.1:PORT" (MQTT over TCP); WSURL is "ws://127.0.0.1:PORT/mqtt".
	TCPAddr, WSURL string
	server         *mqtt.Server
	closeOnce      sync.Once
}

// NewBroker starts a broker on free loopback ports. logger may be nil (no broker logs).
func NewBroker(logger *slog.Logger) (*Broker, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := mqtt.New(&mqtt.Options{InlineClient: true, Logger: logger})
	if err := s.AddHook(new(allowAll), nil); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if err := s.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		ln.Close()
		return nil, err
	}
	// mochi's WebSocket listener binds its own address: take a free port and give it back.
	wsAddr, err := FreeAddr()
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.AddListener(listeners.NewWebsocket(listeners.Config{ID: "ws", Address: wsAddr})); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Serve(); err != nil {
		s.Close()
		return nil, err
	}
	return &Broker{TCPAddr: ln.Addr().String(), WSURL: "ws://" + wsAddr + "/mqtt", server: s}, nil
}

// FreeAddr returns a loopback "127.0.0.1:PORT" that was free a moment ago.
func FreeAddr() (string, error) {
	a, err := FreeAddrs(1)
	if err != nil {
		return "", err
	}
	return a[0], nil
}

// FreeAddrs returns n loopback addresses "127.0.0.1:PORT" that were free a moment ago, n
// different ports: it holds each port until it has them all.
func FreeAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// WaitListening waits up to 10 s until every addrs (HOST:PORT) accepts TCP connections.
func WaitListening(addrs ...string) error {
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not listening after 10s: %v", a, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// Publish publishes payload on topic from inside the broker.
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	return b.server.Publish(topic, payload, retain, qos)
}

// Close stops the broker and disconnects its clients.
func (b *Broker) Close() error {
	var err error
	b.closeOnce.Do(func() { err = b.server.Close() })
	return err
}

// PublishHandler is the broker's HTTPS publish upstream: PublishHandler(b.Publish).
func (b *Broker) PublishHandler() http.Handler {
	return PublishHandler(func(topic string, payload []byte, retain bool, qos byte) error {
		err := b.Publish(topic, payload, retain, qos)
		if errors.Is(err, mqtt.ErrInlineClientNotEnabled) {
			err = errors.New("inline client disabled")
		}
		return err
	})
}

// MaxPublishBytes is the largest body PublishHandler takes: AWS IoT's message size limit.
const MaxPublishBytes = 128 << 10

// PublishHandler serves POST /topics/{urlencoded topic}?qos=0|1&retain=true|false by passing the
// topic and the request body to publish, answering 200 {"message":"OK","traceId":"..."} as AWS
// IoT's HTTPS publish does: what an upstream of the gateway's HTTPS publish does. Other requests
// get 404; a bad topic or qos, or a body that is unreadable or over MaxPublishBytes, 400 and
// nothing published (a truncated body published would hide a limit that lets part of a refused
// body through); a publish that fails, 500 with its error.
func PublishHandler(publish func(topic string, payload []byte, retain bool, qos byte) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.EscapedPath()
		if r.Method != http.MethodPost || !strings.HasPrefix(raw, "/topics/") {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		topic, err := url.PathUnescape(strings.TrimPrefix(raw, "/topics/"))
		if err != nil || topic == "" {
			http.Error(w, `{"message":"bad topic"}`, http.StatusBadRequest)
			return
		}
		qos := byte(0)
		if q := r.URL.Query().Get("qos"); q != "" {
			n, err := strconv.Atoi(q)
			if err != nil || n < 0 || n > 1 {
				http.Error(w, `{"message":"qos must be 0 or 1"}`, http.StatusBadRequest)
				return
			}
			qos = byte(n)
		}
		retain := r.URL.Query().Get("retain") == "true"
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxPublishBytes+1))
		if err != nil || len(body) > MaxPublishBytes {
			http.Error(w, `{"message":"body unreadable or over 128 KiB"}`, http.StatusBadRequest)
			return
		}
		if err := publish(topic, body, retain, qos); err != nil {
			http.Error(w, fmt.Sprintf(`{"message":%q}`, err.Error()), http.StatusInternalServerError)
			return
		}
		w.Header().Set("content-type", "application/json")
		_, _ = io.WriteString(w, `{"message":"OK","traceId":"`+traceID()+`"}`)
	})
}

func traceID() string {
	s := serial().Text(16)
	for len(s) < 32 {
		s = "0" + s
	}
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// allowAll lets every client connect and use every topic (mochi's hooks/auth.AllowHook, without
// the YAML ledger that package pulls in).
type allowAll struct{ mqtt.HookBase }

func (*allowAll) ID() string { return "allow-all" }

func (*allowAll) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (*allowAll) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

func (*allowAll) OnACLCheck(*mqtt.Client, string, bool) bool { return true }
