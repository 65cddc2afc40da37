package authz

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/iotauthz/iotauthz/internal/ascii"
	"github.com/iotauthz/iotauthz/internal/words"
	"github.com/iotauthz/iotauthz/policy"
)

// decision is a validated, compiled authorizer answer.
type decision struct {
	authenticated  bool
	principalID    string
	set            *policy.Set
	usesSourceIP   bool // the documents may read ${aws:SourceIp} / aws:SourceIp
	context        map[string]string
	refreshSecs    int
	disconnectSecs int
	fetchedAt      int64 // ns
	expiresAt      int64 // ns: fetchedAt + refreshAfterInSeconds
}

// lru is a bounded least-recently-used map, used from one VM thread only. The decision cache
// keeps expired entries in it until they are evicted, so that staleIfErrorSeconds can still serve
// them when the authorizer fails.
//
// Keys are long (a decision key holds the token and its RSA signature, a compiled-set key the
// policy text), so the index is not a map[string]: Go's string map compares a key byte by byte
// inside a .wasm (runtime.memeqbody has no wider loads on GOARCH=wasm), and hashes it with the
// generic fallback (runtime.memhashFallback, with software 128-bit multiplies). Instead the index
// maps words.HashString, a seeded hash read eight bytes at a time, to a chain of nodes, and a hit
// is confirmed by words.EqualString, eight bytes at a time too. The seed is random per lru, so chains stay
// short whatever keys a client chooses (and every key in the cache was authorized first).
type lru[V any] struct {
	max        int
	n          int
	seed       uint64
	m          map[uint64]*lruNode[V]
	head, tail *lruNode[V] // head = most recently used
}

type lruNode[V any] struct {
	key        string
	hash       uint64
	v          V
	prev, next *lruNode[V]
	chain      *lruNode[V] // the next node whose key has the same hash
}

func newLRU[V any](max int) *lru[V] {
	if max < 1 {
		max = 1
	}
	return &lru[V]{max: max, seed: rand.Uint64(), m: make(map[uint64]*lruNode[V])}
}

func (c *lru[V]) len() int { return c.n }

// find returns the node of key, or nil.
func (c *lru[V]) find(key string, h uint64) *lruNode[V] {
	for n := c.m[h]; n != nil; n = n.chain {
		if words.EqualString(n.key, key) {
			return n
		}
	}
	return nil
}

// get returns the value for key and marks it recently used.
func (c *lru[V]) get(key string) (V, bool) { return c.getHashed(key, words.HashString(c.seed, key)) }

// put stores v under key; key must be a string of its own (not a view of a scratch buffer).
func (c *lru[V]) put(key string, v V) { c.putHashed(key, words.HashString(c.seed, key), v) }

// getHashed and putHashed are get and put with the key's hash h already computed (tests pass
// colliding hashes).
func (c *lru[V]) getHashed(key string, h uint64) (V, bool) {
	n := c.find(key, h)
	if n == nil {
		var zero V
		return zero, false
	}
	if c.head != n {
		c.unlink(n)
		c.pushFront(n)
	}
	return n.v, true
}

func (c *lru[V]) putHashed(key string, h uint64, v V) {
	if n := c.find(key, h); n != nil {
		n.v = v
		c.unlink(n)
		c.pushFront(n)
		return
	}
	if c.n >= c.max {
		c.evict(c.tail)
	}
	n := &lruNode[V]{key: key, hash: h, v: v, chain: c.m[h]}
	c.m[h] = n
	c.n++
	c.pushFront(n)
}

// evict removes n from the list and from its hash chain.
func (c *lru[V]) evict(n *lruNode[V]) {
	c.unlink(n)
	c.n--
	first := c.m[n.hash]
	if first == n {
		if n.chain == nil {
			delete(c.m, n.hash)
		} else {
			c.m[n.hash] = n.chain
		}
		return
	}
	for p := first; p != nil; p = p.chain {
		if p.chain == n {
			p.chain = n.chain
			return
		}
	}
}

