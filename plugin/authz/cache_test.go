//go:build !wasm

package authz

import (
	"fmt"
	"testing"
)

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	c := newLRU[int](3)
	c.put("a", 1)
	c.put("b", 2)
	c.put("c", 3)
	if v, ok := c.get("a"); !ok || v != 1 { // a is now the most recent; b the least
		t.Fatalf("get a = %d, %v", v, ok)
	}
	c.put("d", 4)
	if _, ok := c.get("b"); ok {
		t.Fatal("b survived although it was the least recently used")
	}
	for k, want := range map[string]int{"a": 1, "c": 3, "d": 4} {
		if v, ok := c.get(k); !ok || v != want {
			t.Fatalf("get %s = %d, %v; want %d", k, v, ok, want)
		}
	}
	c.put("c", 30) // an update is not an insertion
	if c.len() != 3 {
		t.Fatalf("len %d, want 3", c.len())
	}
	if v, _ := c.get("c"); v != 30 {
		t.Fatalf("c = %d after the update, want 30", v)
	}
}

// TestLRUCollidingHashes forces every key onto one hash: lookups must still tell the keys apart,
// and evicting a node from the head, the middle or the end of a chain must keep the others.
func TestLRUCollidingHashes(t *testing.T) {
	const h = 42
	c := newLRU[string](4)
	keys := []string{"k1", "k2", "k3", "k4"}
	for _, k := range keys {
		c.putHashed(k, h, "v"+k)
	}
	for _, k := range keys {
		if v, ok := c.getHashed(k, h); !ok || v != "v"+k {
			t.Fatalf("get %s = %q, %v", k, v, ok)
		}
	}
	if _, ok := c.getHashed("k5", h); ok {
		t.Fatal("a key never stored was found through a colliding hash")
	}
	// The chain lists the newest insertion first: k4 k3 k2 k1. Gets reorder recency only, so
	// each put below evicts a chosen node: from the middle, the head, the middle, the end.
	steps := []struct {
		touch []string // made recent before the put
		put   string
		gone  string
		left  []string
	}{
		{[]string{"k1", "k2"}, "n1", "k3", []string{"k4", "k1", "k2", "n1"}},
		{[]string{"k4", "k1", "k2"}, "n2", "n1", []string{"k4", "k1", "k2", "n2"}},
		{nil, "n3", "k4", []string{"k1", "k2", "n2", "n3"}},
		{nil, "n4", "k1", []string{"k2", "n2", "n3", "n4"}},
	}
	for _, st := range steps {
		for _, k := range st.touch {
			if _, ok := c.getHashed(k, h); !ok {
				t.Fatalf("before %s: %s is missing", st.put, k)
			}
		}
		c.putHashed(st.put, h, "v"+st.put)
		if _, ok := c.getHashed(st.gone, h); ok {
			t.Fatalf("put %s: %s survived its eviction", st.put, st.gone)
		}
		for _, k := range st.left {
			if v, ok := c.getHashed(k, h); !ok || v != "v"+k {
				t.Fatalf("put %s: get %s = %q, %v", st.put, k, v, ok)
			}
		}
	}
	if c.len() != 4 || len(c.m) != 1 {
		t.Fatalf("len %d, index %d; want 4 and 1 chain", c.len(), len(c.m))
	}
}

func TestLRUBoundedWithManyKeys(t *testing.T) {
	c := newLRU[int](100)
	for i := 0; i < 10000; i++ {
		c.put(fmt.Sprintf("key-%d", i), i)
	}
	if c.len() != 100 || len(c.m) > 100 {
		t.Fatalf("len %d, index %d: want 100", c.len(), len(c.m))
	}
	if v, ok := c.get("key-9999"); !ok || v != 9999 {
		t.Fatal("the newest key is missing")
	}
	if _, ok := c.get("key-0"); ok {
		t.Fatal("the oldest key is still there")
	}
}
