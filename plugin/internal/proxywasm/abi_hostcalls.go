package proxywasm

import (
	"math"
	"unsafe"
)

// The typed host calls. Return slots and scratch buffers are package variables so that no
// call allocates for them: like the VM, the binding is single-threaded, and the host copies
// whatever it is given before the call returns.
var (
	ret struct {
		ptr  ptrSlot
		size uint32
		u32  uint32
		u64  uint64
	}
	scratch    []byte // serialized headers, property paths
	scratchTwo []byte // the second map of one call (http call trailers)
)

const maxScratch = 64 << 10

func stringPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }
func bytesPtr(b []byte) unsafe.Pointer  { return unsafe.Pointer(unsafe.SliceData(b)) }

// keepScratch stores b as the scratch buffer unless it grew too big to keep around.
func keepScratch(b []byte) []byte {
	if cap(b) > maxScratch {
		return nil
	}
	return b[:0]
}

// takeResult finishes a host call that returned data in (ret.ptr, ret.size): the data, now
// owned by the caller, or the status as an error. Pending allocations are released either way.
func takeResult(st uint32) ([]byte, error) {
	if st != StatusOK {
		releaseAll()
		ret.ptr, ret.size = 0, 0
		return nil, StatusToError(st)
	}
	size := ret.size
	b := takeAlloc(uintptr(ret.ptr), size)
	ret.ptr, ret.size = 0, 0
	if b == nil && size != 0 {
		return nil, ErrInvalidMemoryAccess
	}
	return b, nil
}

// bytesString returns b as a string without copying; b must be owned and never written again.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Logging.

// Log writes msg at level (proxy_log). msg is copied by the host.
func Log(level LogLevel, msg []byte) {
	proxyLog(uint32(level), bytesPtr(msg), uint32(len(msg)))
}

func logString(level LogLevel, msg string) {
	proxyLog(uint32(level), stringPtr(msg), uint32(len(msg)))
}

// LogTrace logs msg at trace level (proxy_log).
func LogTrace(msg string) { logString(LogLevelTrace, msg) }

// LogDebug logs msg at debug level (proxy_log).
func LogDebug(msg string) { logString(LogLevelDebug, msg) }

// LogInfo logs msg at info level (proxy_log).
func LogInfo(msg string) { logString(LogLevelInfo, msg) }

// LogWarn logs msg at warn level (proxy_log).
func LogWarn(msg string) { logString(LogLevelWarn, msg) }

// LogError logs msg at error level (proxy_log).
func LogError(msg string) { logString(LogLevelError, msg) }

// LogCritical logs msg at critical level (proxy_log).
func LogCritical(msg string) { logString(LogLevelCritical, msg) }

// GetLogLevel returns the host's log level (proxy_get_log_level): messages below it are dropped.
func GetLogLevel() (LogLevel, error) {
	st := proxyGetLogLevel(unsafe.Pointer(&ret.u32))
	return LogLevel(ret.u32), StatusToError(st)
}

// Time, timers, contexts.

// GetCurrentTimeNanoseconds returns the host's wall clock in Unix nanoseconds
// (proxy_get_current_time_nanoseconds); 0 if the host fails.
func GetCurrentTimeNanoseconds() int64 {
	ret.u64 = 0
	proxyGetCurrentTimeNanoseconds(unsafe.Pointer(&ret.u64))
	return int64(ret.u64)
}

// SetTickPeriodMilliSeconds arms the root context's tick timer (proxy_set_tick_period_milliseconds);
// 0 disables it. Call it from a root-context callback (OnPluginStart), never from init().
func SetTickPeriodMilliSeconds(ms uint32) error {
	return StatusToError(proxySetTickPeriodMilliseconds(ms))
}

// SetEffectiveContext makes later host calls act on contextID (proxy_set_effective_context),
// typically a stream resumed from an http call response. ErrBadArgument for an unknown id.
func SetEffectiveContext(contextID uint32) error {
	return StatusToError(proxySetEffectiveContext(contextID))
}

// Done tells the host that a root context whose OnPluginDone returned false has finished
// (proxy_done).
func Done() error { return StatusToError(proxyDone()) }

// Configuration.

// GetVMConfiguration returns the VM configuration (buffer VmConfiguration); nil when empty.
func GetVMConfiguration() ([]byte, error) {
	return getBuffer(BufferTypeVMConfiguration, 0, math.MaxInt32)
}

