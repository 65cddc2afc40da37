// Package hexbytes writes test vectors as the specifications print them: "10 0a 00 04".
package hexbytes

import (
	"encoding/hex"
	"strings"
)

// Parse decodes hex digits, spaces ignored: Parse("82 7e 00") is []byte{0x82, 0x7e, 0x00}. It
// panics on anything else (an odd digit count, a non-hex character): the vectors are constants
// in tests.
func Parse(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic("hexbytes: " + err.Error())
	}
	return b
}
