//go:build !wasm

package proxytest_test

import (
	"fmt"

	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm/proxytest"
)

type exampleVM struct{ proxywasm.DefaultVMContext }

func (*exampleVM) NewPluginContext(uint32) proxywasm.PluginContext { return &examplePlugin{} }

type examplePlugin struct{ proxywasm.DefaultPluginContext }

func (*examplePlugin) NewHttpContext(uint32) proxywasm.HttpContext { return &exampleHTTP{} }

type exampleHTTP struct{ proxywasm.DefaultHttpContext }

func (*exampleHTTP) OnHttpRequestHeaders(int, bool) proxywasm.Action {
	if v, err := proxywasm.GetHttpRequestHeader("x-token"); err != nil || v != "secret" {
		proxywasm.SendHttpResponse(401, nil, []byte("no"), -1)
		return proxywasm.ActionPause
	}
	proxywasm.LogInfo("allowed")
	return proxywasm.ActionContinue
}

func Example() {
	emu := proxytest.New(proxytest.Options{VMContext: &exampleVM{}})
	defer emu.Close()
	if err := emu.Start(); err != nil {
		panic(err)
	}

	s := emu.NewHTTPStream(nil)
	fmt.Println(s.RequestHeaders([][2]string{{":path", "/"}, {"x-token", "secret"}}, true))
	fmt.Println(s.Upstream().HeadersSent, emu.LogsAt(proxywasm.LogLevelInfo))

	s = emu.NewHTTPStream(nil)
	s.RequestHeaders([][2]string{{":path", "/"}}, true)
	fmt.Println(s.LocalResponse().Status, string(s.Client().Body))
	// Output:
	// 0
	// true [allowed]
	// 401 no
}
