//go:build wasm

package policy

import "github.com/iotauthz/iotauthz/internal/words"

// On wasm the word-at-a-time versions in strops_words.go beat the runtime's byte loops. hasPrefix
// calls words directly: through hasPrefixWords it would cost more than Go inlines.

func hasPrefix(s, prefix string) bool { return words.HasPrefixString(s, prefix) }

func index(s, sub string) int { return indexWords(s, sub) }
