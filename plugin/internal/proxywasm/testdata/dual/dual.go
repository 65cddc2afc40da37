// Package dual is a plugin exercising the typed API end to end. The same code runs natively on
// proxytest and, built from ./cmd, as real wasm on host/ (TestDual_*), so the two must agree.
package dual

import (
	"strconv"

	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// VM is the plugin's VMContext.
type VM struct{ proxywasm.DefaultVMContext }

// NewPluginContext implements proxywasm.VMContext.
func (*VM) NewPluginContext(uint32) proxywasm.PluginContext { return &plugin{} }

type plugin struct {
	proxywasm.DefaultPluginContext
	requests proxywasm.MetricCounter
}

// OnPluginStart implements proxywasm.PluginContext.
func (p *plugin) OnPluginStart(int) bool {
	cfg, err := proxywasm.GetPluginConfiguration()
	if err != nil {
		proxywasm.LogError("dual: no configuration")
		return false
	}
	proxywasm.LogInfo("dual: config " + string(cfg))
	p.requests, err = proxywasm.DefineCounterMetric("dual_requests")
	return err == nil
}

// NewHttpContext implements proxywasm.PluginContext.
func (p *plugin) NewHttpContext(id uint32) proxywasm.HttpContext {
	return &stream{id: id, p: p}
}

// NewTcpContext implements proxywasm.PluginContext.
func (p *plugin) NewTcpContext(uint32) proxywasm.TcpContext { return &conn{} }

type stream struct {
	proxywasm.DefaultHttpContext
	id uint32
	p  *plugin
}

// OnHttpRequestHeaders implements proxywasm.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) proxywasm.Action {
	s.p.requests.Increment(1)
	authority, _ := proxywasm.GetHttpRequestHeader(":authority")
	src, _ := proxywasm.GetPropertyString([]string{"source", "address"})
	if err := proxywasm.SetSharedData("last", []byte(authority), 0); err != nil {
		proxywasm.LogError("dual: shared data: " + err.Error())
	}
	id := s.id
	_, err := proxywasm.DispatchHttpCall("authz",
		[][2]string{{":method", "POST"}, {":path", "/check"}, {":authority", "authz"}},
		[]byte(authority+" "+src), nil, 5000, func(numHeaders, bodySize, _ int) {
			body, _ := proxywasm.GetHttpCallResponseBody(0, bodySize)
			status, _ := proxywasm.GetHttpCallResponseHeaders()
			code := ""
			for _, h := range status {
				if h[0] == ":status" {
					code = h[1]
				}
			}
			if err := proxywasm.SetEffectiveContext(id); err != nil {
				proxywasm.LogError("dual: " + err.Error())
				return
			}
			if numHeaders == 0 {
				st, msg, _ := proxywasm.GetStatus()
				code = "reset:" + strconv.Itoa(int(st)) + ":" + msg
			}
			if code != "200" {
				proxywasm.SendHttpResponse(403, [][2]string{{"x-denied", code}}, []byte("denied"), -1)
				return
			}
			proxywasm.ReplaceHttpRequestHeader("x-auth", string(body))
			proxywasm.ContinueHttpRequest()
		})
	if err != nil {
		proxywasm.LogError("dual: http call: " + err.Error())
		return proxywasm.ActionContinue
	}
	return proxywasm.ActionPause
}

// OnHttpRequestBody implements proxywasm.HttpContext: buffer the whole body, then
// upper-case it and append "!".
func (s *stream) OnHttpRequestBody(n int, eos bool) proxywasm.Action {
	if !eos {
		return proxywasm.ActionPause
	}
	b, _ := proxywasm.GetHttpRequestBody(0, n)
	for i, ch := range b {
		if 'a' <= ch && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
	}
	proxywasm.ReplaceHttpRequestBody(b)
	proxywasm.AppendHttpRequestBody([]byte("!"))
	return proxywasm.ActionContinue
}

// OnHttpResponseHeaders implements proxywasm.HttpContext.
func (s *stream) OnHttpResponseHeaders(int, bool) proxywasm.Action {
	proxywasm.AddHttpResponseHeader("x-passthrough", "1")
	return proxywasm.ActionContinue
}

type conn struct{ proxywasm.DefaultTcpContext }

// OnDownstreamData implements proxywasm.TcpContext: hold until a newline, then upper-case
// the line.
func (c *conn) OnDownstreamData(n int, _ bool) proxywasm.Action {
	b, _ := proxywasm.GetDownstreamData(0, n)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return proxywasm.ActionPause
	}
	for i, ch := range b {
		if 'a' <= ch && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
	}
	proxywasm.ReplaceDownstreamData(b)
	if string(b) == "QUIT\n" {
		proxywasm.CloseDownstream()
	}
	return proxywasm.ActionContinue
}

var (
	_ proxywasm.VMContext     = (*VM)(nil)
	_ proxywasm.PluginContext = (*plugin)(nil)
	_ proxywasm.HttpContext   = (*stream)(nil)
	_ proxywasm.TcpContext    = (*conn)(nil)
)
