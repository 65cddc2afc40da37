// Package abi holds the proxy-wasm ABI v0.2.1 enumerations and the pair
// serialization shared by the host's files.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1
package abi

import (
	"encoding/binary"
	"slices"
)

// Status is proxy_status_t.
type Status = uint32

// Status values (spec "Types"; BrokenConnection is proxy-wasm-cpp-host's).
const (
	StatusOK                   Status = 0
	StatusNotFound             Status = 1
	StatusBadArgument          Status = 2
	StatusSerializationFailure Status = 3
	StatusParseFailure         Status = 4
	StatusInvalidMemoryAccess  Status = 6
	StatusEmpty                Status = 7
	StatusCasMismatch          Status = 8
	StatusInternalFailure      Status = 10
	StatusBrokenConnection     Status = 11
	StatusUnimplemented        Status = 12
)

// Buffer types.
const (
	BufferHTTPRequestBody      = 0
	BufferHTTPResponseBody     = 1
	BufferDownstreamData       = 2
	BufferUpstreamData         = 3
	BufferHTTPCallResponseBody = 4
	BufferGrpcReceiveBuffer    = 5
	BufferVMConfiguration      = 6
	BufferPluginConfiguration  = 7
	BufferCallData             = 8
	BufferMax                  = 8
)

// Header map types.
const (
	MapRequestHeaders           = 0
	MapRequestTrailers          = 1
	MapResponseHeaders          = 2
	MapResponseTrailers         = 3
	MapGrpcInitialMetadata      = 4
	MapGrpcTrailingMetadata     = 5
	MapHTTPCallResponseHeaders  = 6
	MapHTTPCallResponseTrailers = 7
	MapMax                      = 7
)

// Stream types.
const (
	StreamHTTPRequest  = 0
	StreamHTTPResponse = 1
	StreamDownstream   = 2
	StreamUpstream     = 3
)

// Metric types.
const (
	MetricCounter   = 0
	MetricGauge     = 1
	MetricHistogram = 2
	MetricTypeMask  = 0x3
	MetricIDStep    = 0x4
)

// Peer types for connection close callbacks.
const (
	PeerUnknown = 0
	PeerLocal   = 1
	PeerRemote  = 2
)

// MaxPairs bounds a deserialized map, as proxy-wasm-cpp-host's
// PROXY_WASM_HOST_PAIRS_MAX_COUNT does.
const MaxPairs = 1024

// PairsSize returns the serialized size of pairs.
func PairsSize(pairs [][2]string) int {
	n := 4
	for _, p := range pairs {
		n += 8 + len(p[0]) + 1 + len(p[1]) + 1
	}
	return n
}

// AppendPairs appends the spec serialization of pairs to dst: a little-endian
// u32 count, count × (u32 key length, u32 value length), then each key and
// value followed by a NUL byte.
func AppendPairs(dst []byte, pairs [][2]string) []byte {
	n := 4 + 10*len(pairs)
	for _, p := range pairs {
		n += len(p[0]) + len(p[1])
	}
	dst = slices.Grow(dst, n)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(pairs)))
	for _, p := range pairs {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(p[0])))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(p[1])))
	}
	for _, p := range pairs {
		dst = append(dst, p[0]...)
		dst = append(dst, 0)
		dst = append(dst, p[1]...)
		dst = append(dst, 0)
	}
	return dst
}

// ParsePairs decodes the spec serialization. Like proxy-wasm-cpp-host's
// PairsUtil::toPairs it returns no pairs (and ok=false) for malformed input;
// an empty buffer or a single zero byte is an empty map.
func ParsePairs(b []byte) (pairs [][2]string, ok bool) {
	if len(b) == 0 || (len(b) == 1 && b[0] == 0) {
		return nil, true
	}
	if len(b) < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if n > MaxPairs || uint64(len(b)) < 4+uint64(n)*8 {
		return nil, false
	}
	sizes := b[4 : 4+n*8]
	raw := b[4+n*8:]
	// The layout is checked first, then every key and value is a substring of one copy of the
	// data: two allocations for the whole map, not one per key and value.
	data := raw
	for i := uint32(0); i < n; i++ {
		for _, l := range [2]uint32{binary.LittleEndian.Uint32(sizes[i*8:]), binary.LittleEndian.Uint32(sizes[i*8+4:])} {
			if uint64(len(data)) < uint64(l)+1 || data[l] != 0 {
				return nil, false
			}
			data = data[l+1:]
		}
	}
	all := string(raw[:len(raw)-len(data)])
	pairs = make([][2]string, n)
	at := 0
	for i := range pairs {
		for j := range 2 {
			l := int(binary.LittleEndian.Uint32(sizes[i*8+j*4:]))
			pairs[i][j] = all[at : at+l]
			at += l + 1
		}
	}
	return pairs, true
}
