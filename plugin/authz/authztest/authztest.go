// Package authztest runs the engine (package authz) in memory: a Host with a settable clock,
// pending authorizer calls answered by the test, shared data, captured logs and metrics; a
// Stream for one HTTP request; a Conn for one MQTT connection's bytes. It emulates no proxy-wasm
// ABI: it is the engine's ports, nothing more, for the engine's tests and the native twin of
// the plugin's benchmarks. Not safe for concurrent use, like the engine.
package authztest

import (
	"errors"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/config"
)

// Host is an in-memory authz.Host.
type Host struct {
	Clock   int64 // Unix ns; Now returns it
	Metrics [authz.NumMetrics]int64
	Shared  map[string][]byte
	// DiscardLogs drops log lines instead of keeping them in Logs.
	DiscardLogs bool
	Logs        []string
	// CallError makes Call fail to start.
	CallError error

	pending []*Call
}

// Call is an authorizer call the test has not answered yet.
type Call struct {
	Authorizer *config.Authorizer
	Body       []byte
	done       func(authz.Response)
}

// NewHost returns a Host whose clock reads now.
func NewHost(now int64) *Host { return &Host{Clock: now, Shared: map[string][]byte{}} }

// Call implements authz.Host.
func (h *Host) Call(a *config.Authorizer, body []byte, done func(authz.Response)) error {
	if h.CallError != nil {
		return h.CallError
	}
	h.pending = append(h.pending, &Call{Authorizer: a, Body: append([]byte(nil), body...), done: done})
	return nil
}

// Now implements authz.Host.
func (h *Host) Now() int64 { return h.Clock }

// SharedData implements authz.Host.
func (h *Host) SharedData(key string) ([]byte, uint32, error) {
	v, ok := h.Shared[key]
	if !ok {
		return nil, 0, errors.New("not found")
	}
	return v, 1, nil
}

// SetSharedData implements authz.Host (the CAS token is ignored: one thread).
func (h *Host) SetSharedData(key string, value []byte, _ uint32) error {
	h.Shared[key] = append([]byte(nil), value...)
	return nil
}

// Log implements authz.Host.
func (h *Host) Log(_ authz.LogLevel, msg []byte) {
	if !h.DiscardLogs {
		h.Logs = append(h.Logs, string(msg))
	}
}

// Record implements authz.Host.
func (h *Host) Record(m authz.Metric, delta int64) { h.Metrics[m] += delta }

// Pending returns the calls not answered yet, oldest first.
func (h *Host) Pending() []*Call { return h.pending }

// Respond answers the oldest pending call with status and body; false when none is pending.
func (h *Host) Respond(status string, body []byte) bool {
	return h.Complete(authz.Response{Status: status, Size: len(body), Body: body})
}

// Complete answers the oldest pending call with r.
func (h *Host) Complete(r authz.Response) bool {
	if len(h.pending) == 0 {
		return false
	}
	c := h.pending[0]
	h.pending = h.pending[1:]
	c.done(r)
	return true
}

// LogsContaining returns the log lines that contain s.
func (h *Host) LogsContaining(s string) []string {
	var out []string
	for _, l := range h.Logs {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// Conn is an in-memory authz.Transport: the bytes of one callback, what reached each side, and
// whether the connection was resumed or closed.
type Conn struct {
	client, broker []byte // the current callback's data
	held           []byte // client data held by a Pause
	// ToBroker and ToClient are what went through; Closed and Resumed what the engine did.
	ToBroker, ToClient []byte
	Closed             bool
	Resumed            int
	// Gone makes Enter fail (the host no longer knows the connection).
	Gone bool
	// KeepDelivered: when false, ToBroker and ToClient are not kept (benchmarks); BrokerBytes
	// counts what reached the broker either way.
	KeepDelivered bool
	BrokerBytes   int
}

// FromClient hands data to c as one downstream callback (with what an earlier Pause held, as
// Envoy re-delivers it) and delivers what the engine lets through.
func (t *Conn) FromClient(ac *authz.Conn, data []byte) authz.Action {
	t.client = append(t.held, data...)
	t.held = nil
	a := ac.FromClient(len(t.client))
	if a == authz.Pause {
		t.held = t.client
		return a
	}
	t.BrokerBytes += len(t.client)
	if t.KeepDelivered {
		t.ToBroker = append(t.ToBroker, t.client...)
	}
	return a
}

// FromBroker hands data to c as one upstream callback.
func (t *Conn) FromBroker(ac *authz.Conn, data []byte) authz.Action {
	t.broker = data
	a := ac.FromBroker(len(data))
	if t.KeepDelivered {
		t.ToClient = append(t.ToClient, t.broker...)
	}
	return a
}

// ClientData implements authz.Transport.
func (t *Conn) ClientData(n int) ([]byte, error) { return t.client[:min(n, len(t.client))], nil }

// SetClientData implements authz.Transport.
func (t *Conn) SetClientData(b []byte) error { t.client = append(t.client[:0:0], b...); return nil }

// BrokerData implements authz.Transport.
func (t *Conn) BrokerData(n int) ([]byte, error) { return t.broker[:min(n, len(t.broker))], nil }

// SetBrokerData implements authz.Transport.
func (t *Conn) SetBrokerData(b []byte) error { t.broker = append(t.broker[:0:0], b...); return nil }

// Resume implements authz.Transport: the held client data goes to the broker.
func (t *Conn) Resume() error {
	t.Resumed++
	t.BrokerBytes += len(t.held)
	if t.KeepDelivered {
		t.ToBroker = append(t.ToBroker, t.held...)
	}
	t.held = nil
	return nil
}

// Close implements authz.Transport.
func (t *Conn) Close() error { t.Closed = true; return nil }

// Enter implements authz.Transport.
func (t *Conn) Enter() error {
	if t.Gone {
		return errors.New("gone")
	}
	return nil
}

// Stream is an in-memory authz.StreamHost: one HTTP request and what the engine did to it.
type Stream struct {
	Conn
	IP      string
	Port    int
	Status  string // the response :status ResponseStatus returns
	Removed []string
	Path    string // set by SetPath
	// ReplyStatus and ReplyBody are the local reply, if any.
	ReplyStatus int
	ReplyBody   []byte
}

// Address implements authz.StreamHost.
func (s *Stream) Address() (string, int) { return s.IP, s.Port }

// RemoveHeader implements authz.StreamHost.
func (s *Stream) RemoveHeader(name string) { s.Removed = append(s.Removed, name) }

// SetPath implements authz.StreamHost.
func (s *Stream) SetPath(path string) { s.Path = path }

// ResponseStatus implements authz.StreamHost.
func (s *Stream) ResponseStatus() string { return s.Status }

// Reply implements authz.StreamHost.
func (s *Stream) Reply(status int, body []byte) error {
	s.ReplyStatus, s.ReplyBody = status, append([]byte(nil), body...) // body is the engine's scratch
	return nil
}

var (
	_ authz.Host       = (*Host)(nil)
	_ authz.Transport  = (*Conn)(nil)
	_ authz.StreamHost = (*Stream)(nil)
)
