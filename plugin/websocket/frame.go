package websocket

// Opcode is the frame opcode (RFC 6455 §5.2).
type Opcode byte

// Opcodes defined by RFC 6455 §11.8.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (close, ping, pong and the reserved 0xB-0xF).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// MaxControlPayload is the largest payload of a control frame (RFC 6455 §5.5).
const MaxControlPayload = 125

// Frame is one WebSocket frame.
//
// For ReadHeader and ReadFrame, Payload aliases the input buffer and holds the payload exactly as
// it is on the wire: still masked when Masked is set. The input is never modified; unmask with
// AppendPayload (into a caller buffer) or Mask (in place, on a buffer the caller owns).
//
// For AppendFrame, Payload is the clear payload: AppendFrame masks it with MaskKey while writing
// when Masked is set.
type Frame struct {
	Fin     bool
	Rsv     byte // RSV1, RSV2, RSV3 as bits 2, 1, 0; must be 0 unless an extension was negotiated
	Opcode  Opcode
	Masked  bool
	MaskKey [4]byte
	// Length is the payload length announced by the header (ReadHeader, ReadFrame).
	Length  int64
	Payload []byte
}

// Error is a WebSocket protocol violation found while decoding a frame header.
type Error struct{ Reason string }

func (e *Error) Error() string { return "websocket: " + e.Reason }

// Errors returned by ReadHeader and ReadFrame.
var (
	ErrReservedOpcode    = &Error{"reserved opcode"}
	ErrFragmentedControl = &Error{"fragmented control frame"}
	ErrControlTooLong    = &Error{"control frame payload longer than 125 bytes"}
	ErrCloseLength       = &Error{"close frame with a 1-byte payload"}
	ErrLengthMSB         = &Error{"64-bit payload length with the most significant bit set"}
	ErrNotMinimal        = &Error{"payload length not encoded in the minimal number of bytes"}
	ErrTooLarge          = &Error{"frame payload exceeds the maximum"}
)

// ReadHeader decodes the frame header at the start of buf; n is the header size (2 to 14 bytes)
// and f.Length the payload length, which may extend past buf. f.Payload is nil. n == 0 with a nil
// error means buf ends inside the header.
//
// maxPayload bounds f.Length (maxPayload <= 0: only the protocol's 2^63-1). The checks that need no
// state are made here: reserved opcodes, control frames that are fragmented or longer than 125
// bytes, a close payload of 1 byte, non-minimal length encodings, the 64-bit length's top bit.
// RSV bits are returned, not rejected: the caller knows whether an extension was negotiated.
func ReadHeader(buf []byte, maxPayload int64) (f Frame, n int, err error) {
	if len(buf) < 2 {
		return Frame{}, 0, nil
	}
	b0, b1 := buf[0], buf[1]
	f.Fin = b0&0x80 != 0
	f.Rsv = b0 >> 4 & 7
	f.Opcode = Opcode(b0 & 0x0f)
	f.Masked = b1&0x80 != 0
	switch f.Opcode {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return Frame{}, 0, ErrReservedOpcode
	}
	n = 2
	l := int64(b1 & 0x7f)
	switch l {
	case 126:
		if len(buf) < 4 {
			return Frame{}, 0, nil
		}
		l = int64(buf[2])<<8 | int64(buf[3])
		if l < 126 {
			return Frame{}, 0, ErrNotMinimal
		}
		n = 4
	case 127:
		if len(buf) < 10 {
			return Frame{}, 0, nil
		}
		if buf[2]&0x80 != 0 {
			return Frame{}, 0, ErrLengthMSB
		}
		l = 0
		for _, c := range buf[2:10] {
			l = l<<8 | int64(c)
		}
		if l <= 0xffff {
			return Frame{}, 0, ErrNotMinimal
		}
		n = 10
	}
	if f.Opcode.IsControl() {
		if !f.Fin {
			return Frame{}, 0, ErrFragmentedControl
		}
		if l > MaxControlPayload {
			return Frame{}, 0, ErrControlTooLong
		}
		if f.Opcode == OpClose && l == 1 {
			return Frame{}, 0, ErrCloseLength
		}
	}
	if maxPayload > 0 && l > maxPayload {
		return Frame{}, 0, ErrTooLarge
	}
	if f.Masked {
		if len(buf) < n+4 {
			return Frame{}, 0, nil
		}
		copy(f.MaskKey[:], buf[n:n+4])
		n += 4
	}
	f.Length = l
	return f, n, nil
}

// ReadFrame decodes the first complete frame of buf: n is its total size. n == 0 with a nil error
// means buf holds only part of a frame. f.Payload aliases buf (masked if f.Masked; see Frame).
// maxPayload as for ReadHeader. ReadFrame never allocates and never modifies buf.
func ReadFrame(buf []byte, maxPayload int) (f Frame, n int, err error) {
	f, n, err = ReadHeader(buf, int64(maxPayload))
	if err != nil || n == 0 {
		return Frame{}, 0, err
	}
	if int64(len(buf)-n) < f.Length {
		return Frame{}, 0, nil
	}
	end := n + int(f.Length)
	f.Payload = buf[n:end:end]
	return f, end, nil
}

// AppendPayload appends the clear payload of a frame from ReadFrame to dst: f.Payload unmasked
// with f.MaskKey when f.Masked, else copied as is.
func (f *Frame) AppendPayload(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, f.Payload...)
	if f.Masked {
		Mask(f.MaskKey, 0, dst[start:])
	}
	return dst
}

// Mask XORs b in place with key (RFC 6455 §5.3); pos is the offset of b[0] within the frame's
// payload, so that a payload can be (un)masked piece by piece. Masking twice restores the input.
func Mask(key [4]byte, pos int, b []byte) {
	if len(b) == 0 {
		return
	}
	var k [4]byte
	for i := range k {
		k[i] = key[(pos+i)&3]
	}
	k32 := uint32(k[0]) | uint32(k[1])<<8 | uint32(k[2])<<16 | uint32(k[3])<<24
	k64 := uint64(k32) | uint64(k32)<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		v ^= k64
		b[i], b[i+1], b[i+2], b[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		b[i+4], b[i+5], b[i+6], b[i+7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	for ; i < len(b); i++ {
		b[i] ^= k[i&3]
	}
}

// AppendFrame appends the wire form of f to dst: the header with the minimal payload length
// encoding, then f.Payload, masked with f.MaskKey when f.Masked (f.Payload is not modified).
// f.Length is ignored. AppendFrame does not check the control-frame rules.
func AppendFrame(dst []byte, f *Frame) []byte {
	b0 := byte(f.Opcode&0x0f) | f.Rsv&7<<4
	if f.Fin {
		b0 |= 0x80
	}
	var m byte
	if f.Masked {
		m = 0x80
	}
	l := len(f.Payload)
	switch {
	case l < 126:
		dst = append(dst, b0, m|byte(l))
	case l <= 0xffff:
		dst = append(dst, b0, m|126, byte(l>>8), byte(l))
	default:
		dst = append(dst, b0, m|127, 0, 0, 0, 0, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		if l64 := uint64(l); l64 > 0xffffffff {
			i := len(dst) - 8
			dst[i], dst[i+1], dst[i+2], dst[i+3] = byte(l64>>56), byte(l64>>48), byte(l64>>40), byte(l64>>32)
		}
	}
	if !f.Masked {
		return append(dst, f.Payload...)
	}
	dst = append(dst, f.MaskKey[:]...)
	start := len(dst)
	dst = append(dst, f.Payload...)
	Mask(f.MaskKey, 0, dst[start:])
	return dst
}
