package websocket

import (
	"bytes"
	"testing"

	"github.com/iotauthz/iotauthz/internal/hexbytes"
)

// h decodes "10 0a 00 ..." (spaces ignored).
var h = hexbytes.Parse

var key = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// RFC 6455 §5.7 examples.
var rfcVectors = []struct {
	name  string
	wire  []byte
	frame Frame // Payload clear
}{
	{"unmasked text Hello", h("81 05 48 65 6c 6c 6f"), Frame{Fin: true, Opcode: OpText, Payload: []byte("Hello")}},
	{"masked text Hello", h("81 85 37 fa 21 3d 7f 9f 4d 51 58"), Frame{Fin: true, Opcode: OpText, Masked: true, MaskKey: key, Payload: []byte("Hello")}},
	{"fragmented text first Hel", h("01 03 48 65 6c"), Frame{Opcode: OpText, Payload: []byte("Hel")}},
	{"fragmented text last lo", h("80 02 6c 6f"), Frame{Fin: true, Opcode: OpContinuation, Payload: []byte("lo")}},
	{"unmasked ping Hello", h("89 05 48 65 6c 6c 6f"), Frame{Fin: true, Opcode: OpPing, Payload: []byte("Hello")}},
	{"masked pong Hello", h("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), Frame{Fin: true, Opcode: OpPong, Masked: true, MaskKey: key, Payload: []byte("Hello")}},
	{"256 bytes binary 16-bit length", append(h("82 7e 01 00"), bytes.Repeat([]byte{0xab}, 256)...),
		Frame{Fin: true, Opcode: OpBinary, Payload: bytes.Repeat([]byte{0xab}, 256)}},
	{"64 KiB binary 64-bit length", append(h("82 7f 00 00 00 00 00 01 00 00"), bytes.Repeat([]byte{0xcd}, 65536)...),
		Frame{Fin: true, Opcode: OpBinary, Payload: bytes.Repeat([]byte{0xcd}, 65536)}},
	{"masked close 1000", h("88 82 01 02 03 04 02 ea"), Frame{Fin: true, Opcode: OpClose, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Payload: h("03 e8")}},
	{"empty binary with RSV bits", h("f2 00"), Frame{Fin: true, Rsv: 7, Opcode: OpBinary}},
}

func TestReadFrame_RFC6455(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.name, func(t *testing.T) {
			f, n, err := ReadFrame(v.wire, 0)
			if err != nil || n != len(v.wire) {
				t.Fatalf("n %d err %v", n, err)
			}
			clear := f.AppendPayload(nil)
			if f.Fin != v.frame.Fin || f.Rsv != v.frame.Rsv || f.Opcode != v.frame.Opcode || f.Masked != v.frame.Masked ||
				f.MaskKey != v.frame.MaskKey || f.Length != int64(len(v.frame.Payload)) || !bytes.Equal(clear, v.frame.Payload) {
				t.Fatalf("decoded %+v clear %q", f, clear)
			}
			if len(f.Payload) > 0 && &f.Payload[0] != &v.wire[n-len(f.Payload)] {
				t.Fatal("payload does not alias the input")
			}
			if got := AppendFrame(nil, &v.frame); !bytes.Equal(got, v.wire) {
				t.Fatalf("AppendFrame\n% x\nwant\n% x", got[:min(len(got), 16)], v.wire[:min(len(v.wire), 16)])
			}
			for i := 0; i < len(v.wire) && i < 300; i++ {
				if _, n, err := ReadFrame(v.wire[:i], 0); n != 0 || err != nil {
					t.Fatalf("prefix %d: n %d err %v", i, n, err)
				}
			}
			if _, _, err := ReadFrame(v.wire, len(v.frame.Payload)-1); len(v.frame.Payload) > 0 && err != ErrTooLarge {
				t.Fatalf("maxPayload-1: %v", err)
			}
		})
	}
}

func TestReadFrame_Sequence(t *testing.T) {
	// The fragmented message of RFC 6455 §5.7 with the ping interleaved, read back to back.
	stream := h("01 03 48 65 6c 89 05 48 65 6c 6c 6f 80 02 6c 6f")
	var msg []byte
	var ops []Opcode
	for len(stream) > 0 {
		f, n, err := ReadFrame(stream, 0)
		if err != nil || n == 0 {
			t.Fatal(n, err)
		}
		ops = append(ops, f.Opcode)
		if !f.Opcode.IsControl() {
			msg = f.AppendPayload(msg)
		}
		stream = stream[n:]
	}
	if string(msg) != "Hello" || len(ops) != 3 || ops[1] != OpPing {
		t.Fatalf("msg %q ops %v", msg, ops)
	}
}

