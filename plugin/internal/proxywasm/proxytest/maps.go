//go:build !wasm

package proxytest

// Header maps are [][2]string with lowercase keys, as Envoy stores them.

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// lowerKeys returns a copy of h with lowercase keys (nil for nil).
func lowerKeys(h [][2]string) [][2]string {
	if h == nil {
		return nil
	}
	out := make([][2]string, len(h))
	for i, kv := range h {
		out[i] = [2]string{lower(kv[0]), kv[1]}
	}
	return out
}

// lookup returns the first value of key (case-insensitive), as Envoy's get_header_map_value.
func lookup(h [][2]string, key string) (string, bool) {
	for i := range h {
		if equalFold(h[i][0], key) {
			return h[i][1], true
		}
	}
	return "", false
}

func removeKey(h [][2]string, key string) [][2]string {
	out := h[:0]
	for _, kv := range h {
		if !equalFold(kv[0], key) {
			out = append(out, kv)
		}
	}
	clear(h[len(out):])
	return out
}

func replaceKey(h [][2]string, key, value string) [][2]string {
	for i := range h {
		if equalFold(h[i][0], key) {
			h[i][1] = value
			rest := removeKey(h[i+1:], key)
			return h[:i+1+len(rest)]
		}
	}
	return append(h, [2]string{lower(key), value})
}

// Header returns the first value of key in h (case-insensitive); "" when absent.
func Header(h [][2]string, key string) string { v, _ := lookup(h, key); return v }

// adopt returns h for use as a stream's map without copying when its keys are already
// lowercase (owned false: copy before changing it), else a lowercased copy.
func adopt(h [][2]string) ([][2]string, bool) {
	for _, kv := range h {
		if lower(kv[0]) != kv[0] {
			return lowerKeys(h), true
		}
	}
	if h == nil {
		return [][2]string{}, true
	}
	return h, false
}

// own makes *m the emulator's own copy before a change.
func own(m *[][2]string, owned *bool) {
	if owned == nil || *owned {
		return
	}
	c := make([][2]string, len(*m), len(*m)+4)
	copy(c, *m)
	*m, *owned = c, true
}
