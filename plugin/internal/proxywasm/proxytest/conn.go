//go:build !wasm

package proxytest

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

// l4dir is one direction of a connection at this filter.
type l4dir struct {
	buf    []byte // what the filter sees (accumulates while paused)
	paused bool
	out    []byte // what passed the filter
	outEOS bool
}

// Connection is one L4 connection through the filter as a network filter. Feed it with
// DownstreamData (client → upstream) and UpstreamData (upstream → client); read what
// passed with Upstream and Client.
type Connection struct {
	ctxState
	e         *Emulator
	newAction proxywasm.Action
	down, up  l4dir
	cont      bool   // proxy_continue_stream(Downstream), applied after the callback
	closeReq  string // proxy_close_stream details, applied after the callback
	closed    string // why the plugin closed the connection
	finished  bool
}

// NewConnection opens a connection context (proxy_on_context_create) and delivers
// proxy_on_new_connection. props are the connection's properties by dotted path
// ("source.address", "connection.requested_server_name", "connection.id"); not modified.
func (e *Emulator) NewConnection(props map[string]string) *Connection {
	c := &Connection{e: e}
	c.id = e.newID()
	c.props = props
	c.conn = c
	e.contexts[c.id] = &c.ctxState
	var a uint32
	e.call(&c.ctxState, func() {
		e.guest.OnContextCreate(c.id, e.root.id)
		a = e.guest.OnNewConnection(c.id)
	})
	c.newAction = proxywasm.Action(a)
	e.settle()
	return c
}

// ID is the connection's context id.
func (c *Connection) ID() uint32 { return c.id }

// NewConnectionAction is what proxy_on_new_connection returned.
func (c *Connection) NewConnectionAction() proxywasm.Action { return c.newAction }

// DownstreamData delivers bytes from the client (proxy_on_downstream_data with the
// accumulated size). Continue passes everything buffered to the upstream (even when the
// filter also closed the connection: the close runs after the callback); Pause keeps it
// until the next data or ContinueTcpStream. A closed connection takes nothing (ActionPause).
func (c *Connection) DownstreamData(b []byte, endOfStream bool) proxywasm.Action {
	if c.finished {
		return proxywasm.ActionPause
	}
	d := &c.down
	d.buf = append(d.buf, b...)
	var a uint32
	n, eos := uint32(len(d.buf)), b2u(endOfStream)
	c.e.call(&c.ctxState, func() { a = c.e.guest.OnDownstreamData(c.id, n, eos) })
	act := proxywasm.Action(a)
	if act == proxywasm.ActionContinue {
		d.paused = false
		d.forward(endOfStream)
	} else {
		d.paused = true
	}
	c.e.settle()
	return act
}

// UpstreamData delivers bytes from the upstream (proxy_on_upstream_data). Envoy cannot
// resume paused upstream data, so Pause leaves it stuck. endOfStream also delivers
// proxy_on_upstream_connection_close(Unknown), as Envoy does.
func (c *Connection) UpstreamData(b []byte, endOfStream bool) proxywasm.Action {
	if c.finished {
		return proxywasm.ActionPause
	}
	d := &c.up
	d.buf = append(d.buf, b...)
	var a uint32
	n, eos := uint32(len(d.buf)), b2u(endOfStream)
	c.e.call(&c.ctxState, func() { a = c.e.guest.OnUpstreamData(c.id, n, eos) })
	act := proxywasm.Action(a)
	if act == proxywasm.ActionContinue {
		d.paused = false
		d.forward(endOfStream)
	} else {
		d.paused = true
	}
	if endOfStream && c.closeReq == "" {
		c.e.call(&c.ctxState, func() {
			c.e.guest.OnUpstreamConnectionClose(c.id, uint32(proxywasm.PeerTypeUnknown))
		})
	}
	c.e.settle()
	return act
}

func (d *l4dir) forward(eos bool) {
	d.out = append(d.out, d.buf...)
	d.buf = d.buf[:0]
	d.outEOS = d.outEOS || eos
}

// Close closes the connection from the client side (peer Remote) or the proxy (Local):
// proxy_on_downstream_connection_close, then proxy_on_done, proxy_on_log, proxy_on_delete.
func (c *Connection) Close(peer proxywasm.PeerType) {
	if c.finished {
		return
	}
	c.e.call(&c.ctxState, func() { c.e.guest.OnDownstreamConnectionClose(c.id, uint32(peer)) })
	c.finish()
}

// UpstreamClose reports that the upstream closed (proxy_on_upstream_connection_close).
func (c *Connection) UpstreamClose(peer proxywasm.PeerType) {
	if c.finished {
		return
	}
	c.e.call(&c.ctxState, func() { c.e.guest.OnUpstreamConnectionClose(c.id, uint32(peer)) })
	c.e.settle()
}

func (c *Connection) finish() {
	if c.finished {
		return
	}
	c.finished = true
	e := c.e
	e.call(&c.ctxState, func() {
		e.guest.OnDone(c.id)
		if e.guest.OnLog != nil {
			e.guest.OnLog(c.id)
		}
		e.guest.OnDelete(c.id)
	})
	delete(e.contexts, c.id)
	e.settle()
}

// applyDeferred runs a requested continue or close: continue passes the buffered downstream
// bytes to the upstream without another callback; close flushes what was written to the
// client, then closes (proxy_on_downstream_connection_close(Local) and the context's end).
func (c *Connection) applyDeferred() {
	if c.finished {
		return
	}
	if c.closeReq != "" {
		c.closed = c.closeReq
		c.e.call(&c.ctxState, func() {
			c.e.guest.OnDownstreamConnectionClose(c.id, uint32(proxywasm.PeerTypeLocal))
		})
		c.finish()
		return
	}
	if c.cont {
		c.cont = false
		if c.down.paused {
			c.down.paused = false
			c.down.forward(false)
		}
	}
}

// Upstream returns the bytes that reached the upstream.
func (c *Connection) Upstream() []byte { return c.down.out }

// Client returns the bytes that reached the client.
func (c *Connection) Client() []byte { return c.up.out }

// Buffered returns what the filter holds in each direction.
func (c *Connection) Buffered() (downstream, upstream []byte) { return c.down.buf, c.up.buf }

// Closed returns why the plugin closed the connection ("wasm_downstream_close" or
// "wasm_upstream_close"), or "".
func (c *Connection) Closed() string { return c.closed }

// Finished reports whether the connection's context has ended.
func (c *Connection) Finished() bool { return c.finished }
