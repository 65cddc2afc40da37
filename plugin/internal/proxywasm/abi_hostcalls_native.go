//go:build !wasm

package proxywasm

import "unsafe"

// Native builds have no proxy-wasm host: every host function answers InternalFailure. They
// exist so that the plugin's packages build, vet and unit-test natively (the dispatch tests of
// this package); the filter itself runs only as a .wasm, in host/ or in Envoy, and the decision
// logic runs natively as package authz on in-memory ports.

// ptrSlot receives an address the host writes (a native pointer).
type ptrSlot = uintptr

func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32 { return StatusInternalFailure }

func proxyGetLogLevel(retLevel unsafe.Pointer) uint32 { return StatusInternalFailure }

func proxyGetCurrentTimeNanoseconds(retTime unsafe.Pointer) uint32 { return StatusInternalFailure }

func proxySetTickPeriodMilliseconds(period uint32) uint32 { return StatusInternalFailure }

func proxySetEffectiveContext(contextID uint32) uint32 { return StatusInternalFailure }

func proxyDone() uint32 { return StatusInternalFailure }

func proxyGetBufferBytes(bufferType, start, maxSize uint32, retData, retSize unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxyGetBufferStatus(bufferType uint32, retSize, retFlags unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxySetBufferBytes(bufferType, start, size uint32, data unsafe.Pointer, dataSize uint32) uint32 {
	return StatusInternalFailure
}

func proxyGetHeaderMapPairs(mapType uint32, retData, retSize unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxySetHeaderMapPairs(mapType uint32, data unsafe.Pointer, size uint32) uint32 {
	return StatusInternalFailure
}

func proxyGetHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, retValue, retSize unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxyAddHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	return StatusInternalFailure
}

func proxyReplaceHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	return StatusInternalFailure
}

func proxyRemoveHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32) uint32 {
	return StatusInternalFailure
}

func proxyContinueStream(streamType uint32) uint32 { return StatusInternalFailure }

func proxyCloseStream(streamType uint32) uint32 { return StatusInternalFailure }

func proxyGetStatus(retCode, retMessage, retMessageSize unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxySendLocalResponse(statusCode uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpcStatus int32) uint32 {
	return StatusInternalFailure
}

func proxyHttpCall(upstream unsafe.Pointer, upstreamSize uint32, headers unsafe.Pointer, headersSize uint32, body unsafe.Pointer, bodySize uint32, trailers unsafe.Pointer, trailersSize uint32, timeoutMilliseconds uint32, retToken unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxyGetSharedData(key unsafe.Pointer, keySize uint32, retValue, retSize, retCas unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxySetSharedData(key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32, cas uint32) uint32 {
	return StatusInternalFailure
}

func proxyDefineMetric(metricType uint32, name unsafe.Pointer, nameSize uint32, retID unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxyIncrementMetric(metricID uint32, offset int64) uint32 { return StatusInternalFailure }

func proxyRecordMetric(metricID uint32, value uint64) uint32 { return StatusInternalFailure }

func proxyGetMetric(metricID uint32, retValue unsafe.Pointer) uint32 { return StatusInternalFailure }

func proxyGetProperty(path unsafe.Pointer, pathSize uint32, retValue, retSize unsafe.Pointer) uint32 {
	return StatusInternalFailure
}

func proxySetProperty(path unsafe.Pointer, pathSize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	return StatusInternalFailure
}
