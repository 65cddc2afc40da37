package authorizer

// NewUUID returns a random (version 4) UUID in its canonical lowercase form,
// "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx" with N one of 8, 9, a, b. rand fills the 16 bytes; the
// caller supplies it because the plugin has no crypto/rand (it draws from WASI random_get).
func NewUUID(rand func([]byte)) string {
	var b [16]byte
	rand(b[:])
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
