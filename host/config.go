package host

import (
	"net/http"
	"strings"

	"github.com/tetratelabs/wazero"
	"google.golang.org/protobuf/types/known/structpb"
)

// Profile selects which Envoy release the host imitates: the WASI functions it
// offers, what poll_oneoff answers and which calls the restricted phases allow.
type Profile string

const (
	// Envoy133 is Envoy 1.33 through 1.38 (proxy-wasm-cpp-host after PR #427):
	// 18 WASI functions, poll_oneoff answers 52 (ENOSYS) without writing
	// nevents. It is the default.
	Envoy133 Profile = "envoy-1.33"
	// Envoy139 is Envoy 1.39 and newer (proxy-wasm-cpp-host after PR #533): 45
	// WASI functions, poll_oneoff writes nevents = 0 and answers 0.
	Envoy139 Profile = "envoy-1.39"
)

// LogLevel is a proxy-wasm log level (trace 0 … critical 5).
type LogLevel uint32

// Log levels, as proxy_log and proxy_get_log_level use them.
const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

// String returns the level's name as Envoy prints it.
func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "trace"
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warning"
	case LogError:
		return "error"
	case LogCritical:
		return "critical"
	}
	return "unknown"
}

// LogEntry is one line the guest logged through proxy_log or fd_write.
type LogEntry struct {
	Level   LogLevel
	Message string
	// Worker is the index of the VM that logged it; -1 for the canary VM.
	Worker int
}

// Config configures New. Only Module is required.
type Config struct {
	// Module is the .wasm binary (ABI v0.2.1, 0.2.0 or 0.1.0 marker export).
	Module []byte
	// Profile is Envoy133 (default) or Envoy139.
	Profile Profile
	// VMID is Envoy's vm_config.vm_id. Shared data is keyed by it across every
	// plugin of the process, as in Envoy.
	VMID string
	// RootID is the plugin's root_id (property plugin_root_id).
	RootID string
	// PluginName is the plugin's name (property plugin_name).
	PluginName string
	// VMConfig is vm_config.configuration, read by proxy_on_vm_start.
	VMConfig []byte
	// PluginConfig is the plugin configuration, read by proxy_on_configure.
	PluginConfig []byte
	// Env is vm_config.environment_variables, served by environ_get.
	Env map[string]string
	// Workers is the number of worker VMs (Envoy's worker threads). Default 1.
	Workers int
	// Clock drives time, ticks and HTTP-call timeouts. Default RealClock().
	Clock Clock
	// Clusters maps the cluster names proxy_http_call may use, and the
	// clusters Routes lead to.
	Clusters map[string]Cluster
	// Routes are the HTTP routes (see Route): properties route_name,
	// route_metadata, cluster_name, cluster_metadata, upstream.address and
	// upstream.port.
	Routes []Route
	// LogLevel is what proxy_get_log_level answers and the lowest level kept
	// in Logs. Default LogTrace (keep everything).
	LogLevel LogLevel
	// LogSink, if set, receives every kept log line as it is written, from the
	// goroutine running the VM (so concurrently for different workers). It
	// must not call back into the plugin.
	LogSink func(LogEntry)
	// FailOpen makes streams pass through (Continue) once a VM has failed,
	// instead of Envoy's default fail-closed behaviour (local reply 503
	// "wasm_fail_stream", or closing the connection).
	FailOpen bool
	// BufferLimit is Envoy's per-stream buffer limit for a filter that
	// buffers a body (StopIterationAndBuffer): past it a request gets a 413
	// local reply ("request_payload_too_large"), a response a 500
	// ("response_payload_too_large") or a reset once its headers went out.
	// Default 1 MiB (Envoy's per_connection_buffer_limit_bytes); negative:
	// no limit.
	BufferLimit int
	// CompilationCache, if set, replaces the process-wide in-memory cache of
	// compiled modules, e.g. wazero.NewCompilationCacheWithDir to keep
	// machine code across process restarts.
	CompilationCache wazero.CompilationCache
}

// Cluster is an upstream that proxy_http_call can reach by name. Set exactly
// one of Handler and URL.
type Cluster struct {
	// Handler serves the call in-process. A handler that panics with
	// http.ErrAbortHandler resets the call (the guest sees status 11).
	Handler http.Handler
	// URL is a real upstream base URL, "http://host:port". The request goes to
	// URL + :path with Host = :authority. A refused connection becomes a 503
	// response, as Envoy's router answers.
	URL string
	// Metadata is the cluster's filter_metadata: property cluster_metadata
	// of a stream routed to the cluster, once its request went upstream.
	Metadata map[string]*structpb.Struct
	// Address is the upstream host a routed stream reaches, "ip:port":
	// properties upstream.address and upstream.port once the request went
	// upstream. Default: URL's host and port.
	Address string
}

