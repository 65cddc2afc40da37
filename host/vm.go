package host

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// VM is one worker's instance of the module as one plugin sees it. Envoy
// runs every plugin with the same vm_id, VM configuration and code in one
// instance per worker (see Plugin.Join): each plugin then has its own VM
// handle and root context over the shared instance. It is single-threaded
// like an Envoy worker: every call into the instance (stream callbacks,
// ticks, HTTP-call responses, of any plugin) runs one at a time. VM methods
// are safe for concurrent use; they wait their turn.
type VM struct {
	*instance
	p    *Plugin    // the plugin this handle serves
	root *vmContext // the plugin's root context in this instance
}

// instance is the module instance and its executor, shared by the VM
// handles of every plugin in it.
type instance struct {
	index int // -1: the configuration canary
	mod   api.Module
	mem   api.Memory
	ctx   context.Context // carries the first plugin's *VM to host functions

	ex         exports
	stack      [8]uint64
	allocStack [2]uint64
	pairsBuf   []byte // proxy_get_header_map_pairs serializes here before copying into the guest

	// Executor state, guarded by mu.
	mu       sync.Mutex
	cond     *sync.Cond
	running  bool
	queue    []func()
	inflight int
	closed   bool
	plugins  int // plugins still using the instance

	// The state below is touched only by the running task.
	phase          int
	failed         error
	contexts       map[uint32]*vmContext
	nextContextID  uint32
	current        *vmContext
	effective      uint32
	stopNext       bool
	deferred       []deferredAction
	deferHead      int     // the next deferred action to run
	configuring    *Plugin // the plugin in proxy_on_configure, if any
	nextHTTPCallID uint32
	calls          map[uint32]*httpCall
	metricIDs      map[uint32]*metric
	nextMetricID   [3]uint32
	nextConnID     uint64
}

const (
	phaseNormal = iota
	phaseStart
	phaseMalloc
)

type vmKey struct{}

type exports struct {
	initialize, main, mainVoid, start  api.Function
	malloc                             api.Function
	contextCreate, vmStart, configure  api.Function
	done, log, delete, tick            api.Function
	newConnection, downstreamData      api.Function
	upstreamData, downstreamClose      api.Function
	upstreamClose                      api.Function
	requestHeaders, requestBody        api.Function
	requestTrailers, responseHeaders   api.Function
	responseBody, responseTrailers     api.Function
	httpCallResponse, foreignFunction  api.Function
	queueReady, validateConfiguration  api.Function
	grpcClose, grpcReceive             api.Function
	grpcReceiveInitial, grpcReceiveTrl api.Function
}

// vmContext is a proxy-wasm context: the root context or a stream/connection.
type vmContext struct {
	id     uint32
	isRoot bool
	stream *HTTPStream
	conn   *Connection

	// root is the root context the context belongs to (itself for a root
	// context); plugin is its plugin.
	root   *vmContext
	plugin *Plugin

	// prototypes are the properties declared on this context with the
	// declare_property foreign function: path → read-only. proxy_set_property
	// consults its root context's.
	prototypes map[string]bool

	// Root only: the HTTP-call response being delivered, the status
	// proxy_get_status reports, and the tick timer (one per root context
	// per VM, as Envoy's Wasm::setTimerPeriod keys it by root context id).
	callResp  *callResponse
	status    uint32
	statusMsg string
	tick      struct {
		period time.Duration
		stop   func() bool
		gen    uint64
	}
}

// ErrClosed is returned by calls on a closed Plugin or VM.
var ErrClosed = errors.New("host: plugin closed")

// restrictedError is the trap of a call outside Envoy's allowed list during a
// restricted phase.
type restrictedError struct {
	fn    string
	phase int
}

func (e *restrictedError) Error() string {
	where := "module start (_initialize)"
	if e.phase == phaseMalloc {
		where = "proxy_on_memory_allocate"
	}
	return fmt.Sprintf("restricted_callback: %s is not allowed during %s", e.fn, where)
}

