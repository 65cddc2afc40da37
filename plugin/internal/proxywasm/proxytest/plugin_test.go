//go:build !wasm

package proxytest

import (
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// A plugin made of hooks, so each test states only the callbacks it cares about.

type hooks struct {
	vmStart      func(n int) bool
	start        func(n int) bool
	tick         func()
	reqHeaders   func(id uint32, n int, eos bool) proxywasm.Action
	reqBody      func(id uint32, n int, eos bool) proxywasm.Action
	reqTrailers  func(id uint32, n int) proxywasm.Action
	respHeaders  func(id uint32, n int, eos bool) proxywasm.Action
	respBody     func(id uint32, n int, eos bool) proxywasm.Action
	respTrailers func(id uint32, n int) proxywasm.Action
	httpDone     func(id uint32)
	newConn      func(id uint32) proxywasm.Action
	downData     func(id uint32, n int, eos bool) proxywasm.Action
	upData       func(id uint32, n int, eos bool) proxywasm.Action
	downClose    func(id uint32, p proxywasm.PeerType)
	upClose      func(id uint32, p proxywasm.PeerType)
	tcpDone      func(id uint32)
}

type hookVM struct{ h *hooks }

func (v *hookVM) OnVMStart(n int) bool {
	if v.h.vmStart != nil {
		return v.h.vmStart(n)
	}
	return true
}
func (v *hookVM) NewPluginContext(uint32) proxywasm.PluginContext { return &hookPlugin{h: v.h} }

type hookPlugin struct{ h *hooks }

func (p *hookPlugin) OnPluginStart(n int) bool {
	if p.h.start != nil {
		return p.h.start(n)
	}
	return true
}
func (p *hookPlugin) OnPluginDone() bool { return true }
func (p *hookPlugin) OnTick() {
	if p.h.tick != nil {
		p.h.tick()
	}
}
func (p *hookPlugin) NewHttpContext(id uint32) proxywasm.HttpContext {
	return &hookHTTP{id: id, h: p.h}
}
func (p *hookPlugin) NewTcpContext(id uint32) proxywasm.TcpContext { return &hookTCP{id: id, h: p.h} }

type hookHTTP struct {
	id uint32
	h  *hooks
}

func cont(f func(uint32, int, bool) proxywasm.Action, id uint32, n int, eos bool) proxywasm.Action {
	if f == nil {
		return proxywasm.ActionContinue
	}
	return f(id, n, eos)
}

func (c *hookHTTP) OnHttpRequestHeaders(n int, eos bool) proxywasm.Action {
	return cont(c.h.reqHeaders, c.id, n, eos)
}
func (c *hookHTTP) OnHttpRequestBody(n int, eos bool) proxywasm.Action {
	return cont(c.h.reqBody, c.id, n, eos)
}
func (c *hookHTTP) OnHttpRequestTrailers(n int) proxywasm.Action {
	if c.h.reqTrailers == nil {
		return proxywasm.ActionContinue
	}
	return c.h.reqTrailers(c.id, n)
}
func (c *hookHTTP) OnHttpResponseHeaders(n int, eos bool) proxywasm.Action {
	return cont(c.h.respHeaders, c.id, n, eos)
}
func (c *hookHTTP) OnHttpResponseBody(n int, eos bool) proxywasm.Action {
	return cont(c.h.respBody, c.id, n, eos)
}
func (c *hookHTTP) OnHttpResponseTrailers(n int) proxywasm.Action {
	if c.h.respTrailers == nil {
		return proxywasm.ActionContinue
	}
	return c.h.respTrailers(c.id, n)
}
func (c *hookHTTP) OnHttpStreamDone() {
	if c.h.httpDone != nil {
		c.h.httpDone(c.id)
	}
}

type hookTCP struct {
	id uint32
	h  *hooks
}

func (c *hookTCP) OnNewConnection() proxywasm.Action {
	if c.h.newConn == nil {
		return proxywasm.ActionContinue
	}
	return c.h.newConn(c.id)
}
func (c *hookTCP) OnDownstreamData(n int, eos bool) proxywasm.Action {
	return cont(c.h.downData, c.id, n, eos)
}
func (c *hookTCP) OnUpstreamData(n int, eos bool) proxywasm.Action {
	return cont(c.h.upData, c.id, n, eos)
}
func (c *hookTCP) OnDownstreamClose(p proxywasm.PeerType) {
	if c.h.downClose != nil {
		c.h.downClose(c.id, p)
	}
}
func (c *hookTCP) OnUpstreamClose(p proxywasm.PeerType) {
	if c.h.upClose != nil {
		c.h.upClose(c.id, p)
	}
}
func (c *hookTCP) OnStreamDone() {
	if c.h.tcpDone != nil {
		c.h.tcpDone(c.id)
	}
}

var (
	_ proxywasm.VMContext     = (*hookVM)(nil)
	_ proxywasm.PluginContext = (*hookPlugin)(nil)
	_ proxywasm.HttpContext   = (*hookHTTP)(nil)
	_ proxywasm.TcpContext    = (*hookTCP)(nil)
)