// GetPluginConfiguration returns the plugin configuration (buffer PluginConfiguration); nil
// when empty.
func GetPluginConfiguration() ([]byte, error) {
	return getBuffer(BufferTypePluginConfiguration, 0, math.MaxInt32)
}

// Buffers.

func getBuffer(bt BufferType, start, maxSize int) ([]byte, error) {
	if start < 0 || maxSize < 0 {
		return nil, ErrBadArgument
	}
	if start > math.MaxInt32 {
		start = math.MaxInt32
	}
	if maxSize > math.MaxInt32 {
		maxSize = math.MaxInt32
	}
	st := proxyGetBufferBytes(uint32(bt), uint32(start), uint32(maxSize),
		unsafe.Pointer(&ret.ptr), unsafe.Pointer(&ret.size))
	return takeResult(st)
}

func bufferSize(bt BufferType) (uint32, error) {
	st := proxyGetBufferStatus(uint32(bt), unsafe.Pointer(&ret.size), unsafe.Pointer(&ret.u32))
	n := ret.size
	ret.size = 0
	return n, StatusToError(st)
}

// replaceBuffer replaces the whole buffer: set_buffer_bytes(start 0, size = current length).
func replaceBuffer(bt BufferType, b []byte) error {
	n, err := bufferSize(bt)
	if err != nil {
		return err
	}
	return StatusToError(proxySetBufferBytes(uint32(bt), 0, n, bytesPtr(b), uint32(len(b))))
}

// appendBuffer appends: set_buffer_bytes(start = current length, size 0).
func appendBuffer(bt BufferType, b []byte) error {
	n, err := bufferSize(bt)
	if err != nil {
		return err
	}
	return StatusToError(proxySetBufferBytes(uint32(bt), n, 0, bytesPtr(b), uint32(len(b))))
}

// prependBuffer prepends: set_buffer_bytes(start 0, size 0).
func prependBuffer(bt BufferType, b []byte) error {
	return StatusToError(proxySetBufferBytes(uint32(bt), 0, 0, bytesPtr(b), uint32(len(b))))
}

// GetHttpRequestBody returns up to maxSize bytes of the buffered request body from start
// (buffer HttpRequestBody). Valid inside OnHttpRequestBody.
func GetHttpRequestBody(start, maxSize int) ([]byte, error) {
	return getBuffer(BufferTypeHttpRequestBody, start, maxSize)
}

// ReplaceHttpRequestBody replaces the buffered request body with b.
func ReplaceHttpRequestBody(b []byte) error { return replaceBuffer(BufferTypeHttpRequestBody, b) }

// AppendHttpRequestBody appends b to the buffered request body.
func AppendHttpRequestBody(b []byte) error { return appendBuffer(BufferTypeHttpRequestBody, b) }

// PrependHttpRequestBody prepends b to the buffered request body.
func PrependHttpRequestBody(b []byte) error { return prependBuffer(BufferTypeHttpRequestBody, b) }

// GetHttpResponseBody returns up to maxSize bytes of the buffered response body from start
// (buffer HttpResponseBody). Valid inside OnHttpResponseBody.
func GetHttpResponseBody(start, maxSize int) ([]byte, error) {
	return getBuffer(BufferTypeHttpResponseBody, start, maxSize)
}

// ReplaceHttpResponseBody replaces the buffered response body with b.
func ReplaceHttpResponseBody(b []byte) error { return replaceBuffer(BufferTypeHttpResponseBody, b) }

// AppendHttpResponseBody appends b to the buffered response body.
func AppendHttpResponseBody(b []byte) error { return appendBuffer(BufferTypeHttpResponseBody, b) }

// PrependHttpResponseBody prepends b to the buffered response body.
func PrependHttpResponseBody(b []byte) error {
	return prependBuffer(BufferTypeHttpResponseBody, b)
}

// GetDownstreamData returns up to maxSize bytes of the buffered downstream (client → upstream)
// data from start (buffer DownstreamData). Valid inside OnDownstreamData.
func GetDownstreamData(start, maxSize int) ([]byte, error) {
	return getBuffer(BufferTypeDownstreamData, start, maxSize)
}

// ReplaceDownstreamData replaces the buffered downstream data with b.
func ReplaceDownstreamData(b []byte) error { return replaceBuffer(BufferTypeDownstreamData, b) }