func (vm *VM) lookupExports() {
	f := func(name string) api.Function {
		if _, ok := vm.mod.ExportedFunctionDefinitions()[name]; !ok {
			return nil
		}
		return vm.mod.ExportedFunction(name)
	}
	e := &vm.ex
	e.initialize = f("_initialize")
	e.start = f("_start")
	if d, ok := vm.mod.ExportedFunctionDefinitions()["main"]; ok && len(d.ParamTypes()) == 2 && len(d.ResultTypes()) == 1 {
		e.main = vm.mod.ExportedFunction("main")
	}
	e.mainVoid = f("__main_void")
	e.malloc = f("malloc")
	if e.malloc == nil {
		e.malloc = f("proxy_on_memory_allocate")
	}
	e.contextCreate = f("proxy_on_context_create")
	e.vmStart = f("proxy_on_vm_start")
	e.configure = f("proxy_on_configure")
	e.validateConfiguration = f("proxy_validate_configuration")
	e.done = f("proxy_on_done")
	e.log = f("proxy_on_log")
	e.delete = f("proxy_on_delete")
	e.tick = f("proxy_on_tick")
	e.newConnection = f("proxy_on_new_connection")
	e.downstreamData = f("proxy_on_downstream_data")
	e.upstreamData = f("proxy_on_upstream_data")
	e.downstreamClose = f("proxy_on_downstream_connection_close")
	e.upstreamClose = f("proxy_on_upstream_connection_close")
	e.requestHeaders = f("proxy_on_request_headers")
	e.requestBody = f("proxy_on_request_body")
	e.requestTrailers = f("proxy_on_request_trailers")
	e.responseHeaders = f("proxy_on_response_headers")
	e.responseBody = f("proxy_on_response_body")
	e.responseTrailers = f("proxy_on_response_trailers")
	e.httpCallResponse = f("proxy_on_http_call_response")
	e.foreignFunction = f("proxy_on_foreign_function")
	e.queueReady = f("proxy_on_queue_ready")
	e.grpcClose = f("proxy_on_grpc_close")
	e.grpcReceive = f("proxy_on_grpc_receive")
	e.grpcReceiveInitial = f("proxy_on_grpc_receive_initial_metadata")
	e.grpcReceiveTrl = f("proxy_on_grpc_receive_trailing_metadata")
}

// ---- executor ----

// runGet is f's result, run as run runs it; the zero value once the VM is closed.
func runGet[T any](vm *VM, f func() T) T {
	var v T
	_ = vm.run(func() { v = f() })
	return v
}

// run executes f with exclusive use of the instance and returns when f (and
// any task that was queued meanwhile, if this goroutine drained them) is done.
func (vm *VM) run(f func()) error {
	vm.mu.Lock()
	if vm.closed {
		vm.mu.Unlock()
		return ErrClosed
	}
	if !vm.running {
		vm.running = true
		vm.mu.Unlock()
		f()
		vm.drain()
		return nil
	}
	done := make(chan struct{})
	vm.queue = append(vm.queue, func() { f(); close(done) })
	vm.mu.Unlock()
	<-done
	return nil
}

func (vm *VM) drain() {
	for {
		vm.mu.Lock()
		if len(vm.queue) == 0 {
			vm.running = false
			vm.cond.Broadcast()
			vm.mu.Unlock()
			return
		}
		t := vm.queue[0]
		vm.queue[0] = nil
		vm.queue = vm.queue[1:]
		vm.mu.Unlock()
		t()
	}
}

// post runs f on the instance after what is running, without waiting, as
// Envoy's dispatcher post does; Settle waits for it. On a closed instance f
// is dropped.
func (vm *VM) post(f func()) {
	vm.mu.Lock()
	if vm.closed {
		vm.mu.Unlock()
		return
	}
	vm.inflight++
	vm.mu.Unlock()
	go func() {
		_ = vm.run(f)
		vm.addInflight(-1)
	}()
}

func (vm *VM) addInflight(d int) {
	vm.mu.Lock()
	vm.inflight += d
	if vm.inflight == 0 {
		vm.cond.Broadcast()
	}
	vm.mu.Unlock()
}

