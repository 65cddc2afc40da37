//go:build !wasm

package policy

import "strings"

// Natively the standard library's vectorised string functions are the fastest; strops_wasm.go
// has the WebAssembly versions.

func hasPrefix(s, prefix string) bool { return strings.HasPrefix(s, prefix) }

func index(s, sub string) int { return strings.Index(s, sub) }
