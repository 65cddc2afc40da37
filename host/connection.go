package host

import (
	"github.com/iotauthz/iotauthz/host/internal/abi"
	"github.com/tetratelabs/wazero/api"
)

// ConnSink receives, as they happen, the bytes an L4 connection sends to the
// upstream and to the client, and the plugin's closing of the connection. A
// gateway implements it to write to its sockets. Methods are called from the
// goroutine running the VM; they must not call back into the same VM
// synchronously.
//
// The b of OnUpstreamData and OnClientData is the sink's from the call on: the host keeps no
// reference to it (the connection buffer it was is replaced by a new one), so the sink may keep
// it without a copy.
type ConnSink interface {
	OnUpstreamData(b []byte, endStream bool)
	OnClientData(b []byte, endStream bool)
	// OnClose: the plugin closed the connection (details
	// "wasm_downstream_close" or "wasm_upstream_close"; "" when a failed VM
	// closed it). The gateway closes both sockets.
	OnClose(details string)
}

// ConnState is what an L4 connection has done so far.
type ConnState struct {
	// NewConnection is the filter's answer to proxy_on_new_connection.
	NewConnection FilterStatus
	ToUpstream    []byte // bytes that reached the upstream (without a sink)
	UpstreamEnd   bool
	ToClient      []byte // bytes that reached the client (without a sink)
	ClientEnd     bool
	// Closed: the connection is closed (by the plugin, or by Close).
	Closed bool
	// CloseDetails: "wasm_downstream_close" / "wasm_upstream_close" when the
	// plugin closed it.
	CloseDetails string
	// Done: the context ended (proxy_on_done, proxy_on_log, proxy_on_delete).
	Done bool
}

type connDir struct {
	buf   []byte // the connection buffer the filter sees (accumulates while paused)
	avail bool
	end   bool
}

// Connection is one downstream connection through the plugin's network
// filter on a VM. Methods are safe for concurrent use.
type Connection struct {
	filter
	sink       ConnSink
	down, up   connDir
	state      ConnState
	downClosed bool
	upClosed   bool
}

// NewConnection opens a connection on the VM: proxy_on_context_create, then
// proxy_on_new_connection.
func (vm *VM) NewConnection(props Properties) *Connection {
	return vm.NewConnectionSink(props, nil)
}

// NewConnectionSink is NewConnection delivering to sink; bytes are then not
// recorded in ConnState.
func (vm *VM) NewConnectionSink(props Properties, sink ConnSink) *Connection {
	if props.ConnectionID == 0 {
		props.ConnectionID = vm.p.connSeq.Add(1)
	}
	c := &Connection{filter: filter{vm: vm, props: props, filterState: map[string][]byte{}}, sink: sink}
	_ = vm.run(func() {
		if c.failed() {
			return
		}
		c.ctx = vm.newContext()
		c.ctx.conn = c
		vm.call(c.ctx, vm.ex.contextCreate, uint64(c.ctx.id), uint64(vm.root.id))
		vm.runDeferred()
		r, _ := vm.call(c.ctx, vm.ex.newConnection, uint64(c.ctx.id))
		if c.failed() {
			return
		}
		if uint32(r) != 0 {
			c.state.NewConnection = StopIteration
		}
		vm.runDeferred()
	})
	return c
}

// failed applies Envoy's network fail policy once the VM has failed: fail
// closed closes the connection; fail open lets data through.
func (c *Connection) failed() bool {
	if c.vm.failed == nil {
		return false
	}
	if !c.vm.p.cfg.FailOpen && !c.state.Closed {
		c.state.Closed = true
		c.state.Done = true
		if c.sink != nil {
			c.sink.OnClose("")
		}
	}
	return true
}

// DownstreamData delivers bytes from the client (proxy_on_downstream_data).
// While the filter pauses, the bytes stay in the connection buffer and the
// next call reports the accumulated length.
func (c *Connection) DownstreamData(b []byte, endStream bool) FilterStatus {
	st := Continue
	_ = c.vm.run(func() { st, _ = c.onData(&c.down, c.vm.ex.downstreamData, b, endStream) })
	return st
}

// onData is proxy_on_downstream_data or proxy_on_upstream_data (fn) for the bytes of one
// direction, d. called is whether the filter ran to the end of the callback (the connection
// open, the VM alive).
func (c *Connection) onData(d *connDir, fn api.Function, b []byte, endStream bool) (st FilterStatus, called bool) {
	if c.state.Closed || c.state.Done {
		return Continue, false
	}
	d.buf = append(d.buf, b...)
	if endStream {
		d.end = true
	}
	if c.failed() {
		if c.vm.p.cfg.FailOpen {
			c.forward(d)
		}
		return StopIteration, false
	}
	d.avail = true
	r, _ := c.vm.call(c.ctx, fn, uint64(c.ctx.id), uint64(len(d.buf)), b2u(endStream))
	if c.failed() {
		return StopIteration, false
	}
	st = Continue
	if uint32(r) == 0 {
		c.forward(d)
	} else {
		st = StopIteration
	}
	c.vm.runDeferred()
	return st, true
}

