package proxywasm

// streamTable holds the live stream records by context id. It replaces a map[uint32]: every
// stream inserts, looks up and deletes once, and inside a .wasm Go's map costs about as much as
// the rest of the dispatch. Open addressing, linear probing, backward-shift deletion (no
// tombstones); a record's key is its own id.
type streamTable struct {
	slots []*streamContext // nil: empty; len is a power of two
	shift uint8            // 32 - log2(len(slots))
	n     int
}

const minStreamSlots = 32

// home is id's first slot: Fibonacci hashing, so that consecutive ids (Envoy numbers contexts
// with one counter) spread over the table.
func (t *streamTable) home(id uint32) int { return int((id * 2654435769) >> t.shift) }

func (t *streamTable) len() int { return t.n }

func (t *streamTable) get(id uint32) *streamContext {
	if t.n == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := t.home(id); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == nil || s.id == id {
			return s
		}
	}
}

// put stores s under s.id, replacing a record with the same id.
func (t *streamTable) put(s *streamContext) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.resize()
	}
	mask := len(t.slots) - 1
	for i := t.home(s.id); ; i = (i + 1) & mask {
		switch cur := t.slots[i]; {
		case cur == nil:
			t.slots[i] = s
			t.n++
			return
		case cur.id == s.id:
			t.slots[i] = s
			return
		}
	}
}

// del removes id's record and reports whether there was one.
func (t *streamTable) del(id uint32) bool {
	if t.n == 0 {
		return false
	}
	mask := len(t.slots) - 1
	i := t.home(id)
	for ; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == nil {
			return false
		}
		if s.id == id {
			break
		}
	}
	// Shift back every later record of the run that may sit at i: a record whose home is not
	// cyclically within (i, j] would become unreachable behind the hole.
	for j := i; ; {
		j = (j + 1) & mask
		s := t.slots[j]
		if s == nil {
			break
		}
		k := t.home(s.id)
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		t.slots[i] = s
		i = j
	}
	t.slots[i] = nil
	t.n--
	return true
}

func (t *streamTable) resize() {
	size := minStreamSlots
	for size*3 < (t.n+1)*4*2 { // leave the table at most 3/8 full after growing
		size *= 2
	}
	old := t.slots
	t.slots = make([]*streamContext, size)
	t.shift = uint8(32 - log2(size))
	t.n = 0
	for _, s := range old {
		if s != nil {
			t.put(s)
		}
	}
}

func (t *streamTable) clear() {
	clear(t.slots)
	t.n = 0
}

func log2(n int) int {
	b := 0
	for n > 1 {
		n >>= 1
		b++
	}
	return b
}
