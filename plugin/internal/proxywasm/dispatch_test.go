package proxywasm

import (
	"reflect"
	"testing"
)

// recorder is a plugin that writes down every callback it gets.
type recorder struct {
	DefaultVMContext
	events []string
}

func (r *recorder) add(s string) { r.events = append(r.events, s) }

func (r *recorder) OnVMStart(n int) bool { r.add("vm_start"); return n != 13 }
func (r *recorder) NewPluginContext(id uint32) PluginContext {
	r.add("new_plugin")
	return &recPlugin{r: r}
}

type recPlugin struct {
	DefaultPluginContext
	r *recorder
}

func (p *recPlugin) OnPluginStart(n int) bool { p.r.add("configure"); return true }
func (p *recPlugin) OnTick()                  { p.r.add("tick") }
func (p *recPlugin) NewHttpContext(id uint32) HttpContext {
	p.r.add("new_http")
	return &recHTTP{r: p.r}
}
func (p *recPlugin) NewTcpContext(id uint32) TcpContext {
	p.r.add("new_tcp")
	return &recTCP{r: p.r}
}

type recHTTP struct {
	DefaultHttpContext
	r *recorder
}

func (h *recHTTP) OnHttpRequestHeaders(int, bool) Action { h.r.add("req_headers"); return ActionPause }
func (h *recHTTP) OnHttpStreamDone()                     { h.r.add("http_done") }

type recTCP struct {
	DefaultTcpContext
	r *recorder
}

func (c *recTCP) OnNewConnection() Action { c.r.add("new_connection"); return ActionContinue }
func (c *recTCP) OnDownstreamData(n int, eos bool) Action {
	c.r.add("downstream")
	return ActionPause
}
func (c *recTCP) OnStreamDone() { c.r.add("tcp_done") }

func TestDispatch_LazyTypedContexts(t *testing.T) {
	r := &recorder{}
	SetVMContext(r)
	t.Cleanup(func() { resetState(); SetVMContext(nil) })

	proxyOnContextCreate(1, 0)
	if proxyOnVMStart(1, 0) != 1 || proxyOnConfigure(1, 0) != 1 {
		t.Fatal("start failed")
	}
	proxyOnTick(1)

	// Stream 2 becomes TCP on its first L4 callback; HTTP callbacks then do nothing.
	proxyOnContextCreate(2, 1)
	if got := proxyOnNewConnection(2); got != 0 {
		t.Fatalf("new connection = %d", got)
	}
	if got := proxyOnDownstreamData(2, 10, 0); got != 1 {
		t.Fatalf("downstream = %d, want pause", got)
	}
	if got := proxyOnRequestHeaders(2, 1, 0); got != 0 {
		t.Fatalf("HTTP callback on a TCP stream = %d", got)
	}
	// Stream 3 becomes HTTP on its first HTTP callback.
	proxyOnContextCreate(3, 1)
	if got := proxyOnRequestHeaders(3, 1, 1); got != 1 {
		t.Fatalf("request headers = %d, want pause", got)
	}
	if got := proxyOnDownstreamData(3, 1, 0); got != 0 {
		t.Fatalf("L4 callback on an HTTP stream = %d", got)
	}
	// Done then delete: the done callback runs once, and no typed callback follows it (a plugin
	// may reuse a finished context): a late headers callback answers Continue unseen.
	proxyOnDone(3)
	if got := proxyOnRequestHeaders(3, 1, 1); got != 0 {
		t.Fatalf("request headers after done = %d, want continue", got)
	}
	proxyOnDelete(3)
	proxyOnDelete(2)
	// Stream 4 never gets a typed callback: done/delete are no-ops.
	proxyOnContextCreate(4, 1)
	proxyOnDone(4)
	proxyOnDelete(4)
	// Unknown contexts answer Continue.
	if proxyOnRequestBody(99, 1, 0) != 0 || proxyOnUpstreamData(99, 1, 0) != 0 {
		t.Fatal("unknown context should continue")
	}
	proxyOnHttpCallResponse(1, 42, 0, 0, 0) // no such call: ignored
	proxyOnDownstreamConnectionClose(99, 1)

	want := []string{"new_plugin", "vm_start", "configure", "tick",
		"new_tcp", "new_connection", "downstream",
		"new_http", "req_headers", "http_done",
		"tcp_done"}
	if !reflect.DeepEqual(r.events, want) {
		t.Fatalf("events\n got %q\nwant %q", r.events, want)
	}
	if state.streams.len() != 0 {
		t.Fatalf("streams left: %d", state.streams.len())
	}
	if proxyOnDone(1) != 1 {
		t.Fatal("root done")
	}
	proxyOnDelete(1)
	if len(state.roots) != 0 {
		t.Fatal("root not deleted")
	}
}

func TestDispatch_VMStartFails(t *testing.T) {
	SetVMContext(&recorder{})
	t.Cleanup(func() { resetState(); SetVMContext(nil) })
	proxyOnContextCreate(1, 0)
	if proxyOnVMStart(1, 13) != 0 {
		t.Fatal("OnVMStart false must give 0")
	}
	if proxyOnConfigure(7, 0) != 0 {
		t.Fatal("configure of an unknown root must fail")
	}
}

// Without a registered VM the module still answers every callback.
func TestDispatch_NoVMContext(t *testing.T) {
	SetVMContext(nil)
	t.Cleanup(resetState)
	proxyOnContextCreate(1, 0)
	proxyOnContextCreate(2, 1)
	if proxyOnVMStart(1, 0) != 1 || proxyOnConfigure(1, 0) != 1 ||
		proxyOnRequestHeaders(2, 0, 1) != 0 || proxyOnNewConnection(2) != 0 {
		t.Fatal("defaults should accept and continue")
	}
}