func (c *lru[V]) unlink(n *lruNode[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		c.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		c.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

func (c *lru[V]) pushFront(n *lruNode[V]) {
	n.next = c.head
	if c.head != nil {
		c.head.prev = n
	}
	c.head = n
	if c.tail == nil {
		c.tail = n
	}
}

// compiledSets bounds the compiled policy sets a VM shares between decisions: authorizers
// usually answer many devices with the same documents, and a compiled set is immutable.
const compiledSets = 256

// compiledSet is a compiled policy set and what it may need at evaluation.
type compiledSet struct {
	set          *policy.Set
	usesSourceIP bool
}

// sharedSet returns the compiled set for docs, compiling it on first use.
func (e *Engine) sharedSet(docs [][]byte) (compiledSet, error) {
	n := 0
	for _, d := range docs {
		n += len(d) + 1
	}
	key := make([]byte, 0, n)
	for _, d := range docs {
		key = append(key, d...)
		key = append(key, 0) // JSON text never holds a raw NUL
	}
	if s, ok := e.sets.get(unsafeString(key)); ok {
		return s, nil
	}
	set, err := policy.CompileJSON(docs)
	if err != nil {
		return compiledSet{}, err
	}
	s := compiledSet{set: set, usesSourceIP: mayUseSourceIP(key)}
	e.sets.put(string(key), s)
	return s, nil
}

// mayUseSourceIP reports whether policy text can refer to aws:SourceIp: when it cannot, the
// client's address need not be read for a decision. Any \u escape counts as "can", since it could
// spell the name.
func mayUseSourceIP(text []byte) bool {
	const name = "sourceip"
	for i := 0; i+1 < len(text); i++ {
		if text[i] == '\\' && text[i+1] == 'u' {
			return true
		}
		if i+len(name) <= len(text) && ascii.EqualLower(text[i:i+len(name)], name) {
			return true
		}
	}
	return false
}

// sharedSlots keeps token-scope decisions in proxy-wasm shared data so that every worker VM (and
// every plugin sharing the vm_id) reuses one authorizer answer. ABI 0.2.1 has no delete, so the
// store is a fixed array of slots, not one key per token: a slot holds the latest answer for the
// keys that hash to it, and a later answer overwrites it. The raw response body is stored; a VM
// that reads it validates and compiles it again, exactly as if it had called the authorizer.
//
// Slot value: fetchedAt (8 bytes, little endian, ns) | key length (4 bytes) | key | response body.
type sharedSlots struct {
	n      uint64
	prefix string
	buf    []byte
}

// maxSharedSlots bounds the shared store: at most this many response bodies (each ≤ 64 KiB,
// typically a few KiB) across all VMs.
const maxSharedSlots = 1024

func newSharedSlots(maxEntries int) *sharedSlots {
	n := maxEntries
	if n > maxSharedSlots {
		n = maxSharedSlots
	}
	if n < 1 {
		n = 1
	}
	return &sharedSlots{n: uint64(n), prefix: "iotauthz.v1.slot."}
}

func (s *sharedSlots) slotKey(key string) string {
	return s.prefix + itoa(int(fnv64a(key)%s.n))
}

// load returns the stored answer for key, if the slot holds that key.
func (s *sharedSlots) load(h Host, key string) (body []byte, fetchedAt int64, ok bool) {
	v, _, err := h.SharedData(s.slotKey(key))
	if err != nil || len(v) < 12 {
		return nil, 0, false
	}
	fetchedAt = int64(binary.LittleEndian.Uint64(v))
	kl := int(binary.LittleEndian.Uint32(v[8:]))
	if kl != len(key) || len(v) < 12+kl || string(v[12:12+kl]) != key {
		return nil, 0, false
	}
	return v[12+kl:], fetchedAt, true
}

// store writes the answer for key into its slot, unconditionally (cas 0): the newest answer wins.
func (s *sharedSlots) store(e *Engine, key string, body []byte, fetchedAt int64) {
	b := s.buf[:0]
	b = binary.LittleEndian.AppendUint64(b, uint64(fetchedAt))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(key)))
	b = append(b, key...)
	b = append(b, body...)
	s.buf = b
	if err := e.h.SetSharedData(s.slotKey(key), b, 0); err != nil {
		e.logText(LevelWarn, "iotauthz: cannot store a decision in shared data: "+err.Error())
	}
}

func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
