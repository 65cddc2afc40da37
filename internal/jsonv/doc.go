// Package jsonv is a small, strict JSON reader for code that runs inside the .wasm plugin, where
// module size matters more than convenience: it replaces gjson there (gjson links
// encoding/json through tidwall/pretty and costs about 1.7 MB of module).
//
// Parse reads one RFC 8259 JSON text in a single pass and either returns an error naming the
// byte offset of the first problem, or a Value that can be walked without further errors. Every
// value keeps its raw text (Raw), its offset in the input (Offset) and, for numbers, the literal
// exactly as written; strings are validated at parse time and decoded on demand (Str).
//
//	v, err := jsonv.Parse([]byte(`{"name": "dev\u00e9", "n": 3.0, "tags": ["a", "b"]}`))
//	// err == nil
//	name, _ := v.Get("name") // name.Str() == "devé", name.Raw() == `"dev\u00e9"`
//	n, _ := v.Get("n")       // n.Int() == 3, true
//	for m := range v.RangeMembers { ... } // m.Key, m.KeyOffset, m.Value; in document order,
//	                                      // duplicates included; Members() as a slice
//
// # Rules
//
//   - Exactly RFC 8259: no comments, trailing commas, single quotes, NaN, Infinity, leading
//     zeros or '+' signs; whitespace is space, tab, CR and LF only; any value may be the top
//     level.
//   - Strings: control characters must be escaped; escapes are \" \\ \/ \b \f \n \r \t and
//     \uXXXX, with UTF-16 surrogate pairs decoded. By default a string must be valid UTF-8 and a
//     \u escape of a surrogate must be half of a pair. Options.AllowInvalidUTF8 keeps invalid
//     bytes as they are and decodes an unpaired surrogate escape to U+FFFD instead (what gjson did).
//   - Nesting: at most Options.MaxDepth arrays and objects open at once (DefaultMaxDepth).
//   - Duplicate object keys are kept, in order, unless Options.RejectDuplicateKeys refuses them;
//     Get returns the first.
//
// The reader copies its input once (Parse) or not at all (ParseString); a parsed Value never
// aliases the caller's byte slice. A Value is immutable and safe for concurrent reads.
//
// # Writing
//
// The writing side is only strings, the one part of JSON output that needs care: AppendString
// quotes and escapes a string the way Parse reads it back, AppendEscaped writes the same text
// without the quotes. Callers write the rest (keys in a fixed order, numbers, literals) byte by
// byte, as authorizer.Event.AppendJSON and the plugin's decision-log lines do.
package jsonv