// AppendDownstreamData appends b to the buffered downstream data.
func AppendDownstreamData(b []byte) error { return appendBuffer(BufferTypeDownstreamData, b) }

// PrependDownstreamData prepends b to the buffered downstream data.
func PrependDownstreamData(b []byte) error { return prependBuffer(BufferTypeDownstreamData, b) }

// GetUpstreamData returns up to maxSize bytes of the buffered upstream (upstream → client)
// data from start (buffer UpstreamData). Valid inside OnUpstreamData.
func GetUpstreamData(start, maxSize int) ([]byte, error) {
	return getBuffer(BufferTypeUpstreamData, start, maxSize)
}

// ReplaceUpstreamData replaces the buffered upstream data with b.
func ReplaceUpstreamData(b []byte) error { return replaceBuffer(BufferTypeUpstreamData, b) }

// AppendUpstreamData appends b to the buffered upstream data.
func AppendUpstreamData(b []byte) error { return appendBuffer(BufferTypeUpstreamData, b) }

// PrependUpstreamData prepends b to the buffered upstream data.
func PrependUpstreamData(b []byte) error { return prependBuffer(BufferTypeUpstreamData, b) }

// Header maps. The exported accessors are those the filter uses; the helpers below serve
// any MapType, so another map's accessor is one line.

func getMapPairs(mt MapType) ([][2]string, error) { return getMapPairsInto(mt, nil) }

func getMapPairsInto(mt MapType, dst [][2]string) ([][2]string, error) {
	st := proxyGetHeaderMapPairs(uint32(mt), unsafe.Pointer(&ret.ptr), unsafe.Pointer(&ret.size))
	b, err := takeResult(st)
	if err != nil || b == nil {
		return dst, err
	}
	return parseHeadersInto(dst, b, true)
}

func setMapPairs(mt MapType, h [][2]string) error {
	b := appendHeaders(scratch[:0], h)
	st := proxySetHeaderMapPairs(uint32(mt), bytesPtr(b), uint32(len(b)))
	scratch = keepScratch(b)
	return StatusToError(st)
}

func getMapValue(mt MapType, key string) (string, error) {
	st := proxyGetHeaderMapValue(uint32(mt), stringPtr(key), uint32(len(key)),
		unsafe.Pointer(&ret.ptr), unsafe.Pointer(&ret.size))
	b, err := takeResult(st)
	return bytesString(b), err
}

func addMapValue(mt MapType, key, value string) error {
	return StatusToError(proxyAddHeaderMapValue(uint32(mt), stringPtr(key), uint32(len(key)),
		stringPtr(value), uint32(len(value))))
}

func replaceMapValue(mt MapType, key, value string) error {
	return StatusToError(proxyReplaceHeaderMapValue(uint32(mt), stringPtr(key), uint32(len(key)),
		stringPtr(value), uint32(len(value))))
}

func removeMapValue(mt MapType, key string) error {
	return StatusToError(proxyRemoveHeaderMapValue(uint32(mt), stringPtr(key), uint32(len(key))))
}

// GetHttpRequestHeaders returns all request headers.
func GetHttpRequestHeaders() ([][2]string, error) { return getMapPairs(MapTypeHttpRequestHeaders) }

// GetHttpRequestHeadersInto is GetHttpRequestHeaders appending the pairs to dst, so that a
// filter can reuse one slice across requests. The strings are the filter's to keep (they view
// a buffer allocated for this call, never reused); the slice is dst's.
func GetHttpRequestHeadersInto(dst [][2]string) ([][2]string, error) {
	return getMapPairsInto(MapTypeHttpRequestHeaders, dst)
}

// GetHttpRequestHeader returns one request header's value; ErrNotFound when absent. It
// allocates only the returned string.
func GetHttpRequestHeader(key string) (string, error) {
	return getMapValue(MapTypeHttpRequestHeaders, key)
}

// ReplaceHttpRequestHeader sets key to value, replacing any existing values.
func ReplaceHttpRequestHeader(key, value string) error {
	return replaceMapValue(MapTypeHttpRequestHeaders, key, value)
}

// RemoveHttpRequestHeader removes every value of key.
func RemoveHttpRequestHeader(key string) error {
	return removeMapValue(MapTypeHttpRequestHeaders, key)
}