// Settle waits until the VM is idle: no call running, none queued and no
// HTTP call waiting for its response or timeout. With a VirtualClock, an HTTP
// call whose upstream never answers keeps the VM busy until the clock is
// advanced past its timeout.
func (vm *VM) Settle(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		vm.mu.Lock()
		vm.cond.Broadcast()
		vm.mu.Unlock()
	})
	defer stop()
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for vm.running || len(vm.queue) > 0 || vm.inflight > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w (worker %d: running %v, queued %d, HTTP calls in flight %d)", err, vm.index, vm.running, len(vm.queue), vm.inflight)
		}
		vm.cond.Wait()
	}
	return nil
}

// Index is the worker index (0…Workers-1).
func (vm *VM) Index() int { return vm.index }

// Err reports why the VM failed (a trap), or nil.
func (vm *VM) Err() error { return runGet(vm, func() error { return vm.failed }) }

// MemorySize is the size in bytes of the instance's linear memory.
func (vm *VM) MemorySize() uint32 { return runGet(vm, func() uint32 { return vm.mem.Size() }) }

// RootContextID is the id of the VM's root (plugin) context.
func (vm *VM) RootContextID() uint32 { return vm.root.id }

// ---- calls into the guest ----

func (vm *VM) newContext() *vmContext {
	for {
		id := vm.nextContextID
		vm.nextContextID++
		if _, ok := vm.contexts[id]; !ok && id != 0 {
			c := &vmContext{id: id, root: vm.root, plugin: vm.p}
			vm.contexts[id] = c
			return c
		}
	}
}

// call invokes fn for context c at the top level (not re-entrantly). It
// returns ok=false when the function is absent or the VM has failed.
func (vm *VM) call(c *vmContext, fn api.Function, args ...uint64) (uint64, bool) {
	if fn == nil || vm.failed != nil {
		// An absent callback answers Continue (Envoy's Context::on* return
		// Continue when the module lacks the export); a local reply sent in
		// an earlier callback must not stop this one.
		vm.stopNext = false
		return 0, false
	}
	prev := vm.current
	vm.current = c
	vm.effective = 0
	vm.stopNext = false
	n := copy(vm.stack[:], args)
	_ = n
	err := fn.CallWithStack(vm.ctx, vm.stack[:])
	vm.current = prev
	vm.effective = 0
	if err != nil {
		vm.fail(err)
		return 0, false
	}
	return vm.stack[0], true
}

// runDeferred runs the actions Envoy defers until the current VM call has
// returned (continue/close stream, local replies).
func (vm *VM) runDeferred() {
	// In order; an action may run the queue itself (a local reply's callbacks do), which then
	// runs the rest. The queue keeps its array from call to call.
	for vm.deferHead < len(vm.deferred) {
		a := vm.deferred[vm.deferHead]
		vm.deferred[vm.deferHead] = deferredAction{}
		vm.deferHead++
		a.run()
	}
	vm.deferred, vm.deferHead = vm.deferred[:0], 0
}

// deferredAction is f, or (stream set) the local reply that proxy_send_local_response asked of
// stream, held here rather than in a closure.
type deferredAction struct {
	f      func()
	stream *HTTPStream
	reply  LocalReply
}

func (a *deferredAction) run() {
	if a.stream != nil {
		a.stream.sendLocalReply(a.reply)
		return
	}
	a.f()
}

func (vm *VM) defer_(f func()) { vm.deferred = append(vm.deferred, deferredAction{f: f}) }

func (vm *VM) fail(err error) {
	if vm.failed == nil {
		vm.failed = err
		vm.p.logf(vm, LogCritical, "Function failed: %v", err)
	}
	vm.cancelTimers()
}

// active is contextOrEffectiveContext().
func (vm *VM) active() *vmContext {
	if vm.effective != 0 {
		if c, ok := vm.contexts[vm.effective]; ok {
			return c
		}
	}
	if vm.current == nil {
		return vm.root
	}
	return vm.current
}

// activeRoot is contextOrEffectiveContext()->root_context(): where HTTP
// calls, timers and proxy_get_status belong.
func (vm *VM) activeRoot() *vmContext { return vm.active().root }

// ---- memory ----

func (vm *VM) read(ptr, size uint32) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	return vm.mem.Read(ptr, size)
}

