package proxywasm

import (
	"math/rand/v2"
	"testing"
)

// TestStreamTable_MatchesMap drives the table and a map with the same random inserts, lookups
// and deletes (ids in a narrow range, so runs collide and wrap around the end of the table)
// and checks they agree after every step, across growth.
func TestStreamTable_MatchesMap(t *testing.T) {
	for _, idRange := range []uint32{8, 40, 200, 5000} {
		r := rand.New(rand.NewPCG(1, uint64(idRange)))
		var tab streamTable
		ref := map[uint32]*streamContext{}
		for step := 0; step < 20000; step++ {
			id := 1 + r.Uint32N(idRange)
			switch r.IntN(3) {
			case 0:
				s := &streamContext{id: id}
				tab.put(s)
				ref[id] = s
			case 1:
				_, had := ref[id]
				if got := tab.del(id); got != had {
					t.Fatalf("range %d step %d: del(%d) = %v, map had %v", idRange, step, id, got, had)
				}
				delete(ref, id)
			}
			if got := tab.get(id); got != ref[id] {
				t.Fatalf("range %d step %d: get(%d) = %v, map %v", idRange, step, id, got, ref[id])
			}
			if tab.len() != len(ref) {
				t.Fatalf("range %d step %d: len %d, map %d", idRange, step, tab.len(), len(ref))
			}
		}
		for id, s := range ref { // every survivor is still reachable
			if tab.get(id) != s {
				t.Fatalf("range %d: %d lost", idRange, id)
			}
		}
		tab.clear()
		if tab.len() != 0 || tab.get(1) != nil {
			t.Fatal("clear left records")
		}
	}
}

func TestStreamTable_ReplaceAndAbsent(t *testing.T) {
	var tab streamTable
	if tab.get(7) != nil || tab.del(7) {
		t.Fatal("an empty table has 7")
	}
	a, b := &streamContext{id: 7}, &streamContext{id: 7}
	tab.put(a)
	tab.put(b)
	if tab.len() != 1 || tab.get(7) != b {
		t.Fatal("a second put of one id did not replace the first")
	}
}
