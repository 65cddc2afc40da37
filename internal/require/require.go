// Package require holds the checks that table tests of several packages share.
package require

import "testing"

// Err checks the error of a table case against want, the whole message the case expects, or ""
// when it expects none; a mismatch fails the test at once. It reports whether err is nil: whether
// the case goes on to check its result.
func Err(t testing.TB, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("err = %v, want none", err)
	case want != "" && (err == nil || err.Error() != want):
		t.Fatalf("err = %v, want %q", err, want)
	}
	return err == nil
}
