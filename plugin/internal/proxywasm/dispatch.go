package proxywasm

// The binding's state. Like the wasm VM it models, it is single-threaded: every callback and
// every host call runs on the one goroutine the host called in on.

type rootContext struct {
	id    uint32
	ctx   PluginContext
	calls map[uint32]func(numHeaders, bodySize, numTrailers int) // pending http calls by token
}

const (
	kindUnknown uint8 = iota // context created, no typed callback yet
	kindHTTP
	kindTCP
)

type streamContext struct {
	id   uint32
	root *rootContext
	http HttpContext
	tcp  TcpContext
	kind uint8
	done bool
}

var state struct {
	vm      VMContext
	roots   map[uint32]*rootContext
	streams streamTable
	last    *streamContext   // one-entry lookup cache
	current *rootContext     // root of the callback being run
	free    []*streamContext // recycled stream records
}

func init() {
	state.roots = make(map[uint32]*rootContext, 1)
}

// SetVMContext registers the plugin. Call it from init(); it calls no host function.
func SetVMContext(vm VMContext) { state.vm = vm }

// resetState drops every context and pending allocation, keeping the registered VMContext.
// The dispatch tests use it between cases.
func resetState() {
	clear(state.roots)
	state.streams.clear()
	state.last, state.current = nil, nil
	state.free = state.free[:0]
	releaseAll()
}

func lookupStream(id uint32) *streamContext {
	if s := state.last; s != nil && s.id == id {
		return s
	}
	s := state.streams.get(id)
	if s != nil {
		state.last = s
	}
	return s
}

func lookupRoot(id uint32) *rootContext {
	r := state.roots[id]
	if r != nil {
		state.current = r
	}
	return r
}

// typedStream returns stream id for a callback of kind (kindHTTP or kindTCP) and makes its
// root the current one. The stream's first typed callback fixes its kind and asks the root
// for the HttpContext or TcpContext. nil when the stream is unknown.
func typedStream(id uint32, kind uint8) *streamContext {
	s := lookupStream(id)
	if s == nil {
		return nil
	}
	state.current = s.root
	if s.kind == kindUnknown {
		s.kind = kind
		switch {
		case s.root == nil:
		case kind == kindHTTP:
			s.http = s.root.ctx.NewHttpContext(id)
		default:
			s.tcp = s.root.ctx.NewTcpContext(id)
		}
	}
	return s
}

// httpContext returns the HttpContext of stream id, creating it on the stream's first HTTP
// callback; nil when the stream is unknown, is an L4 stream, or the plugin declined.
func httpContext(id uint32) HttpContext {
	if s := typedStream(id, kindHTTP); s != nil {
		return s.http
	}
	return nil
}

// tcpContext is httpContext for L4 callbacks.
func tcpContext(id uint32) TcpContext {
	if s := typedStream(id, kindTCP); s != nil {
		return s.tcp
	}
	return nil
}

func createContext(id, parent uint32) {
	if parent == 0 {
		vm := state.vm
		if vm == nil {
			vm = &DefaultVMContext{}
		}
		pc := vm.NewPluginContext(id)
		if pc == nil {
			pc = &DefaultPluginContext{}
		}
		r := &rootContext{id: id, ctx: pc}
		state.roots[id] = r
		state.current = r
		return
	}
	var s *streamContext
	if n := len(state.free); n > 0 {
		s = state.free[n-1]
		state.free = state.free[:n-1]
	} else {
		s = new(streamContext)
	}
	s.id = id
	if r := state.current; r != nil && r.id == parent {
		s.root = r
	} else {
		s.root = state.roots[parent]
	}
	state.streams.put(s)
	state.last = s // its first callback comes next
}

// finishStream calls the typed context's done callback once.
func finishStream(s *streamContext) {
	if s.done {
		return
	}
	s.done = true
	state.current = s.root
	switch {
	case s.http != nil:
		h := s.http
		s.http = nil // no typed callback after done: the plugin may reuse the context
		h.OnHttpStreamDone()
	case s.tcp != nil:
		t := s.tcp
		s.tcp = nil
		t.OnStreamDone()
	}
}

func deleteContext(id uint32) {
	if s := lookupStream(id); s != nil {
		finishStream(s)
		state.streams.del(id)
		state.last = nil
		*s = streamContext{}
		if len(state.free) < 64 {
			state.free = append(state.free, s)
		}
		return
	}
	if r := state.roots[id]; r != nil {
		delete(state.roots, id)
		if state.current == r {
			state.current = nil
		}
	}
}

// currentRoot is the root context an http call dispatched now belongs to.
func currentRoot() *rootContext {
	if state.current != nil {
		return state.current
	}
	if len(state.roots) == 1 {
		for _, r := range state.roots {
			return r
		}
	}
	return nil
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
