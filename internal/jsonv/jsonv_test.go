package jsonv

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, in string
		opts     Options
		off      int
		msg      string
	}{
		{name: "empty", in: "", off: 0, msg: "unexpected end of input, expected a JSON value"},
		{name: "space only", in: " \n", off: 2, msg: "unexpected end of input, expected a JSON value"},
		{name: "trailing comma object", in: `{"a":1,}`, off: 7, msg: "unexpected character '}', expected a quoted object key"},
		{name: "trailing comma array", in: `[1,]`, off: 3, msg: "unexpected character ']', expected a JSON value"},
		{name: "comment", in: `{"a":1 /* x */}`, off: 7, msg: "unexpected character '/', expected ',' or '}'"},
		{name: "line comment", in: "// x\n{}", off: 0, msg: "unexpected character '/', expected a JSON value"},
		{name: "single quotes", in: `{'a':1}`, off: 1, msg: "unexpected character ''', expected a quoted object key"},
		{name: "unquoted key", in: `{a:1}`, off: 1, msg: "unexpected character 'a', expected a quoted object key"},
		{name: "missing colon", in: `{"a" 1}`, off: 5, msg: "unexpected character '1', expected ':' after object key"},
		{name: "missing comma", in: `[1 2]`, off: 3, msg: "unexpected character '2', expected ',' or ']'"},
		{name: "unclosed object", in: `{"a":1`, off: 6, msg: "unexpected end of input, expected ',' or '}'"},
		{name: "unclosed array", in: `[1`, off: 2, msg: "unexpected end of input, expected ',' or ']'"},
		{name: "two values", in: `{} {}`, off: 3, msg: "unexpected character '{' after the end of the JSON value"},
		{name: "NaN", in: `NaN`, off: 0, msg: "unexpected character 'N', expected a JSON value"},
		{name: "Infinity", in: `-Infinity`, off: 1, msg: "invalid number"},
		{name: "plus sign", in: `+1`, off: 0, msg: "unexpected character '+', expected a JSON value"},
		{name: "leading zero", in: `01`, off: 1, msg: "unexpected character '1' after the end of the JSON value"},
		{name: "leading zero in array", in: `[-01]`, off: 3, msg: "unexpected character '1', expected ',' or ']'"},
		{name: "bare minus", in: `-`, off: 1, msg: "invalid number"},
		{name: "dot without digits", in: `1.`, off: 2, msg: "invalid number: expected a digit after '.'"},
		{name: "leading dot", in: `.5`, off: 0, msg: "unexpected character '.', expected a JSON value"},
		{name: "exponent without digits", in: `1e+`, off: 3, msg: "invalid number: expected a digit in the exponent"},
		{name: "hex", in: `0x10`, off: 1, msg: "unexpected character 'x' after the end of the JSON value"},
		{name: "bad literal", in: `tru`, off: 0, msg: "invalid literal, expected true"},
		{name: "capital literal", in: `[True]`, off: 1, msg: "unexpected character 'T', expected a JSON value"},
		{name: "null prefix", in: `nul1`, off: 0, msg: "invalid literal, expected null"},
		{name: "unterminated string", in: `["abc`, off: 1, msg: "unterminated string"},
		{name: "unterminated after backslash", in: `"ab\`, off: 0, msg: "unterminated string"},
		{name: "raw newline", in: "\"a\nb\"", off: 2, msg: `control character '\n' in string; escape it`},
		{name: "raw tab", in: "\"a\tb\"", off: 2, msg: `control character '\t' in string; escape it`},
		{name: "NUL", in: "\"\x00\"", off: 1, msg: `control character '\x00' in string; escape it`},
		{name: "bad escape", in: `"a\x"`, off: 2, msg: `invalid escape '\x' in string`},
		{name: "escaped newline", in: "\"\\\n\"", off: 1, msg: `invalid escape '\' followed by '\n' in string`},
		{name: "short unicode escape", in: `"\u12"`, off: 1, msg: `invalid \u escape: expected 4 hex digits`},
		{name: "non-hex unicode escape", in: `"\u12g4"`, off: 1, msg: `invalid \u escape: expected 4 hex digits`},
		{name: "lone high surrogate", in: `"a\ud800"`, off: 2, msg: `invalid UTF-16 surrogate pair in \u escape`},
		{name: "high then not low", in: `"\ud800\u0041"`, off: 1, msg: `invalid UTF-16 surrogate pair in \u escape`},
		{name: "high then bad escape", in: `"\ud800\uZZZZ"`, off: 7, msg: `invalid \u escape: expected 4 hex digits`},
		{name: "lone low surrogate", in: `"\udc00"`, off: 1, msg: `invalid UTF-16 surrogate pair in \u escape`},
		{name: "invalid UTF-8", in: "\"ab\xff\"", off: 3, msg: "string is not valid UTF-8"},
		{name: "UTF-8 surrogate", in: "\"\xed\xa0\x80\"", off: 1, msg: "string is not valid UTF-8"},
		{name: "invalid UTF-8 in key", in: "{\"\xc3\":1}", off: 2, msg: "string is not valid UTF-8"},
		{name: "invalid UTF-8 outside string", in: "\xff", off: 0, msg: "unexpected byte 0xff (not UTF-8), expected a JSON value"},
		{name: "BOM", in: "\ufeff{}", off: 0, msg: "unexpected character '\ufeff', expected a JSON value"},
		{name: "vertical tab space", in: "\v1", off: 0, msg: `unexpected character '\v', expected a JSON value`},
		{name: "non-breaking space", in: "1\u00a0", off: 1, msg: "unexpected character '\u00a0' after the end of the JSON value"},
		{name: "too deep", in: strings.Repeat("[", 65) + strings.Repeat("]", 65), off: 64, msg: "JSON nested too deeply"},
		{name: "depth option", in: `{"a":{"b":[]}}`, opts: Options{MaxDepth: 2}, off: 10, msg: "JSON nested too deeply"},
		{name: "duplicate key", in: `{"a":1,"b":2,"a":3}`, opts: Options{RejectDuplicateKeys: true}, off: 13, msg: `duplicate key "a"`},
		{name: "duplicate key escaped", in: `{"a":1,"\u0061":[}`, opts: Options{RejectDuplicateKeys: true}, off: 7, msg: `duplicate key "a"`},
		{name: "duplicate key nested", in: `{"a":{"x":1,"x":1}}`, opts: Options{RejectDuplicateKeys: true}, off: 12, msg: `duplicate key "x"`},
		{name: "duplicate key among many", in: manyKeys(40, "k7"), opts: Options{RejectDuplicateKeys: true}, off: strings.LastIndex(manyKeys(40, "k7"), `"k7"`), msg: `duplicate key "k7"`},
		{name: "duplicate key at the index threshold", in: manyKeys(15, "k0"), opts: Options{RejectDuplicateKeys: true}, off: strings.LastIndex(manyKeys(15, "k0"), `"k0"`), msg: `duplicate key "k0"`},
		{name: "lenient still checks escapes", in: `"\q"`, opts: Options{AllowInvalidUTF8: true}, off: 1, msg: `invalid escape '\q' in string`},
		{name: "lenient still checks control characters", in: "\"\x01\"", opts: Options{AllowInvalidUTF8: true}, off: 1, msg: `control character '\x01' in string; escape it`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.opts.ParseString(tc.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (value %s), want a *SyntaxError", err, v.Raw())
			}
			if se.Offset != tc.off || se.Msg != tc.msg {
				t.Fatalf("got offset %d %q, want offset %d %q", se.Offset, se.Msg, tc.off, tc.msg)
			}
			if v.Exists() {
				t.Fatal("a failed parse returned a value")
			}
			if want := "jsonv: " + tc.msg + " at offset "; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Error() = %q", err.Error())
			}
			if _, err := tc.opts.Parse([]byte(tc.in)); err == nil || err.Error() != se.Error() {
				t.Fatalf("Parse([]byte) = %v, ParseString = %v", err, se)
			}
		})
	}
}