func (vm *VM) readString(ptr, size uint32) (string, bool) {
	b, ok := vm.read(ptr, size)
	return string(b), ok
}

// written is the status of a host call whose last step writes its results to guest memory: OK,
// or InvalidMemoryAccess when a write fell outside it.
func written(ok bool) abi.Status {
	if !ok {
		return abi.StatusInvalidMemoryAccess
	}
	return abi.StatusOK
}

func (vm *VM) writeU32(ptr, v uint32) bool { return vm.mem.WriteUint32Le(ptr, v) }
func (vm *VM) writeU64(ptr uint32, v uint64) bool {
	return vm.mem.WriteUint64Le(ptr, v)
}

// allocate calls proxy_on_memory_allocate (or malloc) while the guest may be
// inside a host call, under Envoy's malloc restrictions. A trap inside the
// allocator propagates as a trap of the enclosing call.
func (vm *VM) allocate(size uint32) (uint32, bool) {
	prev := vm.phase
	vm.phase = phaseMalloc
	vm.allocStack[0] = uint64(size)
	err := vm.ex.malloc.CallWithStack(vm.ctx, vm.allocStack[:])
	vm.phase = prev
	if err != nil {
		panic(err)
	}
	ptr := uint32(vm.allocStack[0])
	if ptr == 0 {
		return 0, false
	}
	return ptr, true
}

// copyOut hands data to the guest in memory it allocates, writing the pointer
// and size; zero-length data gives ptr 0 and size 0 without an allocation.
func (vm *VM) copyOut(data []byte, ptrPtr, sizePtr uint32) abi.Status {
	if len(data) == 0 {
		return written(vm.writeU32(ptrPtr, 0) && vm.writeU32(sizePtr, 0))
	}
	ptr, ok := vm.allocate(uint32(len(data)))
	if !ok || !vm.mem.Write(ptr, data) {
		return abi.StatusInvalidMemoryAccess
	}
	return written(vm.writeU32(ptrPtr, ptr) && vm.writeU32(sizePtr, uint32(len(data))))
}

func u64le(v uint64) []byte {
	return binary.LittleEndian.AppendUint64(nil, v)
}

// ---- lifecycle ----

// startModule runs _initialize (then main or __main_void), or _start, under
// the restricted start-phase list.
func (vm *VM) startModule() error {
	vm.phase = phaseStart
	defer func() { vm.phase = phaseNormal }()
	callVoid := func(name string, fn api.Function, args ...uint64) error {
		if fn == nil {
			return nil
		}
		copy(vm.stack[:], args)
		if err := fn.CallWithStack(vm.ctx, vm.stack[:]); err != nil {
			vm.failed = err
			return fmt.Errorf("Wasm VM failed to start: %s: %w", name, err)
		}
		return nil
	}
	if vm.ex.initialize != nil {
		if err := callVoid("_initialize", vm.ex.initialize); err != nil {
			return err
		}
		if vm.ex.main != nil {
			return callVoid("main", vm.ex.main, 0, 0)
		}
		return callVoid("__main_void", vm.ex.mainVoid)
	}
	return callVoid("_start", vm.ex.start)
}

// startRoot creates the plugin's root context (the VM's next context id)
// and runs proxy_on_context_create, proxy_on_vm_start and
// proxy_on_configure on it, as WasmBase::start and configure do for each
// plugin of a VM (proxy-wasm-cpp-host src/wasm.cc, src/context.cc
// ContextBase::onStart, onConfigure).
func (vm *VM) startRoot() error {
	vm.root = vm.newContext()
	vm.root.isRoot = true
	vm.root.root = vm.root
	vm.root.plugin = vm.p
	if _, ok := vm.call(vm.root, vm.ex.contextCreate, uint64(vm.root.id), 0); !ok && vm.failed != nil {
		return fmt.Errorf("proxy_on_context_create: %w", vm.failed)
	}
	vm.runDeferred()
	if vm.ex.vmStart != nil {
		r, ok := vm.call(vm.root, vm.ex.vmStart, uint64(vm.root.id), uint64(len(vm.p.cfg.VMConfig)))
		vm.runDeferred()
		if !ok {
			return fmt.Errorf("Failed to start base Wasm: proxy_on_vm_start: %w", vm.failed)
		}
		if uint32(r) == 0 {
			return errors.New("Failed to start base Wasm: proxy_on_vm_start returned false")
		}
	}
	if vm.ex.configure != nil {
		vm.configuring = vm.p
		r, ok := vm.call(vm.root, vm.ex.configure, uint64(vm.root.id), uint64(len(vm.p.cfg.PluginConfig)))
		vm.configuring = nil
		vm.runDeferred()
		if !ok {
			return fmt.Errorf("Failed to configure base Wasm plugin: proxy_on_configure: %w", vm.failed)
		}
		if uint32(r) == 0 {
			return errors.New("Failed to configure base Wasm plugin: proxy_on_configure returned false")
		}
	}
	return nil
}

