package proxywasm

import (
	"slices"
	"unsafe"
)

// Header maps cross the ABI in the spec's serialization: a little-endian u32 count, then count
// pairs of u32 (key length, value length), then each key and each value followed by a NUL.
// An empty map is 4 zero bytes (a host may also send 0 or 1 byte).
//
//	[][2]string{{":path", "/"}} → 01000000 05000000 01000000 ":path\x00" "/\x00"
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#serialization

// SerializeHeaders returns h in the spec's header-map serialization.
func SerializeHeaders(h [][2]string) []byte { return appendHeaders(nil, h) }

// DeserializeHeaders parses the spec's header-map serialization; nil for an empty or malformed
// input. The strings are copies (one allocation for all of them).
func DeserializeHeaders(b []byte) [][2]string {
	h, err := parseHeaders(b, false)
	if err != nil {
		return nil
	}
	return h
}

func headersSize(h [][2]string) int {
	n := 4 + 8*len(h)
	for i := range h {
		n += len(h[i][0]) + len(h[i][1]) + 2
	}
	return n
}

// appendHeaders appends the serialization of h to dst.
func appendHeaders(dst []byte, h [][2]string) []byte {
	n := headersSize(h)
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), len(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	dst = appendU32(dst, uint32(len(h)))
	for i := range h {
		dst = appendU32(dst, uint32(len(h[i][0])))
		dst = appendU32(dst, uint32(len(h[i][1])))
	}
	for i := range h {
		dst = append(dst, h[i][0]...)
		dst = append(dst, 0)
		dst = append(dst, h[i][1]...)
		dst = append(dst, 0)
	}
	return dst
}

// parseHeaders decodes a serialized map. With owned set, b belongs to the caller for good and
// the strings alias it; otherwise they alias one copy of b.
func parseHeaders(b []byte, owned bool) ([][2]string, error) {
	return parseHeadersInto(nil, b, owned)
}

// parseHeadersInto is parseHeaders appending to dst, so that a caller can reuse one slice.
func parseHeadersInto(dst [][2]string, b []byte, owned bool) ([][2]string, error) {
	if len(b) < 4 {
		return dst, nil
	}
	count := int(le32(b))
	if count == 0 {
		return dst, nil
	}
	if count > (len(b)-4)/10 { // each pair needs 8 size bytes and 2 NULs
		return dst, ErrSerializationFailure
	}
	var s string
	if owned {
		s = unsafe.String(unsafe.SliceData(b), len(b))
	} else {
		s = string(b)
	}
	n0 := len(dst)
	dst = slices.Grow(dst, count)[:n0+count]
	h := dst[n0:]
	// The size table fits (count*10 ≤ len-4); every key and value is checked against the
	// buffer before it is sliced.
	sizes := b[4 : 4+8*count]
	data := uint(4 + 8*count)
	end := uint(len(b))
	for i := range h {
		kl := uint(le32(sizes[8*i:]))
		vl := uint(le32(sizes[8*i+4:]))
		kEnd := data + kl
		vEnd := kEnd + 1 + vl
		if kl > end || vl > end || vEnd >= end || b[kEnd] != 0 || b[vEnd] != 0 { // each ends with a NUL
			clear(h)
			return dst[:n0], ErrSerializationFailure
		}
		h[i] = [2]string{s[data:kEnd], s[kEnd+1 : vEnd]}
		data = vEnd + 1
	}
	return dst, nil
}

// SerializePropertyPath joins path segments with NUL bytes, the encoding proxy_get_property
// and proxy_set_property take.
//
//	[]string{"connection", "requested_server_name"} → "connection\x00requested_server_name"
func SerializePropertyPath(path []string) []byte { return appendPath(nil, path) }

func appendPath(dst []byte, path []string) []byte {
	for i, p := range path {
		if i > 0 {
			dst = append(dst, 0)
		}
		dst = append(dst, p...)
	}
	return dst
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
