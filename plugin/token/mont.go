package token

// Montgomery arithmetic on 32-bit limbs, R = 2^(32·len(n)): multiply or square into a
// double-length product, then reduce. Each uint32×uint32→uint64 product is one i64.mul in
// WebAssembly, which is why the limbs are 32 bits wide.

// mulAdd4 adds x·(y[0] + y[1]·2³² + y[2]·2⁶⁴ + y[3]·2⁹⁶) to z, where len(z) = len(x)+3, and
// returns the carry into the limb after z. Four rows per pass: each column loads z[j] and x[j]
// once and stores z[j] once for four products, a quarter of the memory traffic of one row at a
// time (wazero bounds-checks every access). The body is unrolled by limbBlock: Go's WebAssembly
// back end pays a br_table dispatch for each loop iteration.
func mulAdd4(z, x []uint32, y *[4]uint32) uint64 {
	s := len(x)
	z = z[:s+3]
	w0, w1, w2, w3 := uint64(y[0]), uint64(y[1]), uint64(y[2]), uint64(y[3])
	var c0, c1, c2, c3 uint64
	var q1, q2, q3 uint64 // x[j-1], x[j-2], x[j-3]
	j := 0
	for ; j+limbBlock <= s; j += limbBlock {
		zz := (*[limbBlock]uint32)(z[j : j+limbBlock])
		xx := (*[limbBlock]uint32)(x[j : j+limbBlock])
		x0 := uint64(xx[0])
		c0 += uint64(zz[0]) + x0*w0
		c1 += uint64(uint32(c0)) + q1*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + q2*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + q3*w3
		c2 >>= 32
		zz[0] = uint32(c3)
		c3 >>= 32
		x1 := uint64(xx[1])
		c0 += uint64(zz[1]) + x1*w0
		c1 += uint64(uint32(c0)) + x0*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + q1*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + q2*w3
		c2 >>= 32
		zz[1] = uint32(c3)
		c3 >>= 32
		x2 := uint64(xx[2])
		c0 += uint64(zz[2]) + x2*w0
		c1 += uint64(uint32(c0)) + x1*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + x0*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + q1*w3
		c2 >>= 32
		zz[2] = uint32(c3)
		c3 >>= 32
		x3 := uint64(xx[3])
		c0 += uint64(zz[3]) + x3*w0
		c1 += uint64(uint32(c0)) + x2*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + x1*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + x0*w3
		c2 >>= 32
		zz[3] = uint32(c3)
		c3 >>= 32
		x4 := uint64(xx[4])
		c0 += uint64(zz[4]) + x4*w0
		c1 += uint64(uint32(c0)) + x3*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + x2*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + x1*w3
		c2 >>= 32
		zz[4] = uint32(c3)
		c3 >>= 32
		x5 := uint64(xx[5])
		c0 += uint64(zz[5]) + x5*w0
		c1 += uint64(uint32(c0)) + x4*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + x3*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + x2*w3
		c2 >>= 32
		zz[5] = uint32(c3)
		c3 >>= 32
		x6 := uint64(xx[6])
		c0 += uint64(zz[6]) + x6*w0
		c1 += uint64(uint32(c0)) + x5*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + x4*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + x3*w3
		c2 >>= 32
		zz[6] = uint32(c3)
		c3 >>= 32
		x7 := uint64(xx[7])
		c0 += uint64(zz[7]) + x7*w0
		c1 += uint64(uint32(c0)) + x6*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + x5*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + x4*w3
		c2 >>= 32
		zz[7] = uint32(c3)
		c3 >>= 32
		q1, q2, q3 = x7, x6, x5
	}
	for ; j < s+3; j++ {
		var xj uint64
		if j < s {
			xj = uint64(x[j])
		}
		c0 += uint64(z[j]) + xj*w0
		c1 += uint64(uint32(c0)) + q1*w1
		c0 >>= 32
		c2 += uint64(uint32(c1)) + q2*w2
		c1 >>= 32
		c3 += uint64(uint32(c2)) + q3*w3
		c2 >>= 32
		z[j] = uint32(c3)
		c3 >>= 32
		q1, q2, q3 = xj, q1, q2
	}
	return c0 + c1 + c2 + c3
}

