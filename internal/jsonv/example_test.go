package jsonv_test

import (
	"fmt"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

func Example() {
	v, err := jsonv.Parse([]byte(`{"name": "dev\u00e9", "n": 3.0, "doc": {"a": [1, 2]}, "n": 4}`))
	if err != nil {
		panic(err)
	}
	for _, m := range v.Members() {
		switch m.Value.Kind() {
		case jsonv.String:
			fmt.Printf("%s: string %q\n", m.Key, m.Value.Str())
		case jsonv.Number:
			n, ok := m.Value.Int()
			fmt.Printf("%s: number %s, Int() = %d %v\n", m.Key, m.Value.Raw(), n, ok)
		default:
			fmt.Printf("%s: %s %s at offset %d\n", m.Key, m.Value.Kind(), m.Value.Raw(), m.Value.Offset())
		}
	}
	_, err = jsonv.Options{RejectDuplicateKeys: true}.ParseString(`{"a": 1, "a": 2,}`)
	fmt.Println(err)
	_, err = jsonv.ParseString(`{"a": [1, 2,]}`)
	fmt.Println(err)
	// Output:
	// name: string "devé"
	// n: number 3.0, Int() = 3 true
	// doc: object {"a": [1, 2]} at offset 39
	// n: number 4, Int() = 4 true
	// jsonv: duplicate key "a" at offset 9
	// jsonv: unexpected character ']', expected a JSON value at offset 12
}
