// Command passthrough is the smallest plugin on the proxywasm binding: it logs one line when
// configured, lets every request and connection through, and adds "x-passthrough: 1" to HTTP
// responses. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o passthrough.wasm .
package main

import (
	"strconv"

	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// init runs inside _initialize, where Envoy allows no host call but proxy_log.
func init() { proxywasm.SetVMContext(&vmContext{}) }

// main never runs in a -buildmode=c-shared module.
func main() {}

type vmContext struct{ proxywasm.DefaultVMContext }

// NewPluginContext implements proxywasm.VMContext.
func (*vmContext) NewPluginContext(uint32) proxywasm.PluginContext { return &pluginContext{} }

type pluginContext struct{ proxywasm.DefaultPluginContext }

// OnPluginStart implements proxywasm.PluginContext.
func (*pluginContext) OnPluginStart(size int) bool {
	proxywasm.LogInfo("passthrough: configured, " + strconv.Itoa(size) + " bytes of configuration")
	return true
}

// NewHttpContext implements proxywasm.PluginContext.
func (*pluginContext) NewHttpContext(uint32) proxywasm.HttpContext { return &httpContext{} }

// NewTcpContext implements proxywasm.PluginContext.
func (*pluginContext) NewTcpContext(uint32) proxywasm.TcpContext {
	return &proxywasm.DefaultTcpContext{}
}

type httpContext struct{ proxywasm.DefaultHttpContext }

// OnHttpResponseHeaders implements proxywasm.HttpContext.
func (*httpContext) OnHttpResponseHeaders(int, bool) proxywasm.Action {
	if err := proxywasm.AddHttpResponseHeader("x-passthrough", "1"); err != nil {
		proxywasm.LogError("passthrough: " + err.Error())
	}
	return proxywasm.ActionContinue
}

var (
	_ proxywasm.VMContext     = (*vmContext)(nil)
	_ proxywasm.PluginContext = (*pluginContext)(nil)
	_ proxywasm.HttpContext   = (*httpContext)(nil)
)
