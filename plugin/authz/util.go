package authz

import (
	"encoding/binary"
	"math/rand/v2"
	"unsafe"

	"github.com/iotauthz/iotauthz/internal/uuid"
)

// newUUID is a random version 4 UUID for trace ids and connection ids. The Go runtime seeds
// math/rand/v2 from WASI random_get (Envoy: RAND_bytes).
func newUUID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return uuid.Format(b)
}

// unsafeString views b as a string without copying; b must not change while it is used.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// unsafeBytes views s as bytes without copying; the result must not be modified.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