// AddHttpRequestHeader adds a value for key, keeping existing ones.
func AddHttpRequestHeader(key, value string) error {
	return addMapValue(MapTypeHttpRequestHeaders, key, value)
}

// SetHttpRequestHeaders replaces all request headers with headers.
func SetHttpRequestHeaders(headers [][2]string) error {
	return setMapPairs(MapTypeHttpRequestHeaders, headers)
}

// GetHttpResponseHeader returns one response header's value; ErrNotFound when absent.
func GetHttpResponseHeader(key string) (string, error) {
	return getMapValue(MapTypeHttpResponseHeaders, key)
}

// AddHttpResponseHeader adds a value for key, keeping existing ones.
func AddHttpResponseHeader(key, value string) error {
	return addMapValue(MapTypeHttpResponseHeaders, key, value)
}

// Stream control. Envoy defers continue, close and local responses until the current
// callback returns.

// ContinueHttpRequest resumes a paused request (proxy_continue_stream(HttpRequest)). Modify
// the request before calling it: afterwards the host forgets the request's headers and body.
func ContinueHttpRequest() error {
	return StatusToError(proxyContinueStream(uint32(StreamTypeHttpRequest)))
}

// ContinueHttpResponse resumes a paused response (proxy_continue_stream(HttpResponse)).
func ContinueHttpResponse() error {
	return StatusToError(proxyContinueStream(uint32(StreamTypeHttpResponse)))
}

// ContinueTcpStream resumes paused downstream data (proxy_continue_stream(Downstream)); the
// buffered bytes go on to the upstream. Upstream data cannot be resumed in Envoy (it answers
// Unimplemented), so never pause OnUpstreamData.
func ContinueTcpStream() error {
	return StatusToError(proxyContinueStream(uint32(StreamTypeDownstream)))
}

// CloseDownstream closes the connection after flushing what was written to the client
// (proxy_close_stream(Downstream)).
func CloseDownstream() error {
	return StatusToError(proxyCloseStream(uint32(StreamTypeDownstream)))
}

// CloseUpstream closes the connection from the write side (proxy_close_stream(Upstream)); in an
// Envoy listener filter chain that is the same downstream connection.
func CloseUpstream() error {
	return StatusToError(proxyCloseStream(uint32(StreamTypeUpstream)))
}

// ResetHttpStream resets the HTTP stream (proxy_close_stream(HttpRequest)).
func ResetHttpStream() error {
	return StatusToError(proxyCloseStream(uint32(StreamTypeHttpRequest)))
}

// SendHttpResponse sends a local response instead of the upstream's
// (proxy_send_local_response). grpcStatus -1 means none. Only valid before response headers
// went out; the current callback's Action is then ignored (Envoy stops the stream).
func SendHttpResponse(status uint32, headers [][2]string, body []byte, grpcStatus int32) error {
	h := appendHeaders(scratch[:0], headers)
	st := proxySendLocalResponse(status, nil, 0, bytesPtr(body), uint32(len(body)),
		bytesPtr(h), uint32(len(h)), grpcStatus)
	scratch = keepScratch(h)
	return StatusToError(st)
}

// HTTP calls.

// DispatchHttpCall sends an HTTP request to an Envoy cluster (proxy_http_call). headers must
// hold :method, :path and :authority. timeoutMillisecond 0 means no timeout. The callback
// runs later inside proxy_on_http_call_response on the root context that was current when the
// call was made (Envoy always answers on the root); read the response there with
// GetHttpCallResponseHeaders/Body/Trailers, and GetStatus for a reset (numHeaders 0,
// ErrBrokenConnection). The binding does not change the effective context: call
// SetEffectiveContext(streamID) before resuming a stream from the callback. A failed dispatch
// (unknown cluster: ErrBadArgument) never calls back.
func DispatchHttpCall(cluster string, headers [][2]string, body []byte, trailers [][2]string,
	timeoutMillisecond uint32, callback func(numHeaders, bodySize, numTrailers int)) (calloutID uint32, err error) {
	h := appendHeaders(scratch[:0], headers)
	var t []byte
	if len(trailers) > 0 {
		t = appendHeaders(scratchTwo[:0], trailers)
	}
	ret.u32 = 0
	st := proxyHttpCall(stringPtr(cluster), uint32(len(cluster)), bytesPtr(h), uint32(len(h)),
		bytesPtr(body), uint32(len(body)), bytesPtr(t), uint32(len(t)), timeoutMillisecond,
		unsafe.Pointer(&ret.u32))
	scratch = keepScratch(h)
	if t != nil {
		scratchTwo = keepScratch(t)
	}
	if st != StatusOK {
		return 0, StatusToError(st)
	}
	token := ret.u32
	if r := currentRoot(); r != nil && callback != nil {
		if r.calls == nil {
			r.calls = make(map[uint32]func(int, int, int), 4)
		}
		r.calls[token] = callback
	}
	return token, nil
}