func TestReadFrame_Errors(t *testing.T) {
	for _, c := range []struct {
		name string
		wire string
		max  int
		want error
	}{
		{"reserved opcode 3", "83 00", 0, ErrReservedOpcode},
		{"reserved control opcode B", "8b 00", 0, ErrReservedOpcode},
		{"fragmented ping", "09 00", 0, ErrFragmentedControl},
		{"ping 126 bytes", "89 7e 00 7e", 0, ErrControlTooLong},
		{"close 1 byte", "88 01 03", 0, ErrCloseLength},
		{"16-bit length under 126", "82 7e 00 7d", 0, ErrNotMinimal},
		{"64-bit length under 65536", "82 7f 00 00 00 00 00 00 ff ff", 0, ErrNotMinimal},
		{"64-bit length MSB", "82 7f 80 00 00 00 00 00 00 00", 0, ErrLengthMSB},
		{"too large", "82 7e 01 00", 255, ErrTooLarge},
	} {
		if _, n, err := ReadFrame(h(c.wire), c.max); err != c.want || n != 0 {
			t.Errorf("%s: n %d err %v, want %v", c.name, n, err, c.want)
		}
	}
	if ErrTooLarge.Error() != "websocket: frame payload exceeds the maximum" {
		t.Error(ErrTooLarge.Error())
	}
}

func TestReadHeader_Streaming(t *testing.T) {
	wire := h("81 85 37 fa 21 3d 7f 9f 4d 51 58")
	f, n, err := ReadHeader(wire[:7], 0)
	if err != nil || n != 6 || f.Length != 5 || f.Payload != nil {
		t.Fatalf("%+v %d %v", f, n, err)
	}
	// Unmask the payload in two pieces at their offsets.
	p := append([]byte{}, wire[6:]...)
	Mask(f.MaskKey, 0, p[:2])
	Mask(f.MaskKey, 2, p[2:])
	if string(p) != "Hello" {
		t.Fatalf("%q", p)
	}
	// Mask on long buffers at every offset matches the byte-wise definition.
	for pos := 0; pos < 4; pos++ {
		b := bytes.Repeat([]byte{0x5a}, 37)
		Mask(key, pos, b)
		for i, c := range b {
			if c != 0x5a^key[(pos+i)&3] {
				t.Fatalf("pos %d byte %d", pos, i)
			}
		}
	}
	// 64-bit lengths beyond 4 GiB decode (the payload is not needed to read the header).
	f, n, err = ReadHeader(h("82 7f 00 00 00 01 00 00 00 00"), 0)
	if err != nil || n != 10 || f.Length != 1<<32 {
		t.Fatalf("%+v %d %v", f, n, err)
	}
}

func TestReadFrame_NoAllocs(t *testing.T) {
	wire := h("82 85 37 fa 21 3d 7f 9f 4d 51 58")
	a := testing.AllocsPerRun(100, func() {
		if _, n, err := ReadFrame(wire, 1024); n == 0 || err != nil {
			t.Fatal(n, err)
		}
	})
	if a != 0 {
		t.Fatalf("%v allocs", a)
	}
}

// FuzzDecode: ReadFrame never panics; an accepted frame re-encodes (AppendFrame with its clear
// payload) to exactly the input bytes, since lengths must be minimal.
func FuzzDecode(f *testing.F) {
	for _, v := range rfcVectors {
		if len(v.wire) < 1024 {
			f.Add(v.wire)
		}
	}
	f.Add(h("82 7f 00 00 00 00 00 00 ff ff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := ReadFrame(b, 1<<20)
		if err != nil || n == 0 {
			return
		}
		clear := fr.AppendPayload(nil)
		g := fr
		g.Payload = clear
		enc := AppendFrame(nil, &g)
		if !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encode % x != % x", enc, b[:n])
		}
		fr2, n2, err := ReadFrame(enc, 1<<20)
		if err != nil || n2 != n || fr2.Fin != fr.Fin || fr2.Rsv != fr.Rsv || fr2.Opcode != fr.Opcode ||
			fr2.Masked != fr.Masked || fr2.MaskKey != fr.MaskKey || fr2.Length != fr.Length || !bytes.Equal(fr2.AppendPayload(nil), clear) {
			t.Fatalf("round trip %+v vs %+v", fr, fr2)
		}
	})
}
