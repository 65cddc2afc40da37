package gateway

import (
	"io"
	"sync"
)

// Read buffer sizes. Most reads of an MQTT connection are small (a device's packets, the
// broker's acknowledgements), and most connections are idle most of the time, blocked in a read:
// each holds its small buffer only. A read that fills it is followed by reads into a large buffer
// from a pool, given back before the first read that does not need it.
const (
	smallRead = 2 << 10
	largeRead = 32 << 10
)

var largeReads = sync.Pool{New: func() any { b := make([]byte, largeRead); return &b }}

// readBuf is one socket's read buffer (one reader goroutine).
type readBuf struct {
	small [smallRead]byte
	large *[]byte
	full  bool // the last read filled its buffer
}

// read reads once from r. The bytes it returns are valid until the next read or release.
func (b *readBuf) read(r io.Reader) ([]byte, error) {
	if b.large != nil && !b.full {
		b.release()
	}
	if b.large == nil && b.full {
		b.large = largeReads.Get().(*[]byte)
	}
	buf := b.small[:]
	if b.large != nil {
		buf = *b.large
	}
	n, err := r.Read(buf)
	b.full = n == len(buf)
	return buf[:n], err
}

// release gives the large buffer back to the pool; the bytes the last read returned are then
// no longer valid.
func (b *readBuf) release() {
	if b.large != nil {
		largeReads.Put(b.large)
		b.large = nil
	}
}
