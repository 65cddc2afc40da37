//go:build wasm

package proxywasm

import "unsafe"

// The host functions of ABI v0.2.1 used by the binding, imported from module env. Every one
// returns a proxy_status_t. Pointers are addresses in linear memory (i32); a return slot
// for an address is 4 bytes (ptrSlot). Only functions the program references become imports.

// ptrSlot receives an address the host writes (an i32 in linear memory).
type ptrSlot = uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_log
//
//go:wasmimport env proxy_log
//go:noescape
func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_log_level
//
//go:wasmimport env proxy_get_log_level
//go:noescape
func proxyGetLogLevel(retLevel unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_current_time_nanoseconds
//
//go:wasmimport env proxy_get_current_time_nanoseconds
//go:noescape
func proxyGetCurrentTimeNanoseconds(retTime unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_tick_period_milliseconds
//
//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTickPeriodMilliseconds(period uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_effective_context
//
//go:wasmimport env proxy_set_effective_context
func proxySetEffectiveContext(contextID uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_done
//
//go:wasmimport env proxy_done
func proxyDone() uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_buffer_bytes
//
//go:wasmimport env proxy_get_buffer_bytes
//go:noescape
func proxyGetBufferBytes(bufferType, start, maxSize uint32, retData, retSize unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_buffer_status
//
//go:wasmimport env proxy_get_buffer_status
//go:noescape
func proxyGetBufferStatus(bufferType uint32, retSize, retFlags unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_buffer_bytes
//
//go:wasmimport env proxy_set_buffer_bytes
//go:noescape
func proxySetBufferBytes(bufferType, start, size uint32, data unsafe.Pointer, dataSize uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_pairs
//
//go:wasmimport env proxy_get_header_map_pairs
//go:noescape
func proxyGetHeaderMapPairs(mapType uint32, retData, retSize unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_header_map_pairs
//
//go:wasmimport env proxy_set_header_map_pairs
//go:noescape
func proxySetHeaderMapPairs(mapType uint32, data unsafe.Pointer, size uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_value
//
//go:wasmimport env proxy_get_header_map_value
//go:noescape
func proxyGetHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, retValue, retSize unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_add_header_map_value
//
//go:wasmimport env proxy_add_header_map_value
//go:noescape
func proxyAddHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_replace_header_map_value
//
//go:wasmimport env proxy_replace_header_map_value
//go:noescape
func proxyReplaceHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_remove_header_map_value
//
//go:wasmimport env proxy_remove_header_map_value
//go:noescape
func proxyRemoveHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_continue_stream
//
//go:wasmimport env proxy_continue_stream
func proxyContinueStream(streamType uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_close_stream
//
//go:wasmimport env proxy_close_stream
func proxyCloseStream(streamType uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_status
//
//go:wasmimport env proxy_get_status
//go:noescape
func proxyGetStatus(retCode, retMessage, retMessageSize unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_send_local_response
//
//go:wasmimport env proxy_send_local_response
//go:noescape
func proxySendLocalResponse(statusCode uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpcStatus int32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_http_call
//
//go:wasmimport env proxy_http_call
//go:noescape
func proxyHttpCall(upstream unsafe.Pointer, upstreamSize uint32, headers unsafe.Pointer, headersSize uint32, body unsafe.Pointer, bodySize uint32, trailers unsafe.Pointer, trailersSize uint32, timeoutMilliseconds uint32, retToken unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_shared_data
//
//go:wasmimport env proxy_get_shared_data
//go:noescape
func proxyGetSharedData(key unsafe.Pointer, keySize uint32, retValue, retSize, retCas unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_shared_data
//
//go:wasmimport env proxy_set_shared_data
//go:noescape
func proxySetSharedData(key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32, cas uint32) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_define_metric
//
//go:wasmimport env proxy_define_metric
//go:noescape
func proxyDefineMetric(metricType uint32, name unsafe.Pointer, nameSize uint32, retID unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_increment_metric
//
//go:wasmimport env proxy_increment_metric
func proxyIncrementMetric(metricID uint32, offset int64) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_record_metric
//
//go:wasmimport env proxy_record_metric
func proxyRecordMetric(metricID uint32, value uint64) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_metric
//
//go:wasmimport env proxy_get_metric
//go:noescape
func proxyGetMetric(metricID uint32, retValue unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_property
//
//go:wasmimport env proxy_get_property
//go:noescape
func proxyGetProperty(path unsafe.Pointer, pathSize uint32, retValue, retSize unsafe.Pointer) uint32

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_property
//
//go:wasmimport env proxy_set_property
//go:noescape
func proxySetProperty(path unsafe.Pointer, pathSize uint32, value unsafe.Pointer, valueSize uint32) uint32
