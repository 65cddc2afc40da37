package token

// Montgomery arithmetic on 32-bit limbs, R = 2^(32·len(n)): multiply or square into a
// double-length product, then reduce. Each uint32×uint32→uint64 product is one i64.mul in
// WebAssembly, which is why the limbs are 32 bits wide.

// mulAddRow sets z += x·y and returns the carry out; len(z) must equal len(x).
// The body is unrolled by limbBlock: Go's WebAssembly back end pays a br_table dispatch for each
// loop iteration.
func mulAddRow(z, x []uint32, y uint32) uint64 {
	yw := uint64(y)
	var c uint64
	x = x[:len(z)]
	j := 0
	for ; j+limbBlock <= len(z); j += limbBlock {
		zz := (*[limbBlock]uint32)(z[j : j+limbBlock])
		xx := (*[limbBlock]uint32)(x[j : j+limbBlock])
		c += uint64(zz[0]) + uint64(xx[0])*yw
		zz[0] = uint32(c)
		c >>= 32
		c += uint64(zz[1]) + uint64(xx[1])*yw
		zz[1] = uint32(c)
		c >>= 32
		c += uint64(zz[2]) + uint64(xx[2])*yw
		zz[2] = uint32(c)
		c >>= 32
		c += uint64(zz[3]) + uint64(xx[3])*yw
		zz[3] = uint32(c)
		c >>= 32
		c += uint64(zz[4]) + uint64(xx[4])*yw
		zz[4] = uint32(c)
		c >>= 32
		c += uint64(zz[5]) + uint64(xx[5])*yw
		zz[5] = uint32(c)
		c >>= 32
		c += uint64(zz[6]) + uint64(xx[6])*yw
		zz[6] = uint32(c)
		c >>= 32
		c += uint64(zz[7]) + uint64(xx[7])*yw
		zz[7] = uint32(c)
		c >>= 32
	}
	for ; j < len(z); j++ {
		c += uint64(z[j]) + uint64(x[j])*yw
		z[j] = uint32(c)
		c >>= 32
	}
	return c
}

// montSqr sets z = x·x·R⁻¹ mod n: the square with each cross product computed once, then a
// Montgomery reduction. About 1.5·s² multiplies instead of montMulSep's 2·s². t is scratch of at
// least 2·len(n)+1 limbs; z must not alias x.
func montSqr(z, x, n []uint32, n0inv uint32, t []uint32) {
	s := len(n)
	x = x[:s]
	t = t[:2*s+1]
	for i := range t {
		t[i] = 0
	}
	// Cross products x[i]·x[j], i < j, at t[i+j].
	for i := 0; i < s-1; i++ {
		t[i+s] = uint32(mulAddRow(t[2*i+1:i+s], x[i+1:], x[i]))
	}
	// Double them and add the squares x[i]² at t[2i].
	var c uint64
	var prevTop uint32
	for i := 0; i < s; i++ {
		lo, hi := t[2*i], t[2*i+1]
		sq := uint64(x[i]) * uint64(x[i])
		v := uint64(lo<<1 | prevTop) // with the bit shifted in from below
		prevTop = lo >> 31
		v += uint64(uint32(sq)) + c
		t[2*i] = uint32(v)
		c = v >> 32
		v = uint64(hi<<1 | prevTop)
		prevTop = hi >> 31
		v += sq>>32 + c
		t[2*i+1] = uint32(v)
		c = v >> 32
	}
	redc(z, t, n, n0inv)
}

// montMulSep sets z = x·y·R⁻¹ mod n: the product two rows at a time, then a Montgomery
// reduction. t is scratch of at least 2·len(n)+1 limbs; z may alias neither x nor y.
func montMulSep(z, x, y, n []uint32, n0inv uint32, t []uint32) {
	s := len(n)
	x = x[:s]
	t = t[:2*s+1]
	for i := range t {
		t[i] = 0
	}
	y = y[:s]
	for i := 0; i+1 < s; i += 2 {
		t[i+s+1] = uint32(mulAdd2(t[i:i+s+1], x, y[i], y[i+1]))
	}
	if s%2 == 1 {
		t[2*s-1] = uint32(mulAddRow(t[s-1:2*s-1], x, y[s-1]))
	}
	redc(z, t, n, n0inv)
}

