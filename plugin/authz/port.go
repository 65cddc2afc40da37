package authz

import "github.com/iotauthz/iotauthz/plugin/config"

// Host is the engine's port to the proxy that runs it: the only way the engine reaches outside
// its own memory. package main implements it on the proxy-wasm ABI (one per worker VM, on the
// root context); tests implement it in memory. Every method is called from the engine's single
// thread, never concurrently.
type Host interface {
	// Call sends the authorizer event body to a's cluster (POST a.Path, :authority
	// a.Authority, content-type application/json, a.TimeoutMillis). It returns an error when
	// the call cannot be started; otherwise done runs exactly once, later, with the answer,
	// outside any stream's callback.
	Call(a *config.Authorizer, body []byte, done func(Response)) error
	// Now is the time in Unix nanoseconds.
	Now() int64
	// SharedData reads a key of the data shared by every VM of the proxy: the value and its CAS
	// token, or an error when the key is absent.
	SharedData(key string) ([]byte, uint32, error)
	// SetSharedData writes a shared key if cas is 0 or still the key's CAS token.
	SetSharedData(key string, value []byte, cas uint32) error
	// Log writes one log line at level; msg is only valid during the call.
	Log(level LogLevel, msg []byte)
	// Record adds delta to a counter or a gauge, or records it in a histogram (Metric.Kind).
	Record(m Metric, delta int64)
}

// Response is the authorizer's answer to one Call, as the host received it.
type Response struct {
	// Failed: no HTTP answer at all (reset, no healthy upstream); Code and Message are the
	// host's status for it.
	Failed  bool
	Code    uint32
	Message string
	// Status is the answer's :status; Size its body's length.
	Status string
	Size   int
	// FunctionError is the x-amz-function-error header of the answer: a Lambda function that
	// failed (Unhandled, Handled), as Envoy's aws_lambda filter passes it through with HTTP 200.
	FunctionError string
	// Body is the body when Status is "200" and Size is at most MaxResponseBytes; BodyErr why
	// it could not be read.
	Body    []byte
	BodyErr error
}

// MaxResponseBytes bounds the authorizer's answer: 10 documents of 2048 characters and a
// context fit easily; anything larger is refused unread.
const MaxResponseBytes = 64 << 10

// Transport is one MQTT connection's bytes on the host: the network filter's buffers (MQTT
// over TLS) or the upgraded HTTP stream's bodies (MQTT over WebSocket).
type Transport interface {
	// ClientData reads the client→broker bytes of the current callback; SetClientData
	// replaces them.
	ClientData(size int) ([]byte, error)
	SetClientData(b []byte) error
	// BrokerData and SetBrokerData are the same for broker→client bytes.
	BrokerData(size int) ([]byte, error)
	SetBrokerData(b []byte) error
	// Resume lets client data held by a Pause go on.
	Resume() error
	// Close closes the connection (resets the stream).
	Close() error
	// Enter makes this connection the one the other methods act on, when the engine runs
	// outside its callbacks (an authorizer answer, the tick); an error means it is gone.
	Enter() error
}

// StreamHost is one HTTP stream on the host: its request and response, and, once upgraded to
// a WebSocket, the MQTT bytes of its bodies.
type StreamHost interface {
	Transport
	// Address is the client's IP address and port, read only when a log line or a policy
	// needs them.
	Address() (ip string, port int)
	// RemoveHeader removes a request header; SetPath replaces the request's :path.
	RemoveHeader(name string)
	SetPath(path string)
	// ResponseStatus is the response's :status.
	ResponseStatus() string
	// Reply answers the request locally with status and a JSON body. body is the engine's
	// scratch, valid only during the call: a host that keeps it copies it.
	Reply(status int, body []byte) error
}

// Source is what the host knows of a downstream connection.
type Source struct {
	IP   string
	Port int
	SNI  string // lower case; "" without TLS SNI
	Conn uint64 // the host's connection id; 0 when unknown
	// domain is the endpoint the device connected to (iot:DomainName): the SNI's when there is
	// one, else the Host header's; lower case, as configured. dom is its domain configuration,
	// nil for a plain data endpoint (domains.go).
	domain string
	dom    *domainEntry
}

// Action is what a stream callback answers the host.
type Action uint8

const (
	// Continue lets the data go on.
	Continue Action = iota
	// Pause holds it (until Resume, a local reply or a close).
	Pause
)

// LogLevel is a log line's level, with proxy-wasm's numbering.
type LogLevel uint32

const (
	LevelTrace LogLevel = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelCritical
)
