package policy

import (
	"strconv"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

// Policy text is read with internal/jsonv, the module's one strict JSON reader (the plugin's
// configuration and authorizer responses use it too). It keeps the byte offset of every value, so
// that errors can point at a line and column; evaluation never touches JSON. The text must be
// exactly RFC 8259 (no comments, no trailing commas) with valid UTF-8 strings, and duplicate
// object keys are refused, which IAM would otherwise resolve silently by keeping one of them.

// jsonOptions are the rules policy text is read with. A valid policy nests 6 arrays and objects
// at most; more than 17 open at once are refused rather than risking deep recursion on hostile
// input (anything between 7 and 17 deep parses, then fails validation).
var jsonOptions = jsonv.Options{MaxDepth: 17, RejectDuplicateKeys: true}

// parseJSON parses s; on error it returns the offset of the problem and what it is.
func parseJSON(s string) (v jsonv.Value, off int, msg string) {
	v, err := jsonOptions.ParseString(s)
	if err != nil {
		if se, ok := err.(*jsonv.SyntaxError); ok {
			return v, se.Offset, se.Msg
		}
		return v, 0, err.Error()
	}
	return v, 0, ""
}

// kindName names a value's kind in an error message: "a string", "an object", "null".
func kindName(v jsonv.Value) string {
	switch v.Kind() {
	case jsonv.Null:
		return "null"
	case jsonv.Bool:
		return "a boolean"
	case jsonv.Number:
		return "a number"
	case jsonv.String:
		return "a string"
	case jsonv.Array:
		return "an array"
	}
	return "an object"
}

// text is a scalar's text: a string's decoded content, or a number or boolean as written.
func text(v jsonv.Value) string {
	if v.Kind() == jsonv.String {
		return v.Str()
	}
	return v.Raw()
}

// describeValue shows a JSON value in an error message.
func describeValue(v jsonv.Value) string {
	switch v.Kind() {
	case jsonv.String:
		return strconv.Quote(v.Str())
	case jsonv.Bool, jsonv.Number:
		return kindName(v) + " " + v.Raw()
	}
	return kindName(v)
}

// lineCol converts a byte offset into 1-based line and column numbers (columns count characters).
func lineCol(s string, off int) (line, col int) {
	if off > len(s) {
		off = len(s)
	}
	line, col = 1, 1
	for _, c := range s[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// significantChars counts the characters of a JSON text outside insignificant whitespace, the
// measure MaxDocumentChars applies to.
func significantChars(s string) int {
	n := 0
	inStr, esc := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c&0xC0 == 0x80 {
			continue // a UTF-8 continuation byte: part of a character already counted
		}
		switch {
		case inStr:
			n++
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			n++
			if c == '"' {
				inStr = true
			}
		}
	}
	return n
}
