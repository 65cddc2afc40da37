package host

import (
	"errors"
	"maps"
	"slices"
	"sync"
)

// SharedData is the shared-data store of one vm_id, as proxy-wasm-cpp-host
// keeps it: process-wide, shared by every VM (all workers, all plugins) with
// that vm_id, each value carrying a compare-and-swap token. It is safe for
// concurrent use.
//
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/shared_data.cc
type SharedData struct {
	mu   sync.Mutex
	refs int
	m    map[string]sharedValue
}

type sharedValue struct {
	data []byte
	cas  uint32
}

// ErrCasMismatch is Set's answer when cas is non-zero and stale.
var ErrCasMismatch = errors.New("host: shared data CAS mismatch")

var (
	sharedMu  sync.Mutex
	sharedReg = map[string]*SharedData{}
	casMu     sync.Mutex
	casNext   uint32 = 1
)

// nextCAS is the process-global counter: starts at 1, skips 0.
func nextCAS() uint32 {
	casMu.Lock()
	defer casMu.Unlock()
	v := casNext
	casNext++
	if casNext == 0 {
		casNext = 1
	}
	return v
}

func acquireSharedData(vmID string) *SharedData {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	s := sharedReg[vmID]
	if s == nil {
		s = &SharedData{m: map[string]sharedValue{}}
		sharedReg[vmID] = s
	}
	s.refs++
	return s
}

// releaseSharedData drops the store when the last plugin of the vm_id closes.
func releaseSharedData(vmID string) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if s := sharedReg[vmID]; s != nil {
		s.refs--
		if s.refs <= 0 {
			delete(sharedReg, vmID)
			dropQueues(vmID)
		}
	}
}

// Get returns a copy of the value of key and its CAS token.
func (s *SharedData) Get(key string) (value []byte, cas uint32, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, 0, false
	}
	return append([]byte(nil), v.data...), v.cas, true
}

// Set stores value under key. If the key exists and cas is neither 0 nor its
// current token, Set returns ErrCasMismatch and changes nothing. Setting a
// missing key always succeeds, whatever cas.
func (s *SharedData) Set(key string, value []byte, cas uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[key]; ok && cas != 0 && cas != v.cas {
		return ErrCasMismatch
	}
	s.m[key] = sharedValue{data: append([]byte(nil), value...), cas: nextCAS()}
	return nil
}

// Keys returns the stored keys, sorted.
func (s *SharedData) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := slices.Sorted(maps.Keys(s.m))
	return keys
}
