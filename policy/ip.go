package policy

// Hand-written IPv4/IPv6 parsing for IpAddress and NotIpAddress, allocation free so that it can run
// on the evaluation path. IPv4 addresses are held as IPv4-mapped IPv6 (::ffff:a.b.c.d).

type ipNet struct {
	addr [16]byte
	bits int // prefix length in the 128-bit space

	// For IPv4 blocks, the same as a 32-bit address and mask, for the fast path.
	v4            bool
	v4net, v4mask uint32
}

// containsV4 reports whether the IPv4 address a (a.b.c.d as a<<24|b<<16|c<<8|d) is in the block.
func (n *ipNet) containsV4(a uint32) bool {
	if n.v4 {
		return a&n.v4mask == n.v4net
	}
	m := [16]byte{10: 0xff, 11: 0xff, 12: byte(a >> 24), 13: byte(a >> 16), 14: byte(a >> 8), 15: byte(a)}
	return n.contains(&m)
}

func (n *ipNet) contains(a *[16]byte) bool {
	full := n.bits / 8
	for i := 0; i < full; i++ {
		if n.addr[i] != a[i] {
			return false
		}
	}
	if rem := n.bits % 8; rem != 0 {
		mask := byte(0xff << (8 - rem))
		if n.addr[full]&mask != a[full]&mask {
			return false
		}
	}
	return true
}

// parseCIDR reads "a.b.c.d/n", "x::y/n" or a bare address (a /32 or /128).
func parseCIDR(s string) (ipNet, bool) {
	addrPart, bitsPart, hasBits := s, "", false
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			addrPart, bitsPart, hasBits = s[:i], s[i+1:], true
			break
		}
	}
	var n ipNet
	var v4, ok bool
	n.addr, v4, ok = parseIP(addrPart)
	if !ok {
		return n, false
	}
	max := 128
	if v4 {
		max = 32
	}
	bits := max
	if hasBits {
		if len(bitsPart) == 0 || len(bitsPart) > 3 {
			return n, false
		}
		bits = 0
		for i := 0; i < len(bitsPart); i++ {
			c := bitsPart[i]
			if c < '0' || c > '9' || (i == 0 && c == '0' && len(bitsPart) > 1) {
				return n, false
			}
			bits = bits*10 + int(c-'0')
		}
		if bits > max {
			return n, false
		}
	}
	if v4 {
		n.v4 = true
		if bits > 0 {
			n.v4mask = ^uint32(0) << (32 - bits)
		}
		n.v4net = (uint32(n.addr[12])<<24 | uint32(n.addr[13])<<16 | uint32(n.addr[14])<<8 | uint32(n.addr[15])) & n.v4mask
		bits += 96
	}
	n.bits = bits
	return n, true
}

func parseIP(s string) (a [16]byte, v4 bool, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			a, ok = parseIPv6(s)
			return a, false, ok
		}
	}
	a[10], a[11] = 0xff, 0xff
	ok = parseIPv4(s, a[12:16])
	return a, true, ok
}

// parseV4 reads a dotted-quad IPv4 address into a 32-bit number.
func parseV4(s string) (uint32, bool) {
	var a uint32
	part, digits, val := 0, 0, uint32(0)
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 {
				return 0, false
			}
			a = a<<8 | val
			part++
			digits, val = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || (digits == 1 && val == 0) { // no leading zeros
			return 0, false
		}
		val = val*10 + uint32(c-'0')
		digits++
		if val > 255 {
			return 0, false
		}
	}
	return a, part == 4
}

func parseIPv4(s string, out []byte) bool {
	part, digits, val := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 {
				return false
			}
			out[part] = byte(val)
			part++
			digits, val = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || (digits == 1 && val == 0) { // no leading zeros
			return false
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return false
		}
	}
	return part == 4
}

func parseIPv6(s string) (a [16]byte, ok bool) {
	ellipsis := -1 // index in a where "::" was
	i, n := 0, 0
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		i = 2
		if i == len(s) {
			return a, true
		}
	}
	for n < 16 {
		// A trailing dotted IPv4 part.
		if n <= 12 {
			dot := false
			for j := i; j < len(s) && s[j] != ':'; j++ {
				if s[j] == '.' {
					dot = true
					break
				}
			}
			if dot {
				if !parseIPv4(s[i:], a[n:n+4]) {
					return a, false
				}
				n += 4
				i = len(s)
				break
			}
		}
		val, digits := 0, 0
		for i < len(s) && digits < 5 {
			c := s[i]
			var d int
			switch {
			case c >= '0' && c <= '9':
				d = int(c - '0')
			case c >= 'a' && c <= 'f':
				d = int(c-'a') + 10
			case c >= 'A' && c <= 'F':
				d = int(c-'A') + 10
			default:
				goto done
			}
			val = val<<4 | d
			digits++
			i++
		}
	done:
		if digits == 0 || digits > 4 {
			return a, false
		}
		a[n], a[n+1] = byte(val>>8), byte(val)
		n += 2
		if i == len(s) {
			break
		}
		if s[i] != ':' || i+1 == len(s) {
			return a, false
		}
		i++
		if s[i] == ':' {
			if ellipsis >= 0 {
				return a, false
			}
			ellipsis = n
			i++
			if i == len(s) {
				break
			}
		}
	}
	if i != len(s) {
		return a, false
	}
	if n < 16 {
		if ellipsis < 0 {
			return a, false
		}
		shift := 16 - n
		for j := n - 1; j >= ellipsis; j-- {
			a[j+shift] = a[j]
		}
		for j := ellipsis; j < ellipsis+shift; j++ {
			a[j] = 0
		}
	} else if ellipsis >= 0 {
		return a, false // "::" must stand for at least one group
	}
	return a, true
}