// deleteContext runs proxy_on_done, (proxy_on_log,) proxy_on_delete.
func (vm *VM) finishContext(c *vmContext, withLog bool, logFirst bool) {
	if withLog && logFirst {
		vm.call(c, vm.ex.log, uint64(c.id))
		vm.runDeferred()
	}
	vm.call(c, vm.ex.done, uint64(c.id))
	vm.runDeferred()
	if withLog && !logFirst {
		vm.call(c, vm.ex.log, uint64(c.id))
		vm.runDeferred()
	}
	vm.call(c, vm.ex.delete, uint64(c.id))
	vm.runDeferred()
	delete(vm.contexts, c.id)
}

func (vm *VM) cancelTimers() {
	for _, c := range vm.contexts {
		if c.isRoot {
			stopTick(c)
		}
	}
	for _, c := range vm.calls {
		vm.completeCall(c) // cancels it; Settle no longer waits for it
	}
}

func stopTick(root *vmContext) {
	root.tick.gen++
	if root.tick.stop != nil {
		root.tick.stop()
		root.tick.stop = nil
	}
}

// shutdown is WasmBase::startShutdown(plugin_key) for this handle's plugin:
// proxy_on_done and proxy_on_delete on its root context, its timer and HTTP
// calls cancelled. The last plugin to leave closes the instance. Called
// inside a task.
func (vm *VM) shutdown(ctx context.Context) {
	if vm.root != nil {
		stopTick(vm.root)
		for _, c := range vm.calls {
			if c.root == vm.root {
				vm.completeCall(c)
			}
		}
		if vm.failed == nil {
			vm.call(vm.root, vm.ex.done, uint64(vm.root.id))
			vm.runDeferred()
			vm.call(vm.root, vm.ex.delete, uint64(vm.root.id))
			vm.runDeferred()
		}
		delete(vm.contexts, vm.root.id)
	}
	vm.plugins--
	if vm.plugins > 0 {
		return
	}
	vm.cancelTimers()
	_ = vm.mod.Close(ctx)
	vm.failed = ErrClosed
}

func (vm *VM) close(ctx context.Context) {
	last := false
	_ = vm.run(func() {
		vm.shutdown(ctx)
		last = vm.plugins == 0
	})
	if last {
		vm.mu.Lock()
		vm.closed = true
		vm.mu.Unlock()
	}
}

// ---- ticks ----

// setTickPeriod is proxy_set_tick_period_milliseconds for the active root
// context: Envoy keys the timer by root context id (ContextBase::setTimerPeriod).
func (vm *VM) setTickPeriod(d time.Duration) {
	root := vm.activeRoot()
	stopTick(root)
	root.tick.period = d
	if d > 0 {
		vm.armTick(root, root.tick.gen)
	}
}

func (vm *VM) armTick(root *vmContext, gen uint64) {
	root.tick.stop = vm.p.clock.AfterFunc(root.tick.period, func() {
		_ = vm.run(func() {
			if root.tick.gen != gen || vm.failed != nil {
				return
			}
			root.tick.stop = nil
			vm.call(root, vm.ex.tick, uint64(root.id))
			vm.runDeferred()
			// Envoy re-arms after the tick, if the period still stands.
			if root.tick.gen == gen && root.tick.period > 0 && vm.failed == nil {
				vm.armTick(root, gen)
			}
		})
	})
}
