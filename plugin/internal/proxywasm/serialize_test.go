package proxywasm

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"unsafe"
)

func TestSerializeHeaders(t *testing.T) {
	tests := []struct {
		name string
		in   [][2]string
		want []byte
	}{
		{"empty", nil, []byte{0, 0, 0, 0}},
		{"one", [][2]string{{":path", "/"}}, []byte("\x01\x00\x00\x00\x05\x00\x00\x00\x01\x00\x00\x00:path\x00/\x00")},
		{"empty value", [][2]string{{"a", ""}, {"bc", "d"}},
			[]byte("\x02\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00a\x00\x00bc\x00d\x00")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SerializeHeaders(tc.in)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			back := DeserializeHeaders(got)
			if len(tc.in) == 0 {
				if back != nil {
					t.Fatalf("round trip of empty map: %q", back)
				}
				return
			}
			if !reflect.DeepEqual(back, tc.in) {
				t.Fatalf("round trip: got %q, want %q", back, tc.in)
			}
		})
	}
}

func TestDeserializeHeaders_Malformed(t *testing.T) {
	good := SerializeHeaders([][2]string{{"key", "value"}, {"k2", "v2"}})
	tests := []struct {
		name string
		in   []byte
	}{
		{"count too big", append([]byte{9, 0, 0, 0}, good[4:]...)},
		{"truncated", good[:len(good)-3]},
		{"huge key length", append(append([]byte{}, good[:4]...), append([]byte{0xff, 0xff, 0xff, 0x7f}, good[8:]...)...)},
		{"only count", []byte{1, 0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if h := DeserializeHeaders(tc.in); h != nil {
				t.Fatalf("got %q, want nil", h)
			}
			if _, err := parseHeaders(tc.in, false); !errors.Is(err, ErrSerializationFailure) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	for _, short := range [][]byte{nil, {0}, {0, 0, 0, 0}} {
		if h, err := parseHeaders(short, false); h != nil || err != nil {
			t.Fatalf("%q: got %q, %v", short, h, err)
		}
	}
}

// TestParseHeadersInto_Reuse: a filter reuses one slice across requests; a malformed map leaves
// the slice as it was, with no pair half written.
func TestParseHeadersInto_Reuse(t *testing.T) {
	first := SerializeHeaders([][2]string{{":path", "/a"}, {"x", "1"}, {"y", "2"}})
	second := SerializeHeaders([][2]string{{":path", "/b"}})
	buf, err := parseHeadersInto(nil, first, false)
	if err != nil || len(buf) != 3 {
		t.Fatalf("first: %q, %v", buf, err)
	}
	h, err := parseHeadersInto(buf[:0], second, false)
	if err != nil || !reflect.DeepEqual(h, [][2]string{{":path", "/b"}}) {
		t.Fatalf("second: %q, %v", h, err)
	}
	if &h[0] != &buf[0] {
		t.Fatal("the slice was not reused")
	}
	pre := [][2]string{{"kept", "v"}}
	bad := append([]byte{}, first...)
	bad[len(bad)-1] = 'x' // the last value loses its NUL
	got, err := parseHeadersInto(pre, bad, false)
	if !errors.Is(err, ErrSerializationFailure) || !reflect.DeepEqual(got, pre) {
		t.Fatalf("malformed: %q, %v; want the slice unchanged and ErrSerializationFailure", got, err)
	}
	if full := got[:cap(got)]; len(full) > 1 && full[1] != ([2]string{}) {
		t.Fatalf("a half-parsed pair stays behind the slice's end: %q", full[1:])
	}
}

func FuzzDeserializeHeaders(f *testing.F) {
	f.Add(SerializeHeaders([][2]string{{":authority", "example.com"}, {"x", "y"}}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h := DeserializeHeaders(b)
		if h != nil && !bytes.Equal(SerializeHeaders(h), b[:headersSize(h)]) {
			t.Fatalf("round trip differs for %q", b)
		}
	})
}

func TestSerializePropertyPath(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"plugin_name"}, "plugin_name"},
		{[]string{"connection", "requested_server_name"}, "connection\x00requested_server_name"},
		{[]string{"a", "", "b"}, "a\x00\x00b"},
	}
	for _, tc := range tests {
		if got := string(SerializePropertyPath(tc.in)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStatusToError(t *testing.T) {
	tests := []struct {
		code uint32
		want error
	}{
		{0, nil}, {1, ErrNotFound}, {2, ErrBadArgument}, {3, ErrSerializationFailure},
		{4, ErrParseFailure}, {6, ErrInvalidMemoryAccess}, {7, ErrEmpty}, {8, ErrCasMismatch},
		{10, ErrInternalFailure}, {11, ErrBrokenConnection}, {12, ErrUnimplemented},
	}
	for _, tc := range tests {
		if got := StatusToError(tc.code); got != tc.want {
			t.Errorf("StatusToError(%d) = %v, want %v", tc.code, got, tc.want)
		}
		if tc.want != nil && tc.want.(*StatusError).Code != tc.code {
			t.Errorf("%v carries code %d", tc.want, tc.want.(*StatusError).Code)
		}
	}
	err := StatusToError(99)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 99 || err.Error() != "proxy-wasm: status 99" {
		t.Errorf("StatusToError(99) = %v", err)
	}
}

// TestAlloc_Lifetime runs the allocate/take path a million times, as the host does for every
// returned value, and checks that nothing stays pending.
func TestAlloc_Lifetime(t *testing.T) {
	for i := 0; i < 1_000_000; i++ {
		n := uint32(1 + i%64)
		p := proxyOnMemoryAllocate(n)
		if i%10 == 0 { // the host allocated but the call failed: never taken
			proxyOnMemoryAllocate(8)
		}
		b := takeAlloc(uintptr(p), n)
		if len(b) != int(n) || unsafe.Pointer(unsafe.SliceData(b)) != p {
			t.Fatalf("call %d: took %d bytes at %p, want %d at %p", i, len(b), unsafe.SliceData(b), n, p)
		}
		if liveAllocations() != 0 {
			t.Fatalf("call %d: %d allocations still live", i, liveAllocations())
		}
	}
	if cap(pending) > 8 {
		t.Fatalf("pending grew to %d", cap(pending))
	}
	// An address the binding never handed out is refused.
	var x [4]byte
	proxyOnMemoryAllocate(4)
	if b := takeAlloc(uintptr(unsafe.Pointer(&x[0])), 4); b != nil || liveAllocations() != 0 {
		t.Fatalf("foreign address taken: %v, live %d", b, liveAllocations())
	}
	if b := takeAlloc(0, 0); b != nil {
		t.Fatal("empty result should be nil")
	}
}