// forward passes what d holds on: the client's bytes (c.down) to the upstream, the upstream's
// (c.up) to the client; to the sink, or recorded in the state without one.
func (c *Connection) forward(d *connDir) {
	// The sink owns buf from here (ConnSink): d.buf always holds bytes the host copied in
	// (onData, proxy_set_buffer_bytes), never the caller's or the VM's memory.
	buf := d.buf
	d.buf, d.avail = nil, false
	if len(buf) == 0 && !d.end {
		return
	}
	rec, end, send := &c.state.ToClient, &c.state.ClientEnd, ConnSink.OnClientData
	if d == &c.down {
		rec, end, send = &c.state.ToUpstream, &c.state.UpstreamEnd, ConnSink.OnUpstreamData
	}
	if c.sink != nil {
		send(c.sink, buf, d.end)
	} else {
		*rec = append(*rec, buf...)
	}
	if d.end {
		*end = true
	}
}

// continueReading is proxy_continue_stream(Downstream): iteration resumes
// after this filter, so the retained buffer goes to the upstream without
// calling the filter again.
func (c *Connection) continueReading() {
	if c.state.Closed || c.state.Done {
		return
	}
	c.forward(&c.down)
}

// UpstreamData delivers bytes from the upstream (proxy_on_upstream_data).
// With endStream, proxy_on_upstream_connection_close follows, as in Envoy.
// Pausing upstream data holds it; there is no way to resume it
// (proxy_continue_stream(Upstream) is Unimplemented in Envoy), except a later
// callback answering Continue.
func (c *Connection) UpstreamData(b []byte, endStream bool) FilterStatus {
	st := Continue
	_ = c.vm.run(func() {
		var called bool
		if st, called = c.onData(&c.up, c.vm.ex.upstreamData, b, endStream); !called {
			return
		}
		if endStream && !c.upClosed {
			c.upClosed = true
			c.vm.call(c.ctx, c.vm.ex.upstreamClose, uint64(c.ctx.id), abi.PeerUnknown)
			c.vm.runDeferred()
			if c.downClosed {
				c.closeTCP()
			}
		}
	})
	return st
}

// Close is the client closing the connection (RemoteClose):
// proxy_on_downstream_connection_close(Remote), then proxy_on_done,
// proxy_on_log, proxy_on_delete.
func (c *Connection) Close() { c.closeBy(abi.PeerRemote) }

// CloseLocal is the proxy closing the client's connection itself
// (LocalClose), as Envoy's tcp_proxy does once the upstream has ended:
// proxy_on_downstream_connection_close(Local), then proxy_on_done,
// proxy_on_log, proxy_on_delete. Envoy's network filter maps the
// connection's LocalClose event to CloseType::Local and RemoteClose to
// Remote (Context::onEvent in source/extensions/common/wasm/context.cc).
// The sink is not told: the caller closes its own sockets. After Close or
// CloseLocal, either is a no-op.
func (c *Connection) CloseLocal() { c.closeBy(abi.PeerLocal) }

// closeBy is Close (peer Remote) and CloseLocal (peer Local).
func (c *Connection) closeBy(peer uint64) {
	_ = c.vm.run(func() {
		if c.state.Done {
			return
		}
		c.state.Closed = true
		c.downstreamEvent(peer)
	})
}

// dir is the upstream side if up, else the downstream one.
func (c *Connection) dir(up bool) *connDir {
	if up {
		return &c.up
	}
	return &c.down
}

// closeLocal is the plugin closing the connection (deferred
// proxy_close_stream): a LocalClose event follows.
func (c *Connection) closeLocal(details string) {
	if c.state.Closed || c.state.Done {
		return
	}
	c.state.Closed = true
	c.state.CloseDetails = details
	if c.sink != nil {
		c.sink.OnClose(details)
	}
	c.downstreamEvent(abi.PeerLocal)
}

func (c *Connection) downstreamEvent(peer uint64) {
	if c.ctx == nil || c.vm.failed != nil {
		c.state.Done = true
		return
	}
	c.vm.call(c.ctx, c.vm.ex.downstreamClose, uint64(c.ctx.id), peer)
	c.vm.runDeferred()
	c.downClosed = true
	c.closeTCP()
}

// closeTCP is Envoy's onCloseTCP: done, log, delete.
func (c *Connection) closeTCP() {
	if c.state.Done {
		return
	}
	c.state.Done = true
	c.vm.finishContext(c.ctx, true, false)
}

// State returns what the connection has done so far.
func (c *Connection) State() ConnState {
	var s ConnState
	_ = c.vm.run(func() {
		s = c.state
		s.ToUpstream = append([]byte(nil), s.ToUpstream...)
		s.ToClient = append([]byte(nil), s.ToClient...)
	})
	return s
}
