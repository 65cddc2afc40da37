package hexbytes

import (
	"bytes"
	"testing"
)

func TestParse(t *testing.T) {
	if got := Parse("82 7e 00 7D"); !bytes.Equal(got, []byte{0x82, 0x7e, 0x00, 0x7d}) {
		t.Fatalf("% x", got)
	}
	if got := Parse(""); len(got) != 0 {
		t.Fatalf("% x", got)
	}
	for _, bad := range []string{"8", "8 2 7", "zz", "0x82"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Parse(%q) did not panic", bad)
				}
			}()
			Parse(bad)
		}()
	}
}
