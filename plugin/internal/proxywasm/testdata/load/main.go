// Command load is an allocation-heavy guest: every request-headers callback reads headers 50
// times (each value is memory the host obtains through proxy_on_memory_allocate) and keeps a
// little garbage, so the Go GC runs often, also inside proxy_on_memory_allocate.
package main

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

func init() { proxywasm.SetVMContext(&vm{}) }

func main() {}

type vm struct{ proxywasm.DefaultVMContext }

func (*vm) NewPluginContext(uint32) proxywasm.PluginContext { return &plugin{} }

type plugin struct{ proxywasm.DefaultPluginContext }

func (*plugin) NewHttpContext(uint32) proxywasm.HttpContext { return &stream{} }

type stream struct{ proxywasm.DefaultHttpContext }

var keep [][]byte

func (*stream) OnHttpRequestHeaders(int, bool) proxywasm.Action {
	total := 0
	for i := 0; i < 50; i++ {
		v, err := proxywasm.GetHttpRequestHeader("x-key")
		if err != nil {
			proxywasm.LogError("load: " + err.Error())
			return proxywasm.ActionPause
		}
		total += len(v)
		if i%10 == 0 {
			h, _ := proxywasm.GetHttpRequestHeaders()
			total += len(h)
		}
	}
	keep = append(keep, make([]byte, 256+total%7))
	if len(keep) > 1000 {
		keep = keep[:0]
	}
	proxywasm.ReplaceHttpRequestHeader("x-total", "ok")
	return proxywasm.ActionContinue
}