// manyKeys returns an object with n distinct keys k0..k(n-1) followed by a repeat of dup.
func manyKeys(n int, dup string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		b.WriteString(`"k` + string(rune('0'+i%10)) + strings.Repeat("x", i/10) + `":0,`)
	}
	b.WriteString(`"` + dup + `":1}`)
	return b.String()
}

func TestParse_Valid(t *testing.T) {
	for _, in := range []string{
		`0`, `-0`, `-0.0e-0`, `1E+2`, `123456789012345678901234567890`, `true`, `false`, `null`, `""`,
		` {} `, "\t[]\r\n", `[[[]]]`, `{"":""}`, `"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`, "\"\u2028é😀\x7f\"",
		`{"a":[1,{"b":null}],"c":"d"}`, `{"a":1,"a":2}`,
		strings.Repeat("[", 64) + strings.Repeat("]", 64),
	} {
		v, err := ParseString(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if v.Raw() != strings.Trim(in, " \t\r\n") || v.Offset() != len(in)-len(strings.TrimLeft(in, " \t\r\n")) {
			t.Errorf("%q: Raw %q Offset %d", in, v.Raw(), v.Offset())
		}
		if !json.Valid([]byte(in)) {
			t.Errorf("%q: encoding/json disagrees", in)
		}
	}
}

func TestValue_Walk(t *testing.T) {
	in := []byte(`{"name": "dev\u00e9", "n": 3.0, "tags": ["a", {"x": [ ]}, -1.5e3],
	  "ok": true, "no": false, "nil": null, "name": "second", "e\"sc": 1}`)
	v, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0] = 'X' // the Value does not alias the input
	if v.Kind() != Object || v.Len() != 8 || v.Raw()[0] != '{' {
		t.Fatalf("%v %d", v.Kind(), v.Len())
	}
	name, ok := v.Get("name")
	if !ok || name.Str() != "devé" || name.Raw() != `"dev\u00e9"` || name.Offset() != 9 {
		t.Fatalf("name %q %q %d", name.Str(), name.Raw(), name.Offset())
	}
	if n, _ := v.Get("n"); n.Kind() != Number || n.Raw() != "3.0" {
		t.Fatalf("n %v %q", n.Kind(), n.Raw())
	} else if i, ok := n.Int(); !ok || i != 3 {
		t.Fatalf("n.Int() = %d, %v", i, ok)
	}
	tags, _ := v.Get("tags")
	el := tags.Elems()
	if len(el) != 3 || tags.Len() != 3 || el[0].Str() != "a" || el[1].Kind() != Object || el[1].Raw() != `{"x": [ ]}` || el[2].Raw() != "-1.5e3" {
		t.Fatalf("tags %v", el)
	}
	if x, ok := el[1].Get("x"); !ok || x.Kind() != Array || x.Len() != 0 || x.Elems() == nil || len(x.Elems()) != 0 {
		t.Fatal("x")
	}
	if i, ok := el[2].Int(); !ok || i != -1500 {
		t.Fatalf("-1.5e3 → %d %v", i, ok)
	}
	if b, _ := v.Get("ok"); !b.Bool() || b.Kind() != Bool {
		t.Fatal("ok")
	}
	if b, _ := v.Get("no"); b.Bool() || b.Kind() != Bool {
		t.Fatal("no")
	}
	if b, ok := v.Get("nil"); !ok || !b.Exists() || b.Kind() != Null || b.Bool() || b.Str() != "" {
		t.Fatal("nil")
	}
	if b, ok := v.Get(`e"sc`); !ok || b.Raw() != "1" {
		t.Fatal("escaped key")
	}
	missing, ok := v.Get("nope")
	if ok || missing.Exists() || missing.Kind() != Invalid || missing.Raw() != "" || missing.Len() != 0 || missing.Members() != nil || missing.Elems() != nil {
		t.Fatal("missing")
	}
	if _, ok := name.Get("x"); ok {
		t.Fatal("Get on a string")
	}
	var keys []string
	for _, m := range v.Members() {
		keys = append(keys, m.Key)
		if !strings.HasPrefix(string(in[m.KeyOffset+1:]), strings.Split(m.Key, `"`)[0]) {
			t.Errorf("key %q at offset %d", m.Key, m.KeyOffset)
		}
	}
	if got := strings.Join(keys, ","); got != `name,n,tags,ok,no,nil,name,e"sc` {
		t.Fatal(got)
	}
	if m := v.Members(); m[6].Value.Str() != "second" {
		t.Fatal("duplicate member")
	}
	if Kind(99).String() != "invalid" || Object.String() != "object" || Bool.String() != "boolean" {
		t.Fatal("Kind.String")
	}
}

