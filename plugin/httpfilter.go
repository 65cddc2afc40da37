package main

import (
	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// httpStream is the HTTP filter on one stream (an HTTPS publish or the WebSocket upgrade that
// carries MQTT): it hands each callback to the engine's authz.Stream and is that stream's host.
type httpStream struct {
	proxywasm.DefaultHttpContext
	wsTransport // the stream's id; the MQTT bytes once upgraded
	p           *pluginContext
	s           authz.Stream
}

// OnHttpRequestHeaders implements proxywasm.HttpContext.
func (h *httpStream) OnHttpRequestHeaders(int, bool) proxywasm.Action {
	p := h.p
	hs, err := proxywasm.GetHttpRequestHeadersInto(p.hdrBuf[:0])
	if err != nil {
		return action(h.s.HeadersUnreadable(err))
	}
	p.hdrBuf = hs // reused by the next request: the engine clones what it keeps
	return action(h.s.RequestHeaders(hs, p.sni.readConnection()))
}

// OnHttpRequestBody implements proxywasm.HttpContext.
func (h *httpStream) OnHttpRequestBody(size int, _ bool) proxywasm.Action {
	return action(h.s.RequestBody(size))
}

// OnHttpResponseHeaders implements proxywasm.HttpContext.
func (h *httpStream) OnHttpResponseHeaders(int, bool) proxywasm.Action {
	return action(h.s.ResponseHeaders())
}

// OnHttpResponseBody implements proxywasm.HttpContext.
func (h *httpStream) OnHttpResponseBody(size int, _ bool) proxywasm.Action {
	return action(h.s.ResponseBody(size))
}

// OnHttpStreamDone implements proxywasm.HttpContext. The binding makes no typed call after
// done, so a stream the engine no longer refers to is kept for reuse.
func (h *httpStream) OnHttpStreamDone() {
	if h.s.Done() && len(h.p.freeStreams) < maxFreeStreams {
		h.p.freeStreams = append(h.p.freeStreams, h)
	}
}

// maxFreeStreams bounds the finished streams a VM keeps for reuse.
const maxFreeStreams = 32

// Address implements authz.StreamHost.
func (*httpStream) Address() (string, int) { return readAddress() }

// RemoveHeader implements authz.StreamHost.
func (*httpStream) RemoveHeader(name string) { _ = proxywasm.RemoveHttpRequestHeader(name) }

// SetPath implements authz.StreamHost.
func (*httpStream) SetPath(path string) { _ = proxywasm.ReplaceHttpRequestHeader(":path", path) }

// ResponseStatus implements authz.StreamHost.
func (*httpStream) ResponseStatus() string {
	st, _ := proxywasm.GetHttpResponseHeader(":status")
	return st
}

// Reply implements authz.StreamHost: a local response with a JSON body.
func (*httpStream) Reply(status int, body []byte) error {
	return proxywasm.SendHttpResponse(uint32(status), [][2]string{{"content-type", "application/json"}}, body, -1)
}

var (
	_ proxywasm.HttpContext = (*httpStream)(nil)
	_ authz.StreamHost      = (*httpStream)(nil)
)
