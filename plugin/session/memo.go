package session

import "github.com/iotauthz/iotauthz/internal/words"

// memo is a bounded, 2-way set-associative cache of (action, name) → allowed for one connection
// (least recently used of the two replaced). A slot is valid only for the generation it was written
// in, so reset (a policy change) is O(1).
//
// Its table starts empty and grows: memoFirstSlots slots at the first write, doubled (up to max)
// when a write finds both slots of its pair in use, so an idle connection holds no table and one
// that uses a few topics a small one. At 10 000 idle connections the eager 256-slot table was
// 12 KiB of each connection's state in the guest's memory.
type memo struct {
	slots []memoSlot
	max   int    // slots at most; 0: no memo
	mask  uint32 // of the pair index, times 2
	gen   uint32
	tick  uint32
}

type memoSlot struct {
	gen  uint32
	hash uint32
	used uint32 // tick of the last hit or write
	a    Action
	ok   bool
	name []byte
}

const (
	memoMaxName    = 256
	memoFirstSlots = 8
)

// init sets the memo's bound: n entries, rounded up to a power of two of at least 2; n <= 0
// disables it. No table is allocated until the first put.
func (m *memo) init(n int) {
	if n <= 0 {
		return
	}
	size := 2
	for size < n {
		size <<= 1
	}
	m.max = size
	m.gen = 1
}

func (m *memo) reset() {
	m.gen++
	if m.gen == 0 { // wrapped: forget every slot for real
		for i := range m.slots {
			m.slots[i].gen = 0
		}
		m.gen = 1
	}
}

// grow doubles the table (or makes the first), keeping the current generation's entries; the
// names' buffers move with their slots.
func (m *memo) grow() {
	size := memoFirstSlots
	if len(m.slots) > 0 {
		size = 2 * len(m.slots)
	}
	size = min(size, m.max)
	old := m.slots
	m.slots = make([]memoSlot, size)
	m.mask = uint32(size-1) &^ 1
	for i := range old {
		o := &old[i]
		if o.gen != m.gen {
			continue
		}
		j := o.hash & m.mask
		if m.slots[j].gen == m.gen {
			j++ // the pair's other slot: two entries of one old pair land in at most one new pair
		}
		m.slots[j] = *o
	}
}

// memoHash hashes the action and the name, eight bytes at a time (a multiply-xorshift mix; the
// memo compares names in full, so the hash only needs to spread them).
func memoHash(a Action, name []byte) uint32 {
	return uint32(words.Hash(uint64(a), name))
}

func (m *memo) get(h uint32, a Action, name []byte) (ok, hit bool) {
	if m.slots == nil {
		return false, false
	}
	i := h & m.mask
	for _, s := range [2]*memoSlot{&m.slots[i], &m.slots[i+1]} {
		if s.gen == m.gen && s.hash == h && s.a == a && words.Equal(s.name, name) {
			m.tick++
			s.used = m.tick
			return s.ok, true
		}
	}
	return false, false
}

func (m *memo) put(h uint32, a Action, name []byte, ok bool) {
	if m.max == 0 || len(name) > memoMaxName {
		return
	}
	i := h & m.mask
	if len(m.slots) == 0 || len(m.slots) < m.max && m.slots[i].gen == m.gen && m.slots[i+1].gen == m.gen {
		m.grow()
		i = h & m.mask
	}
	s := &m.slots[i]
	if o := &m.slots[i+1]; o.gen != m.gen || s.gen == m.gen && o.used < s.used {
		s = o
	}
	m.tick++
	s.gen, s.hash, s.used, s.a, s.ok = m.gen, h, m.tick, a, ok
	s.name = append(s.name[:0], name...)
}
