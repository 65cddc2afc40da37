package proxywasm

import "strconv"

// Action is what a stream callback returns to the host.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#types
type Action uint32

const (
	// ActionContinue lets the host pass the data on.
	ActionContinue Action = 0
	// ActionPause stops iteration: for headers Envoy buffers what follows; for bodies and L4 data
	// it buffers and reports the accumulated size on the next callback.
	ActionPause Action = 1
)

// PeerType says which side closed a connection.
type PeerType uint32

const (
	PeerTypeUnknown PeerType = 0
	PeerTypeLocal   PeerType = 1
	PeerTypeRemote  PeerType = 2
)

// LogLevel is the level of proxy_log and proxy_get_log_level.
type LogLevel uint32

const (
	LogLevelTrace    LogLevel = 0
	LogLevelDebug    LogLevel = 1
	LogLevelInfo     LogLevel = 2
	LogLevelWarn     LogLevel = 3
	LogLevelError    LogLevel = 4
	LogLevelCritical LogLevel = 5
)

// String returns "trace", "debug", "info", "warn", "error" or "critical".
func (l LogLevel) String() string {
	switch l {
	case LogLevelTrace:
		return "trace"
	case LogLevelDebug:
		return "debug"
	case LogLevelInfo:
		return "info"
	case LogLevelWarn:
		return "warn"
	case LogLevelError:
		return "error"
	case LogLevelCritical:
		return "critical"
	}
	return "level(" + strconv.FormatUint(uint64(l), 10) + ")"
}

// MetricType is the type argument of proxy_define_metric.
type MetricType uint32

const (
	MetricTypeCounter   MetricType = 0
	MetricTypeGauge     MetricType = 1
	MetricTypeHistogram MetricType = 2
)

// BufferType names a host buffer (proxy_get_buffer_bytes and friends).
type BufferType uint32

const (
	BufferTypeHttpRequestBody      BufferType = 0
	BufferTypeHttpResponseBody     BufferType = 1
	BufferTypeDownstreamData       BufferType = 2
	BufferTypeUpstreamData         BufferType = 3
	BufferTypeHttpCallResponseBody BufferType = 4
	BufferTypeGrpcReceiveBuffer    BufferType = 5
	BufferTypeVMConfiguration      BufferType = 6
	BufferTypePluginConfiguration  BufferType = 7
	BufferTypeCallData             BufferType = 8
)

// MapType names a host header map (proxy_get_header_map_pairs and friends).
type MapType uint32

const (
	MapTypeHttpRequestHeaders       MapType = 0
	MapTypeHttpRequestTrailers      MapType = 1
	MapTypeHttpResponseHeaders      MapType = 2
	MapTypeHttpResponseTrailers     MapType = 3
	MapTypeGrpcReceiveInitialMeta   MapType = 4
	MapTypeGrpcReceiveTrailingMeta  MapType = 5
	MapTypeHttpCallResponseHeaders  MapType = 6
	MapTypeHttpCallResponseTrailers MapType = 7
)

// StreamType is the argument of proxy_continue_stream and proxy_close_stream.
type StreamType uint32

const (
	StreamTypeHttpRequest  StreamType = 0
	StreamTypeHttpResponse StreamType = 1
	StreamTypeDownstream   StreamType = 2
	StreamTypeUpstream     StreamType = 3
)

// Status codes (proxy_status_t). Host calls turn them into the Err* values with StatusToError.
const (
	StatusOK                   uint32 = 0
	StatusNotFound             uint32 = 1
	StatusBadArgument          uint32 = 2
	StatusSerializationFailure uint32 = 3
	StatusParseFailure         uint32 = 4
	StatusInvalidMemoryAccess  uint32 = 6
	StatusEmpty                uint32 = 7
	StatusCasMismatch          uint32 = 8
	StatusInternalFailure      uint32 = 10
	StatusBrokenConnection     uint32 = 11
	StatusUnimplemented        uint32 = 12
)

// StatusError is the error for a non-zero proxy_status_t. The Err* values are the only
// instances for known codes, so compare with == or errors.Is.
type StatusError struct {
	Code uint32
	msg  string
}

// Error implements error.
func (e *StatusError) Error() string { return "proxy-wasm: " + e.msg }

var (
	ErrNotFound             error = &StatusError{StatusNotFound, "not found"}
	ErrBadArgument          error = &StatusError{StatusBadArgument, "bad argument"}
	ErrSerializationFailure error = &StatusError{StatusSerializationFailure, "serialization failure"}
	ErrParseFailure         error = &StatusError{StatusParseFailure, "parse failure"}
	ErrInvalidMemoryAccess  error = &StatusError{StatusInvalidMemoryAccess, "invalid memory access"}
	ErrEmpty                error = &StatusError{StatusEmpty, "empty"}
	ErrCasMismatch          error = &StatusError{StatusCasMismatch, "cas mismatch"}
	ErrInternalFailure      error = &StatusError{StatusInternalFailure, "internal failure"}
	ErrBrokenConnection     error = &StatusError{StatusBrokenConnection, "broken connection"}
	ErrUnimplemented        error = &StatusError{StatusUnimplemented, "unimplemented"}
)

// StatusToError maps a proxy_status_t to nil (Ok) or one of the Err* values. An unknown code
// gives a new *StatusError carrying it.
//
//	StatusToError(0) == nil
//	StatusToError(8) == ErrCasMismatch
func StatusToError(s uint32) error {
	switch s {
	case StatusOK:
		return nil
	case StatusNotFound:
		return ErrNotFound
	case StatusBadArgument:
		return ErrBadArgument
	case StatusSerializationFailure:
		return ErrSerializationFailure
	case StatusParseFailure:
		return ErrParseFailure
	case StatusInvalidMemoryAccess:
		return ErrInvalidMemoryAccess
	case StatusEmpty:
		return ErrEmpty
	case StatusCasMismatch:
		return ErrCasMismatch
	case StatusInternalFailure:
		return ErrInternalFailure
	case StatusBrokenConnection:
		return ErrBrokenConnection
	case StatusUnimplemented:
		return ErrUnimplemented
	}
	return &StatusError{s, "status " + strconv.FormatUint(uint64(s), 10)}
}
