// Package hostabi connects the proxywasm binding to a native host (the proxytest emulator) in
// builds without wasm: Host is the raw ABI v0.2.1 host-function set with the binding's exact
// argument lists, Guest the binding's exported callbacks. Pointers are Go pointers into the
// binding's memory; an address the host returns is written as a uintptr, and returned data is
// copied into memory obtained from Guest.MemoryAllocate, as Envoy does.
package hostabi

import "unsafe"

// Host is implemented by the native test host. Every method returns a proxy_status_t.
type Host interface {
	Log(level uint32, msg unsafe.Pointer, size uint32) uint32                                                                                                                                                                                          // proxy_log
	GetLogLevel(retLevel unsafe.Pointer) uint32                                                                                                                                                                                                        // proxy_get_log_level
	GetCurrentTimeNanoseconds(retTime unsafe.Pointer) uint32                                                                                                                                                                                           // proxy_get_current_time_nanoseconds
	SetTickPeriodMilliseconds(period uint32) uint32                                                                                                                                                                                                    // proxy_set_tick_period_milliseconds
	SetEffectiveContext(contextID uint32) uint32                                                                                                                                                                                                       // proxy_set_effective_context
	Done() uint32                                                                                                                                                                                                                                      // proxy_done
	GetBufferBytes(bufferType, start, maxSize uint32, retData, retSize unsafe.Pointer) uint32                                                                                                                                                          // proxy_get_buffer_bytes
	GetBufferStatus(bufferType uint32, retSize, retFlags unsafe.Pointer) uint32                                                                                                                                                                        // proxy_get_buffer_status
	SetBufferBytes(bufferType, start, size uint32, data unsafe.Pointer, dataSize uint32) uint32                                                                                                                                                        // proxy_set_buffer_bytes
	GetHeaderMapPairs(mapType uint32, retData, retSize unsafe.Pointer) uint32                                                                                                                                                                          // proxy_get_header_map_pairs
	SetHeaderMapPairs(mapType uint32, data unsafe.Pointer, size uint32) uint32                                                                                                                                                                         // proxy_set_header_map_pairs
	GetHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, retValue, retSize unsafe.Pointer) uint32                                                                                                                                     // proxy_get_header_map_value
	AddHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32                                                                                                                               // proxy_add_header_map_value
	ReplaceHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32                                                                                                                           // proxy_replace_header_map_value
	RemoveHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32) uint32                                                                                                                                                                    // proxy_remove_header_map_value
	ContinueStream(streamType uint32) uint32                                                                                                                                                                                                           // proxy_continue_stream
	CloseStream(streamType uint32) uint32                                                                                                                                                                                                              // proxy_close_stream
	GetStatus(retCode, retMessage, retMessageSize unsafe.Pointer) uint32                                                                                                                                                                               // proxy_get_status
	SendLocalResponse(statusCode uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpcStatus int32) uint32                                                        // proxy_send_local_response
	HttpCall(upstream unsafe.Pointer, upstreamSize uint32, headers unsafe.Pointer, headersSize uint32, body unsafe.Pointer, bodySize uint32, trailers unsafe.Pointer, trailersSize uint32, timeoutMilliseconds uint32, retToken unsafe.Pointer) uint32 // proxy_http_call
	GetSharedData(key unsafe.Pointer, keySize uint32, retValue, retSize, retCas unsafe.Pointer) uint32                                                                                                                                                 // proxy_get_shared_data
	SetSharedData(key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32, cas uint32) uint32                                                                                                                                       // proxy_set_shared_data
	DefineMetric(metricType uint32, name unsafe.Pointer, nameSize uint32, retID unsafe.Pointer) uint32                                                                                                                                                 // proxy_define_metric
	IncrementMetric(metricID uint32, offset int64) uint32                                                                                                                                                                                              // proxy_increment_metric
	RecordMetric(metricID uint32, value uint64) uint32                                                                                                                                                                                                 // proxy_record_metric
	GetMetric(metricID uint32, retValue unsafe.Pointer) uint32                                                                                                                                                                                         // proxy_get_metric
	GetProperty(path unsafe.Pointer, pathSize uint32, retValue, retSize unsafe.Pointer) uint32                                                                                                                                                         // proxy_get_property
	SetProperty(path unsafe.Pointer, pathSize uint32, value unsafe.Pointer, valueSize uint32) uint32                                                                                                                                                   // proxy_set_property
}

// Current is the installed host; nil makes every host call fail with InternalFailure.
var Current Host

// Exports are the binding's guest callbacks (the module's exports), filled in by the binding.
type Exports struct {
	MemoryAllocate              func(size uint32) unsafe.Pointer
	OnContextCreate             func(contextID, parentContextID uint32)
	OnVMStart                   func(rootContextID, vmConfigurationSize uint32) uint32
	OnConfigure                 func(rootContextID, pluginConfigurationSize uint32) uint32
	OnDone                      func(contextID uint32) uint32
	OnLog                       func(contextID uint32)
	OnDelete                    func(contextID uint32)
	OnTick                      func(rootContextID uint32)
	OnNewConnection             func(contextID uint32) uint32
	OnDownstreamData            func(contextID, dataSize, endOfStream uint32) uint32
	OnDownstreamConnectionClose func(contextID, peerType uint32)
	OnUpstreamData              func(contextID, dataSize, endOfStream uint32) uint32
	OnUpstreamConnectionClose   func(contextID, peerType uint32)
	OnRequestHeaders            func(contextID, numHeaders, endOfStream uint32) uint32
	OnRequestBody               func(contextID, bodySize, endOfStream uint32) uint32
	OnRequestTrailers           func(contextID, numTrailers uint32) uint32
	OnResponseHeaders           func(contextID, numHeaders, endOfStream uint32) uint32
	OnResponseBody              func(contextID, bodySize, endOfStream uint32) uint32
	OnResponseTrailers          func(contextID, numTrailers uint32) uint32
	OnHttpCallResponse          func(rootContextID, token, numHeaders, bodySize, numTrailers uint32)

	// Reset drops every context and pending allocation (keeps the registered VMContext).
	Reset func()
	// LiveAllocations counts buffers handed out by MemoryAllocate and not yet taken back.
	LiveAllocations func() int
}

// Guest is set by the binding's init.
var Guest Exports