// Headers is an ordered header map with lowercased keys; pseudo-headers
// (":path", ":status"…) come first, as in Envoy.
type Headers [][2]string

// Get returns the first value of key (case-insensitive).
func (h Headers) Get(key string) (string, bool) {
	key = strings.ToLower(key)
	for _, p := range h {
		if p[0] == key {
			return p[1], true
		}
	}
	return "", false
}

// Values returns every value of key (case-insensitive), in order.
func (h Headers) Values(key string) []string {
	key = strings.ToLower(key)
	var out []string
	for _, p := range h {
		if p[0] == key {
			out = append(out, p[1])
		}
	}
	return out
}

// Clone returns a copy of h.
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	return append(Headers(nil), h...)
}

func (h Headers) byteSize() uint32 {
	n := 0
	for _, p := range h {
		n += len(p[0]) + len(p[1])
	}
	return uint32(n)
}

// add appends key: value with key lowercased; a pseudo-header goes after the
// existing pseudo-headers, as Envoy's HeaderMapImpl keeps them first.
func (h Headers) add(key, value string) Headers {
	key = strings.ToLower(key)
	if strings.HasPrefix(key, ":") {
		i := 0
		for i < len(h) && strings.HasPrefix(h[i][0], ":") {
			i++
		}
		h = append(h, [2]string{})
		copy(h[i+1:], h[i:])
		h[i] = [2]string{key, value}
		return h
	}
	return append(h, [2]string{key, value})
}

// set replaces the first key's value and drops its other values, or appends key: value: Envoy's
// HeaderMap::setCopy.
func (h Headers) set(key, value string) Headers {
	key = strings.ToLower(key)
	for i, p := range h {
		if p[0] == key {
			h[i][1] = value
			return append(h[:i+1], h[i+1:].remove(key)...)
		}
	}
	return h.add(key, value)
}

func (h Headers) remove(key string) Headers {
	key = strings.ToLower(key)
	out := h[:0]
	for _, p := range h {
		if p[0] != key {
			out = append(out, p)
		}
	}
	return out
}

// normalize returns a copy of in with lowercased keys and pseudo-headers
// first.
func normalizeHeaders(in Headers) Headers {
	if isNormal(in) {
		return append(make(Headers, 0, len(in)+4), in...)
	}
	out := make(Headers, 0, len(in)+4)
	for _, p := range in {
		out = out.add(p[0], p[1])
	}
	return out
}

// normalizeOwned is normalizeHeaders for a map its caller owns and gives up: in itself when it
// is already normal.
func normalizeOwned(in Headers) Headers {
	if isNormal(in) {
		return in
	}
	return normalizeHeaders(in)
}

func isNormal(h Headers) bool {
	regular := false
	for _, p := range h {
		k := p[0]
		if len(k) > 0 && k[0] == ':' {
			if regular {
				return false
			}
		} else {
			regular = true
		}
		for i := 0; i < len(k); i++ {
			if 'A' <= k[i] && k[i] <= 'Z' {
				return false
			}
		}
	}
	return true
}

// Properties are the stream-info facts a connection or stream exposes
// through proxy_get_property.
type Properties struct {
	// SNI is connection.requested_server_name ("" when the client sent none).
	SNI string
	// SourceAddress is the downstream peer, "ip:port" ("[::1]:port" for IPv6);
	// source.address, source.port.
	SourceAddress string
	// DestinationAddress is the local address the client reached, "ip:port";
	// destination.address, destination.port.
	DestinationAddress string
	// ConnectionID is connection.id and connection_id. Zero means: the host
	// assigns the next unique id.
	ConnectionID uint64
	// Protocol is request.protocol for HTTP streams ("HTTP/1.1" when empty).
	Protocol string
	// Extra answers any other path: the key is the path as the guest sends
	// it, its segments joined by NUL bytes (PropertyPath("connection",
	// "tls_version")), the value the raw bytes the guest receives (strings
	// raw, integers 8-byte little-endian). A key is one exact path: a segment
	// may contain ".".
	Extra map[string][]byte
}
