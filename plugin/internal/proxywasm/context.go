package proxywasm

// VMContext is the plugin's entry point, registered with SetVMContext from init(). One exists
// per VM (per Envoy worker thread); it creates one PluginContext per root context.
type VMContext interface {
	// OnVMStart is called by proxy_on_vm_start. Read the VM configuration with
	// GetVMConfiguration. Returning false fails the VM.
	OnVMStart(vmConfigurationSize int) bool
	// NewPluginContext is called by proxy_on_context_create with parent 0.
	NewPluginContext(contextID uint32) PluginContext
}

// PluginContext is a root context: it owns the configuration, the tick timer, the
// http-call callbacks and creates stream contexts.
type PluginContext interface {
	// OnPluginStart is called by proxy_on_configure. Read the configuration with
	// GetPluginConfiguration. Returning false rejects the configuration.
	OnPluginStart(pluginConfigurationSize int) bool
	// OnPluginDone is called by proxy_on_done on the root context. Returning false defers
	// the shutdown until the plugin calls Done.
	OnPluginDone() bool
	// OnTick is called by proxy_on_tick, every SetTickPeriodMilliSeconds.
	OnTick()
	// NewHttpContext is called on the first HTTP callback of a stream context. A nil
	// result makes every HTTP callback of that stream answer Continue.
	NewHttpContext(contextID uint32) HttpContext
	// NewTcpContext is called on the first L4 callback of a stream context. A nil result
	// makes every L4 callback of that stream answer Continue.
	NewTcpContext(contextID uint32) TcpContext
}

// HttpContext handles one HTTP stream (an Envoy HTTP filter instance).
type HttpContext interface {
	OnHttpRequestHeaders(numHeaders int, endOfStream bool) Action
	OnHttpRequestBody(bodySize int, endOfStream bool) Action
	OnHttpRequestTrailers(numTrailers int) Action
	OnHttpResponseHeaders(numHeaders int, endOfStream bool) Action
	OnHttpResponseBody(bodySize int, endOfStream bool) Action
	OnHttpResponseTrailers(numTrailers int) Action
	// OnHttpStreamDone is called once, by proxy_on_done or else proxy_on_delete.
	OnHttpStreamDone()
}

// TcpContext handles one L4 connection (an Envoy network filter instance).
type TcpContext interface {
	OnNewConnection() Action
	OnDownstreamData(dataSize int, endOfStream bool) Action
	OnDownstreamClose(peer PeerType)
	OnUpstreamData(dataSize int, endOfStream bool) Action
	OnUpstreamClose(peer PeerType)
	// OnStreamDone is called once, by proxy_on_done or else proxy_on_delete.
	OnStreamDone()
}

// DefaultVMContext is an embeddable VMContext: OnVMStart succeeds and plugin contexts are
// DefaultPluginContext.
type DefaultVMContext struct{}

// DefaultPluginContext is an embeddable PluginContext that accepts any configuration and
// creates no stream contexts.
type DefaultPluginContext struct{}

// DefaultHttpContext is an embeddable HttpContext whose callbacks all Continue.
type DefaultHttpContext struct{}

// DefaultTcpContext is an embeddable TcpContext whose callbacks all Continue.
type DefaultTcpContext struct{}

// OnVMStart implements VMContext.
func (*DefaultVMContext) OnVMStart(int) bool { return true }

// NewPluginContext implements VMContext.
func (*DefaultVMContext) NewPluginContext(uint32) PluginContext { return &DefaultPluginContext{} }

// OnPluginStart implements PluginContext.
func (*DefaultPluginContext) OnPluginStart(int) bool { return true }

// OnPluginDone implements PluginContext.
func (*DefaultPluginContext) OnPluginDone() bool { return true }

// OnTick implements PluginContext.
func (*DefaultPluginContext) OnTick() {}

// NewHttpContext implements PluginContext.
func (*DefaultPluginContext) NewHttpContext(uint32) HttpContext { return nil }

// NewTcpContext implements PluginContext.
func (*DefaultPluginContext) NewTcpContext(uint32) TcpContext { return nil }

// OnHttpRequestHeaders implements HttpContext.
func (*DefaultHttpContext) OnHttpRequestHeaders(int, bool) Action { return ActionContinue }

// OnHttpRequestBody implements HttpContext.
func (*DefaultHttpContext) OnHttpRequestBody(int, bool) Action { return ActionContinue }

// OnHttpRequestTrailers implements HttpContext.
func (*DefaultHttpContext) OnHttpRequestTrailers(int) Action { return ActionContinue }

// OnHttpResponseHeaders implements HttpContext.
func (*DefaultHttpContext) OnHttpResponseHeaders(int, bool) Action { return ActionContinue }

// OnHttpResponseBody implements HttpContext.
func (*DefaultHttpContext) OnHttpResponseBody(int, bool) Action { return ActionContinue }

// OnHttpResponseTrailers implements HttpContext.
func (*DefaultHttpContext) OnHttpResponseTrailers(int) Action { return ActionContinue }

// OnHttpStreamDone implements HttpContext.
func (*DefaultHttpContext) OnHttpStreamDone() {}

// OnNewConnection implements TcpContext.
func (*DefaultTcpContext) OnNewConnection() Action { return ActionContinue }

// OnDownstreamData implements TcpContext.
func (*DefaultTcpContext) OnDownstreamData(int, bool) Action { return ActionContinue }

// OnDownstreamClose implements TcpContext.
func (*DefaultTcpContext) OnDownstreamClose(PeerType) {}

// OnUpstreamData implements TcpContext.
func (*DefaultTcpContext) OnUpstreamData(int, bool) Action { return ActionContinue }

// OnUpstreamClose implements TcpContext.
func (*DefaultTcpContext) OnUpstreamClose(PeerType) {}

// OnStreamDone implements TcpContext.
func (*DefaultTcpContext) OnStreamDone() {}

var (
	_ VMContext     = (*DefaultVMContext)(nil)
	_ PluginContext = (*DefaultPluginContext)(nil)
	_ HttpContext   = (*DefaultHttpContext)(nil)
	_ TcpContext    = (*DefaultTcpContext)(nil)
)
