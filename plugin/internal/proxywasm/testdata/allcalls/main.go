// Command allcalls references every host call of the binding so that the module imports all
// of them; TestWasmSignatures checks their types. It is built, never run.
package main

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

func init() { proxywasm.SetVMContext(&vm{}) }

func main() {}

type vm struct{ proxywasm.DefaultVMContext }

func (*vm) NewPluginContext(uint32) proxywasm.PluginContext { return &plugin{} }

type plugin struct{ proxywasm.DefaultPluginContext }

func (*plugin) OnPluginStart(int) bool {
	proxywasm.LogInfo("x")
	proxywasm.Log(proxywasm.LogLevelWarn, []byte("x"))
	proxywasm.GetLogLevel()
	proxywasm.GetCurrentTimeNanoseconds()
	proxywasm.SetTickPeriodMilliSeconds(1)
	proxywasm.SetEffectiveContext(1)
	proxywasm.Done()
	proxywasm.GetPluginConfiguration()
	proxywasm.GetHttpRequestHeaders()
	proxywasm.GetHttpRequestHeader("a")
	proxywasm.ReplaceHttpRequestHeader("a", "b")
	proxywasm.RemoveHttpRequestHeader("a")
	proxywasm.AddHttpRequestHeader("a", "b")
	proxywasm.SetHttpRequestHeaders(nil)
	proxywasm.GetHttpRequestBody(0, 1)
	proxywasm.ReplaceHttpRequestBody(nil)
	proxywasm.AppendDownstreamData(nil)
	proxywasm.PrependUpstreamData(nil)
	proxywasm.ContinueHttpRequest()
	proxywasm.CloseDownstream()
	proxywasm.SendHttpResponse(403, nil, nil, -1)
	proxywasm.DispatchHttpCall("c", nil, nil, nil, 1, func(int, int, int) {})
	proxywasm.GetStatus()
	proxywasm.GetSharedData("k")
	proxywasm.SetSharedData("k", nil, 0)
	c, _ := proxywasm.DefineCounterMetric("c")
	c.Increment(1)
	c.Value()
	g, _ := proxywasm.DefineGaugeMetric("g")
	g.Set(1)
	proxywasm.GetProperty([]string{"a"})
	proxywasm.SetProperty([]string{"a"}, nil)
	return true
}
