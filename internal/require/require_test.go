package require

import (
	"errors"
	"fmt"
	"testing"
)

// recorder is a testing.TB that records Fatalf instead of stopping the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestErr(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		name   string
		err    error
		want   string
		ok     bool
		failed string
	}{
		{"no error expected, none", nil, "", true, ""},
		{"error expected, same", boom, "boom", false, ""},
		{"no error expected, one", boom, "", false, "err = boom, want none"},
		{"error expected, none", nil, "boom", true, `err = <nil>, want "boom"`},
		{"error expected, another", errors.New("bang"), "boom", false, `err = bang, want "boom"`},
	} {
		r := &recorder{TB: t}
		if ok := Err(r, c.err, c.want); ok != c.ok || r.failed != c.failed {
			t.Errorf("%s: ok %v failed %q, want %v %q", c.name, ok, r.failed, c.ok, c.failed)
		}
	}
}
