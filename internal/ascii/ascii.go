// Package ascii folds the case of ASCII letters without allocating, for the host names, header names and topics the plugin compares case-insensitively.
package ascii

// Lower is strings.ToLower for ASCII letters only (other bytes are kept as they are). It returns
// s itself, without allocating, when s has no upper-case letter.
func Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = toLower(b[j])
			}
			return string(b)
		}
	}
	return s
}

// EqualLower reports whether s, its ASCII letters lowered, is lower. lower must be lower case
// already: an upper-case letter in it matches nothing.
func EqualLower[T string | []byte](s T, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if toLower(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

// EqualFold reports whether a and b are the same with the ASCII letters of both lowered.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if toLower(a[i]) != toLower(b[i]) {
			return false
		}
	}
	return true
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
