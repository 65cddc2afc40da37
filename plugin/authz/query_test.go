//go:build !wasm

package authz

import (
	"testing"

	"github.com/iotauthz/iotauthz/plugin/credentials"
)

// FuzzReadQuery: the one-pass reading of an HTTPS request's query agrees with credentials.Query
// (first value wins, escapes decoded, empty keys ignored) for the four parameters it reads, and
// reports "others" exactly when another parameter is present.
func FuzzReadQuery(f *testing.F) {
	for _, s := range []string{
		"", "qos=1", "qos=1&retain=true", "qos=0&qos=1", "x-amz-customauthorizer-name=a&tok=T",
		"x-amz-customauthorizer-signature=ab%2Bc%3D&x%2Damz-customauthorizer-name=n", "%71os=2", "=x&&qos", "a=1&qos=1",
	} {
		f.Add(s)
	}
	names := [qKeys]string{qQos: "qos", qRetain: "retain", qName: keyAuthorizerName, qSig: keySignature}
	f.Fuzz(func(t *testing.T, raw string) {
		rq := readQuery(raw)
		q := credentials.ParseQuery(raw)
		for i, name := range names {
			got, gok := rq.get(i)
			want, wok := q.Get(name)
			if got != want || gok != wok {
				t.Fatalf("%s: readQuery %q, %v; Query.Get %q, %v", name, got, gok, want, wok)
			}
		}
		others := false
		for i := 0; i < q.Len(); i++ {
			if k, _ := q.At(i); readQueryKey(k) < 0 {
				others = true
			}
		}
		if rq.others != others {
			t.Fatalf("others = %v, want %v", rq.others, others)
		}
	})
}
