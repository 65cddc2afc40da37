package mqtt

import (
	"bytes"
	"testing"
)

// FuzzDecode: ReadPacket never panics, and whatever it accepts re-encodes (Append) to bytes that
// decode to the same packet, and re-encode to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, v := range vectors {
		f.Add(h(v.wire), v.version == V5)
	}
	f.Add(h("30 ff ff ff ff 01"), false)
	f.Fuzz(func(t *testing.T, b []byte, v5 bool) {
		version := V311
		if v5 {
			version = V5
		}
		p, n, err := ReadPacket(b, version, 1<<16)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) {
			t.Fatalf("n %d > len %d", n, len(b))
		}
		enc := p.Append(nil, version)
		p2, n2, err := ReadPacket(enc, version, 0)
		if err != nil || n2 != len(enc) {
			t.Fatalf("re-decode of % x: n %d err %v (from % x)", enc, n2, err, b[:n])
		}
		if !equalPackets(p, p2) {
			t.Fatalf("round trip\n%+v\n%+v", p, p2)
		}
		if enc2 := p2.Append(nil, version); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: % x vs % x", enc, enc2)
		}
	})
}
