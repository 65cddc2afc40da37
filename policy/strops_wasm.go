//go:build wasm

package policy

// On wasm the word-at-a-time versions in strops_words.go beat the runtime's byte loops.

func hasPrefix(s, prefix string) bool { return hasPrefixWords(s, prefix) }

func index(s, sub string) int { return indexWords(s, sub) }
