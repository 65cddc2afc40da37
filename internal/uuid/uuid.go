// Package uuid writes random (version 4) UUIDs for the plugin's connection and trace ids and
// for the CLI's test events, without crypto/rand: the caller supplies the random bytes, because
// inside the .wasm they come from WASI random_get through math/rand/v2.
package uuid

// New returns a random (version 4) UUID in its canonical lowercase form,
// "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx" with N one of 8, 9, a, b. rand fills the 16 bytes.
//
//	New(func(b []byte) { for i := range b { b[i] = 0xff } }) → "ffffffff-ffff-4fff-bfff-ffffffffffff"
func New(rand func([]byte)) string {
	var b [16]byte
	rand(b[:])
	return Format(b)
}

// Format is New with the 16 random bytes given: b made a version 4 UUID, in its canonical form.
// It allocates only the string (New's rand may keep its buffer, so New's bytes live on the heap).
func Format(b [16]byte) string {
	const hexDigits = "0123456789abcdef"
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j] = hexDigits[c>>4]
		out[j+1] = hexDigits[c&0xf]
		j += 2
	}
	return string(out[:])
}