// redc sets z = t·R⁻¹ mod n for t < n·R held in 2·len(n)+1 limbs (t is destroyed).
func redc(z, t, n []uint32, n0inv uint32) {
	s := len(n) // even: a multiple of limbBlock
	t = t[:2*s+1]
	n0, n1 := uint64(n[0]), uint64(n[1])
	var top uint64 // overflow into t[i+s] from the previous pair of rows
	for i := 0; i < s; i += 2 {
		// m0 cancels t[i]; m1 cancels t[i+1] as row m0 leaves it.
		m0 := t[i] * n0inv
		c := (uint64(t[i]) + uint64(m0)*n0) >> 32
		m1 := uint32(uint64(t[i+1])+uint64(m0)*n1+c) * n0inv
		v := uint64(t[i+s]) + top
		t[i+s] = uint32(v)
		top = v >> 32
		v = uint64(t[i+s+1]) + mulAdd2(t[i:i+s+1], n, m0, m1) + top
		t[i+s+1] = uint32(v)
		top = v >> 32
	}
	r := t[s : 2*s]
	if top != 0 || t[2*s] != 0 || !less(r, n) {
		subInto(z, r, n)
	} else {
		copy(z, r)
	}
}

// mulAdd2 adds x·y0 + x·y1·2³² to z, where len(z) = len(x)+1, and returns the carry out of the
// top limb. Two rows per pass halve the loads and stores of z per product compared with two
// mulAddRow calls; loads and stores are what a wasm compiler bounds-checks.
func mulAdd2(z, x []uint32, y0, y1 uint32) uint64 {
	s := len(x)
	z = z[:s+1]
	w0, w1 := uint64(y0), uint64(y1)
	var c0, c1 uint64
	var prev uint32
	j := 0
	for ; j+limbBlock <= s; j += limbBlock {
		zz := (*[limbBlock]uint32)(z[j : j+limbBlock])
		xx := (*[limbBlock]uint32)(x[j : j+limbBlock])
		// Each x limb is loaded once and used by both rows.
		p := uint64(prev)
		x0 := uint64(xx[0])
		c0 += uint64(zz[0]) + x0*w0
		c1 += uint64(uint32(c0)) + p*w1
		c0 >>= 32
		zz[0] = uint32(c1)
		c1 >>= 32
		x1 := uint64(xx[1])
		c0 += uint64(zz[1]) + x1*w0
		c1 += uint64(uint32(c0)) + x0*w1
		c0 >>= 32
		zz[1] = uint32(c1)
		c1 >>= 32
		x2 := uint64(xx[2])
		c0 += uint64(zz[2]) + x2*w0
		c1 += uint64(uint32(c0)) + x1*w1
		c0 >>= 32
		zz[2] = uint32(c1)
		c1 >>= 32
		x3 := uint64(xx[3])
		c0 += uint64(zz[3]) + x3*w0
		c1 += uint64(uint32(c0)) + x2*w1
		c0 >>= 32
		zz[3] = uint32(c1)
		c1 >>= 32
		x4 := uint64(xx[4])
		c0 += uint64(zz[4]) + x4*w0
		c1 += uint64(uint32(c0)) + x3*w1
		c0 >>= 32
		zz[4] = uint32(c1)
		c1 >>= 32
		x5 := uint64(xx[5])
		c0 += uint64(zz[5]) + x5*w0
		c1 += uint64(uint32(c0)) + x4*w1
		c0 >>= 32
		zz[5] = uint32(c1)
		c1 >>= 32
		x6 := uint64(xx[6])
		c0 += uint64(zz[6]) + x6*w0
		c1 += uint64(uint32(c0)) + x5*w1
		c0 >>= 32
		zz[6] = uint32(c1)
		c1 >>= 32
		x7 := uint64(xx[7])
		c0 += uint64(zz[7]) + x7*w0
		c1 += uint64(uint32(c0)) + x6*w1
		c0 >>= 32
		zz[7] = uint32(c1)
		c1 >>= 32
		prev = uint32(x7)
	}
	for ; j < s; j++ {
		c0 += uint64(z[j]) + uint64(x[j])*w0
		c1 += uint64(uint32(c0)) + uint64(prev)*w1
		c0 >>= 32
		z[j] = uint32(c1)
		c1 >>= 32
		prev = x[j]
	}
	c0 += uint64(z[s])
	c1 += uint64(uint32(c0)) + uint64(prev)*w1
	c0 >>= 32
	z[s] = uint32(c1)
	c1 >>= 32
	return c0 + c1
}