func TestValue_Str(t *testing.T) {
	tests := []struct {
		in   string
		opts Options
		want string
	}{
		{in: `"plain"`, want: "plain"},
		{in: `"\"\\\/\b\f\n\r\t"`, want: "\"\\/\b\f\n\r\t"},
		{in: `"\u0041\u00e9\u20ac\uffff"`, want: "Aé€\uffff"},
		{in: `"\uD83D\uDE00x\ud83d\ude00"`, want: "😀x😀"},
		{in: `"a\u0000b"`, want: "a\x00b"},
		{in: "\"\xff\xc3(\"", opts: Options{AllowInvalidUTF8: true}, want: "\xff\xc3("},
		{in: "\"\xff\\n\"", opts: Options{AllowInvalidUTF8: true}, want: "\xff\n"},
		{in: `"\ud800"`, opts: Options{AllowInvalidUTF8: true}, want: "\ufffd"},
		{in: `"\ud800\u0041"`, opts: Options{AllowInvalidUTF8: true}, want: "\ufffdA"},
		{in: `"\udc00\ud800\udc00"`, opts: Options{AllowInvalidUTF8: true}, want: "\ufffd\U00010000"},
		{in: `"\ud800\ud800"`, opts: Options{AllowInvalidUTF8: true}, want: "\ufffd\ufffd"},
	}
	for _, tc := range tests {
		v, err := tc.opts.ParseString(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := v.Str(); got != tc.want {
			t.Errorf("%q: Str() = %q, want %q", tc.in, got, tc.want)
		}
		if v.Raw() != tc.in {
			t.Errorf("%q: Raw() = %q", tc.in, v.Raw())
		}
		// encoding/json agrees wherever the input is valid UTF-8.
		var s string
		if utf8.ValidString(tc.in) && (json.Unmarshal([]byte(tc.in), &s) != nil || s != tc.want) {
			t.Errorf("%q: encoding/json gives %q", tc.in, s)
		}
	}
}

func TestValue_Int(t *testing.T) {
	parse := func(in string) Value {
		t.Helper()
		v, err := ParseString(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		return v
	}
	// Integral values within int64.
	for _, tc := range []struct {
		in string
		n  int64
	}{
		{"0", 0},
		{"-0", 0},
		{"0.000", 0},
		{"0e-999999999999", 0},
		{"300", 300},
		{"300.0", 300},
		{"3e2", 300},
		{"3E+2", 300},
		{"3000e-1", 300},
		{"0.3e3", 300},
		{"10.5e1", 105},
		{"-1.5e3", -1500},
		{"9223372036854775807", 1<<63 - 1},
		{"-9223372036854775808", -1 << 63},
		{"9223372036854775807.000", 1<<63 - 1},
		{"922337203685477580.7e1", 1<<63 - 1},
		{"1e18", 1e18},
	} {
		v := parse(tc.in)
		if n, ok := v.Int(); n != tc.n || !ok || !v.IsIntegral() {
			t.Errorf("%s: Int() = %d, %v; IsIntegral() = %v; want %d, true, true", tc.in, n, ok, v.IsIntegral(), tc.n)
		}
	}
	// Integral, but outside int64.
	for _, in := range []string{
		"9223372036854775808", "-9223372036854775809", "99999999999999999999", "1e19", "1e300", "1e400",
		"1e99999999999999999999",
	} {
		v := parse(in)
		if n, ok := v.Int(); n != 0 || ok || !v.IsIntegral() {
			t.Errorf("%s: Int() = %d, %v; IsIntegral() = %v; want 0, false, true", in, n, ok, v.IsIntegral())
		}
	}
	// Not integral.
	for _, in := range []string{
		"300.5", "300.0000000000000001", "1e-1", "100e-3", "-0.5",
	} {
		v := parse(in)
		if n, ok := v.Int(); n != 0 || ok || v.IsIntegral() {
			t.Errorf("%s: Int() = %d, %v; IsIntegral() = %v; want 0, false, false", in, n, ok, v.IsIntegral())
		}
	}
	// Not a number: Parse refuses it; Int on the first value only.
	if _, err := ParseString("00"); err == nil {
		t.Error("00 parsed")
	}
	for _, in := range []string{`"1"`, `true`, `null`, `[1]`} {
		v, _ := ParseString(in)
		if n, ok := v.Int(); ok || n != 0 || v.IsIntegral() {
			t.Errorf("%s: Int() = %d, %v", in, n, ok)
		}
	}
	if n, ok := (Value{}).Int(); ok || n != 0 {
		t.Error("zero Value")
	}
}

func TestOptions_Duplicates(t *testing.T) {
	in := manyKeys(40, "k5x")
	if _, err := (Options{RejectDuplicateKeys: true}).ParseString(strings.Replace(in, `"k5x":1`, `"new":1`, 1)); err != nil {
		t.Fatal(err)
	}
	v, err := ParseString(in) // kept by default
	if err != nil || v.Len() != 41 {
		t.Fatal(err)
	}
	if first, _ := v.Get("k5x"); first.Raw() != "0" {
		t.Fatal("Get returns the first duplicate")
	}
	// Keys of different objects do not clash.
	if _, err := (Options{RejectDuplicateKeys: true}).ParseString(`{"a":{"a":1},"b":[{"a":1},{"a":2}]}`); err != nil {
		t.Fatal(err)
	}
}

// FuzzParse checks Parse against encoding/json: the same texts are valid (encoding/json does not
// check UTF-8, so the comparison uses AllowInvalidUTF8), strict parsing accepts a subset, and
// the decoded values agree.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2.5e3,-0,true,false,null,"x\u00e9\ud83d\ude00"],"b":{}}`, `[]`, `""`, `-1.0E+2`,
		`{"a":1,}`, `[01]`, "\"\xff\"", `"\ud800x"`, `"\ud800\u0041"`, `{"a" :1 , "a":2}`, `1 2`,
	} {
		f.Add([]byte(s))
	}
	lenient := Options{AllowInvalidUTF8: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := lenient.Parse(b)
		var se *SyntaxError
		if err != nil && errors.As(err, &se) && se.Msg == "JSON nested too deeply" {
			return
		}
		if got, want := err == nil, json.Valid(b); got != want {
			t.Fatalf("%q: jsonv valid %v (%v), encoding/json valid %v", b, got, err, want)
		}
		if err != nil {
			if se == nil || se.Offset < 0 || se.Offset > len(b) || strings.Contains(se.Msg, "\n") {
				t.Fatalf("%q: bad error %#v", b, err)
			}
			return
		}
		if v.Raw() != string(bytes.Trim(b, " \t\r\n")) {
			t.Fatalf("%q: Raw %q", b, v.Raw())
		}
		_, derr := Options{AllowInvalidUTF8: true, RejectDuplicateKeys: true}.Parse(b)
		if (derr == nil) != !hasDuplicates(v) {
			t.Fatalf("%q: RejectDuplicateKeys gives %v", b, derr)
		}
		strict, serr := Parse(b)
		if serr == nil && !utf8.Valid(b) {
			t.Fatalf("%q: strict parse accepted invalid UTF-8", b)
		}
		if serr != nil && utf8.Valid(b) && !bytes.Contains(b, []byte(`\u`)) && !bytes.Contains(b, []byte(`\U`)) {
			t.Fatalf("%q: strict parse refused valid text: %v", b, serr)
		}
		if serr == nil && !reflect.DeepEqual(toAny(strict), toAny(v)) {
			t.Fatalf("%q: strict and lenient values differ", b)
		}
		if !utf8.Valid(b) {
			return // encoding/json replaces invalid bytes; we keep them
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var want any
		if err := d.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := toAny(v); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\njsonv         %#v\nencoding/json %#v", b, got, want)
		}
	})
}