// addAt adds c to t at limb p, propagating the carry.
func addAt(t []uint32, p int, c uint64) {
	for ; c != 0 && p < len(t); p++ {
		v := uint64(t[p]) + c
		t[p] = uint32(v)
		c = v >> 32
	}
}

// montMul4 sets z = x·y·R⁻¹ mod n with four-row passes (len(n) a multiple of 4). t is scratch
// of at least 2·len(n)+1 limbs; z may alias neither x nor y.
func montMul4(z, x, y, n []uint32, n0inv uint32, t []uint32) {
	s := len(n)
	x = x[:s]
	y = y[:s]
	t = t[:2*s+1]
	for i := range t {
		t[i] = 0
	}
	for i := 0; i < s; i += 4 {
		t[i+s+3] = uint32(mulAdd4(t[i:i+s+3], x, (*[4]uint32)(y[i:i+4])))
	}
	redc4(z, t, n, n0inv)
}

// redc4 sets z = t·R⁻¹ mod n for t < n·R in 2·len(n)+1 limbs (t is destroyed), four rows of
// the reduction per pass.
func redc4(z, t, n []uint32, n0inv uint32) {
	s := len(n)
	t = t[:2*s+1]
	n4 := (*[4]uint32)(n[:4])
	var m [4]uint32
	for i := 0; i < s; i += 4 {
		// The four multipliers: m[r] cancels limb i+r as rows 0..r-1 leave it.
		u := *(*[4]uint32)(t[i : i+4])
		for r := 0; r < 4; r++ {
			m[r] = u[r] * n0inv
			var c uint64
			for q := r; q < 4; q++ {
				v := uint64(u[q]) + uint64(m[r])*uint64(n4[q-r]) + c
				u[q] = uint32(v)
				c = v >> 32
			}
		}
		addAt(t, i+s+3, mulAdd4(t[i:i+s+3], n, &m))
	}
	r := t[s : 2*s]
	if t[2*s] != 0 || !less(r, n) {
		subInto(z, r, n)
	} else {
		copy(z, r)
	}
}

// montSqr4 sets z = x·x·R⁻¹ mod n: each cross product once, in four-row passes, then doubled
// with the squares added, then reduced by redc4 (len(n) a multiple of 4). t is scratch of at
// least 2·len(n)+1 limbs; z must not alias x.
func montSqr4(z, x, n []uint32, n0inv uint32, t []uint32) {
	s := len(n)
	x = x[:s]
	t = t[:2*s+1]
	for i := range t {
		t[i] = 0
	}
	for b := 0; b < s; b += 4 {
		// Rows b..b+3 against x[b+4:], then the six cross products inside the block.
		addAt(t, b+s+3, mulAdd4(t[2*b+4:b+s+3], x[b+4:], (*[4]uint32)(x[b:b+4])))
		xb := (*[4]uint32)(x[b : b+4])
		for r := 0; r < 3; r++ {
			for u := r + 1; u < 4; u++ {
				addAt(t, 2*b+r+u, uint64(xb[r])*uint64(xb[u]))
			}
		}
	}
	// Double the cross products and add the squares x[i]² at t[2i].
	var c uint64
	var prevTop uint32
	for i, xi := range x {
		lo, hi := t[2*i], t[2*i+1]
		sq := uint64(xi) * uint64(xi)
		v := uint64(lo<<1|prevTop) + uint64(uint32(sq)) + c
		prevTop = lo >> 31
		t[2*i] = uint32(v)
		c = v >> 32
		v = uint64(hi<<1|prevTop) + sq>>32 + c
		prevTop = hi >> 31
		t[2*i+1] = uint32(v)
		c = v >> 32
	}
	redc4(z, t, n, n0inv)
}
