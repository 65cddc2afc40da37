//go:build !wasm

package proxywasm

import (
	"unsafe"

	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm/internal/hostabi"
)

// Native builds forward each host function to the host installed in hostabi (the proxytest
// emulator) with the same arguments; Go pointers stand in for linear-memory addresses. With no
// host installed every call returns InternalFailure.

// ptrSlot receives an address the host writes (a native pointer).
type ptrSlot = uintptr

func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.Log(level, msg, size)
	}
	return StatusInternalFailure
}

func proxyGetLogLevel(retLevel unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetLogLevel(retLevel)
	}
	return StatusInternalFailure
}

func proxyGetCurrentTimeNanoseconds(retTime unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetCurrentTimeNanoseconds(retTime)
	}
	return StatusInternalFailure
}

func proxySetTickPeriodMilliseconds(period uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.SetTickPeriodMilliseconds(period)
	}
	return StatusInternalFailure
}

func proxySetEffectiveContext(contextID uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.SetEffectiveContext(contextID)
	}
	return StatusInternalFailure
}

func proxyDone() uint32 {
	if h := hostabi.Current; h != nil {
		return h.Done()
	}
	return StatusInternalFailure
}

func proxyGetBufferBytes(bufferType, start, maxSize uint32, retData, retSize unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetBufferBytes(bufferType, start, maxSize, retData, retSize)
	}
	return StatusInternalFailure
}

func proxyGetBufferStatus(bufferType uint32, retSize, retFlags unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetBufferStatus(bufferType, retSize, retFlags)
	}
	return StatusInternalFailure
}

func proxySetBufferBytes(bufferType, start, size uint32, data unsafe.Pointer, dataSize uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.SetBufferBytes(bufferType, start, size, data, dataSize)
	}
	return StatusInternalFailure
}

func proxyGetHeaderMapPairs(mapType uint32, retData, retSize unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetHeaderMapPairs(mapType, retData, retSize)
	}
	return StatusInternalFailure
}

func proxySetHeaderMapPairs(mapType uint32, data unsafe.Pointer, size uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.SetHeaderMapPairs(mapType, data, size)
	}
	return StatusInternalFailure
}

func proxyGetHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, retValue, retSize unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetHeaderMapValue(mapType, key, keySize, retValue, retSize)
	}
	return StatusInternalFailure
}

func proxyAddHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.AddHeaderMapValue(mapType, key, keySize, value, valueSize)
	}
	return StatusInternalFailure
}

func proxyReplaceHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.ReplaceHeaderMapValue(mapType, key, keySize, value, valueSize)
	}
	return StatusInternalFailure
}

func proxyRemoveHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.RemoveHeaderMapValue(mapType, key, keySize)
	}
	return StatusInternalFailure
}

func proxyContinueStream(streamType uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.ContinueStream(streamType)
	}
	return StatusInternalFailure
}

func proxyCloseStream(streamType uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.CloseStream(streamType)
	}
	return StatusInternalFailure
}

func proxyGetStatus(retCode, retMessage, retMessageSize unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetStatus(retCode, retMessage, retMessageSize)
	}
	return StatusInternalFailure
}

func proxySendLocalResponse(statusCode uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpcStatus int32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.SendLocalResponse(statusCode, details, detailsSize, body, bodySize, headers, headersSize, grpcStatus)
	}
	return StatusInternalFailure
}

func proxyHttpCall(upstream unsafe.Pointer, upstreamSize uint32, headers unsafe.Pointer, headersSize uint32, body unsafe.Pointer, bodySize uint32, trailers unsafe.Pointer, trailersSize uint32, timeoutMilliseconds uint32, retToken unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.HttpCall(upstream, upstreamSize, headers, headersSize, body, bodySize, trailers, trailersSize, timeoutMilliseconds, retToken)
	}
	return StatusInternalFailure
}

func proxyGetSharedData(key unsafe.Pointer, keySize uint32, retValue, retSize, retCas unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetSharedData(key, keySize, retValue, retSize, retCas)
	}
	return StatusInternalFailure
}

func proxySetSharedData(key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32, cas uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.SetSharedData(key, keySize, value, valueSize, cas)
	}
	return StatusInternalFailure
}

func proxyDefineMetric(metricType uint32, name unsafe.Pointer, nameSize uint32, retID unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.DefineMetric(metricType, name, nameSize, retID)
	}
	return StatusInternalFailure
}

func proxyIncrementMetric(metricID uint32, offset int64) uint32 {
	if h := hostabi.Current; h != nil {
		return h.IncrementMetric(metricID, offset)
	}
	return StatusInternalFailure
}

func proxyRecordMetric(metricID uint32, value uint64) uint32 {
	if h := hostabi.Current; h != nil {
		return h.RecordMetric(metricID, value)
	}
	return StatusInternalFailure
}

func proxyGetMetric(metricID uint32, retValue unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetMetric(metricID, retValue)
	}
	return StatusInternalFailure
}

func proxyGetProperty(path unsafe.Pointer, pathSize uint32, retValue, retSize unsafe.Pointer) uint32 {
	if h := hostabi.Current; h != nil {
		return h.GetProperty(path, pathSize, retValue, retSize)
	}
	return StatusInternalFailure
}

func proxySetProperty(path unsafe.Pointer, pathSize uint32, value unsafe.Pointer, valueSize uint32) uint32 {
	if h := hostabi.Current; h != nil {
		return h.SetProperty(path, pathSize, value, valueSize)
	}
	return StatusInternalFailure
}