// hasDuplicates reports whether an object in v has two members with the same key.
func hasDuplicates(v Value) bool {
	seen := map[string]bool{}
	for _, m := range v.Members() {
		if seen[m.Key] || hasDuplicates(m.Value) {
			return true
		}
		seen[m.Key] = true
	}
	for _, e := range v.Elems() {
		if hasDuplicates(e) {
			return true
		}
	}
	return false
}

// toAny converts v to encoding/json's representation (with UseNumber): later duplicate keys win.
func toAny(v Value) any {
	switch v.Kind() {
	case Null:
		return nil
	case Bool:
		return v.Bool()
	case Number:
		return json.Number(v.Raw())
	case String:
		return v.Str()
	case Array:
		out := []any{}
		for _, e := range v.Elems() {
			out = append(out, toAny(e))
		}
		return out
	case Object:
		out := map[string]any{}
		for _, m := range v.Members() {
			out[m.Key] = toAny(m.Value)
		}
		return out
	}
	panic("invalid")
}

func BenchmarkParse(b *testing.B) {
	body := []byte(`{"isAuthenticated":true,"principalId":"Device42","disconnectAfterInSeconds":86400,"refreshAfterInSeconds":300,"policyDocuments":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/a/\u0062"}]}],"context":{"tenant":"acme"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		v, err := Parse(body)
		if err != nil || v.Len() != 6 {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse_EncodingJSON is the naive baseline: encoding/json into an empty interface.
func BenchmarkParse_EncodingJSON(b *testing.B) {
	body := []byte(`{"isAuthenticated":true,"principalId":"Device42","disconnectAfterInSeconds":86400,"refreshAfterInSeconds":300,"policyDocuments":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/a/\u0062"}]}],"context":{"tenant":"acme"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValue_Range(t *testing.T) {
	v, err := ParseString(`{"a":[1,[2],{"b":3}],"c\u0064":true,"e":null}`)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for m := range v.RangeMembers {
		keys = append(keys, m.Key+"@"+strconv.Itoa(m.KeyOffset)+"="+m.Value.Raw())
		if m.Key == "cd" {
			break
		}
	}
	if got := strings.Join(keys, " "); got != `a@1=[1,[2],{"b":3}] cd@21=true` {
		t.Fatal(got)
	}
	a, _ := v.Get("a")
	var elems []string
	for i, e := range a.RangeElems {
		elems = append(elems, strconv.Itoa(i)+"="+e.Raw())
	}
	if got := strings.Join(elems, " "); got != `0=1 1=[2] 2={"b":3}` {
		t.Fatal(got)
	}
	for range a.RangeMembers {
		t.Fatal("members of an array")
	}
	for range v.RangeElems {
		t.Fatal("elements of an object")
	}
	if n := testing.AllocsPerRun(100, func() {
		for m := range v.RangeMembers {
			for range m.Value.RangeElems {
			}
		}
	}); n > 1 { // the escaped key "c\u0064" is decoded
		t.Fatalf("%v allocations", n)
	}
}