// GetHttpCallResponseHeaders returns the http call response's headers; valid inside the
// DispatchHttpCall callback.
func GetHttpCallResponseHeaders() ([][2]string, error) {
	return getMapPairs(MapTypeHttpCallResponseHeaders)
}

// GetHttpCallResponseHeader returns one header of the http call response.
func GetHttpCallResponseHeader(key string) (string, error) {
	return getMapValue(MapTypeHttpCallResponseHeaders, key)
}

// GetHttpCallResponseBody returns up to maxSize bytes of the http call response body from
// start (buffer HttpCallResponseBody).
func GetHttpCallResponseBody(start, maxSize int) ([]byte, error) {
	return getBuffer(BufferTypeHttpCallResponseBody, start, maxSize)
}

// GetHttpCallResponseTrailers returns the http call response's trailers.
func GetHttpCallResponseTrailers() ([][2]string, error) {
	return getMapPairs(MapTypeHttpCallResponseTrailers)
}

// GetStatus returns the status of the last callout (proxy_get_status): inside an http call
// callback for a reset stream, code 11 (StatusBrokenConnection) and message "reset".
func GetStatus() (code uint32, message string, err error) {
	ret.u32 = 0
	st := proxyGetStatus(unsafe.Pointer(&ret.u32), unsafe.Pointer(&ret.ptr), unsafe.Pointer(&ret.size))
	code = ret.u32
	b, err := takeResult(st)
	return code, bytesString(b), err
}

// Shared data (one store per vm_id, shared by every worker VM).

// GetSharedData returns key's value and its CAS token; ErrNotFound when absent.
func GetSharedData(key string) (value []byte, cas uint32, err error) {
	ret.u32 = 0
	st := proxyGetSharedData(stringPtr(key), uint32(len(key)),
		unsafe.Pointer(&ret.ptr), unsafe.Pointer(&ret.size), unsafe.Pointer(&ret.u32))
	cas = ret.u32
	value, err = takeResult(st)
	if err != nil {
		cas = 0
	}
	return value, cas, err
}

// SetSharedData stores value under key. cas 0 writes unconditionally; otherwise the write
// fails with ErrCasMismatch if key was written since the GetSharedData that returned cas.
func SetSharedData(key string, value []byte, cas uint32) error {
	return StatusToError(proxySetSharedData(stringPtr(key), uint32(len(key)),
		bytesPtr(value), uint32(len(value)), cas))
}

// Properties.

// GetProperty returns the property at path (proxy_get_property), e.g.
// []string{"connection", "requested_server_name"}. Strings come as raw bytes, integers as
// 8 bytes little-endian (see GetPropertyUint64). ErrNotFound when absent.
func GetProperty(path []string) ([]byte, error) {
	p := appendPath(scratch[:0], path)
	st := proxyGetProperty(bytesPtr(p), uint32(len(p)), unsafe.Pointer(&ret.ptr), unsafe.Pointer(&ret.size))
	scratch = keepScratch(p)
	return takeResult(st)
}

// GetPropertyString is GetProperty returning a string (no extra copy).
func GetPropertyString(path []string) (string, error) {
	b, err := GetProperty(path)
	return bytesString(b), err
}

// GetPropertyUint64 reads an integer property (8 bytes little-endian), e.g. source.port.
func GetPropertyUint64(path []string) (uint64, error) {
	b, err := GetProperty(path)
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, ErrParseFailure
	}
	return uint64(le32(b)) | uint64(le32(b[4:]))<<32, nil
}

// SetProperty sets the property at path (proxy_set_property).
func SetProperty(path []string, value []byte) error {
	p := appendPath(scratch[:0], path)
	st := proxySetProperty(bytesPtr(p), uint32(len(p)), bytesPtr(value), uint32(len(value)))
	scratch = keepScratch(p)
	return StatusToError(st)
}
