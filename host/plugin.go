package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/iotauthz/iotauthz/host/internal/wasmbin"
)

// Plugin is a loaded proxy-wasm plugin: one compiled module, its worker VMs
// and what they share (shared data of the vm_id, metrics, logs).
//
// Several plugins may share one set of VMs, as Envoy runs every plugin with
// the same vm_id, VM configuration and code in one VM per worker: see Join.
type Plugin struct {
	*vmGroup
	cfg       Config
	clock     Clock
	workers   []*VM
	shared    *SharedData
	closeOnce sync.Once
}

// vmGroup is what the plugins of one set of VMs share: the runtime and
// compiled module, the stats scope (Envoy defines a module's metrics on its
// Wasm, not per plugin), the logs, the connection-id sequence.
type vmGroup struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	abi      string
	module   []byte // the code, for Join's vm key check
	owner    *Plugin
	metrics  metricStore

	logMu sync.Mutex
	logs  []LogEntry

	moduleSeq  atomic.Uint64
	clientOnce sync.Once
	httpClient *http.Client
	connSeq    atomic.Uint64

	mu      sync.Mutex
	members int // plugins not yet closed
}

// compilationCache is shared by every Plugin of the process: a module is
// compiled to machine code once and instantiated per VM.
var compilationCache = wazero.NewCompilationCache()

// New loads cfg.Module the way Envoy does and returns the running plugin:
//
//  1. the ABI version marker export must be present (proxy_abi_version_0_2_1,
//     _0_2_0 or _0_1_0), else "Missing or unknown Proxy-Wasm ABI version";
//  2. every import must be one the profile provides, else "Failed to load Wasm
//     module due to a missing import: <module>.<name>";
//  3. the module must export proxy_on_memory_allocate (or malloc);
//  4. the configuration canary VM starts (_initialize, then main or
//     __main_void), creates the root context, runs proxy_on_vm_start and
//     proxy_on_configure, and is discarded;
//  5. cfg.Workers VMs do the same, each with its own root context.
//
// Any failure (a trap, proxy_on_vm_start or proxy_on_configure returning
// false) makes New return an error; nothing keeps running.
func New(ctx context.Context, cfg Config) (*Plugin, error) {
	if cfg.Profile == "" {
		cfg.Profile = Envoy133
	}
	if cfg.Profile != Envoy133 && cfg.Profile != Envoy139 {
		return nil, fmt.Errorf("host: unknown profile %q", cfg.Profile)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.BufferLimit == 0 {
		cfg.BufferLimit = 1 << 20
	}
	p := &Plugin{vmGroup: &vmGroup{module: cfg.Module, members: 1}, cfg: cfg, clock: cfg.Clock}
	p.owner = p
	if p.clock == nil {
		p.clock = RealClock()
	}
	for name, c := range cfg.Clusters {
		if (c.Handler == nil) == (c.URL == "") {
			return nil, fmt.Errorf("host: cluster %q: set exactly one of Handler and URL", name)
		}
	}
	if err := validateRoutes(&cfg); err != nil {
		return nil, err
	}
	// Like Envoy, read the ABI version and the imports from the bytecode
	// before compiling anything.
	imports, exports, err := wasmbin.Sections(cfg.Module)
	if err != nil {
		return nil, fmt.Errorf("Failed to load Wasm module: %w", err)
	}
	exported := map[string]bool{}
	for _, e := range exports {
		if e.Kind == wasmbin.KindFunc {
			exported[e.Name] = true
		}
	}
	switch {
	case exported["proxy_abi_version_0_2_1"]:
		p.abi = "0.2.1"
	case exported["proxy_abi_version_0_2_0"]:
		p.abi = "0.2.0"
	case exported["proxy_abi_version_0_1_0"]:
		p.abi = "0.1.0"
	default:
		return nil, errors.New("Missing or unknown Proxy-Wasm ABI version")
	}
	mods := p.hostModules()
	if err := checkImportNames(imports, mods); err != nil {
		return nil, err
	}
	if !exported["malloc"] && !exported["proxy_on_memory_allocate"] {
		return nil, errMissingAllocator
	}
	cache := cfg.CompilationCache
	if cache == nil {
		cache = compilationCache
	}
	p.rt = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	ok := false
	defer func() {
		if !ok {
			p.rt.Close(ctx)
		}
	}()
	compiled, err := p.rt.CompileModule(ctx, cfg.Module)
	if err != nil {
		return nil, fmt.Errorf("Failed to load Wasm module: %w", err)
	}
	p.compiled = compiled
	if err := checkImports(compiled, mods); err != nil {
		return nil, err
	}
	if !hasAllocator(compiled.ExportedFunctions()) {
		return nil, errMissingAllocator
	}
	for _, m := range mods {
		if _, err := m.instantiate(ctx, p.rt); err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
	}

	p.shared = acquireSharedData(cfg.VMID)
	canary, err := p.newVM(ctx, -1)
	if err == nil {
		err = canary.startErr(func() error { return canary.startRoot() })
		canary.kill(ctx)
	}
	if err != nil {
		releaseSharedData(cfg.VMID)
		return nil, err
	}
	for i := 0; i < cfg.Workers; i++ {
		vm, err := p.newVM(ctx, i)
		if err == nil {
			err = vm.startErr(func() error { return vm.startRoot() })
		}
		if err != nil {
			if vm != nil {
				vm.kill(ctx)
			}
			for _, w := range p.workers {
				w.kill(ctx)
			}
			releaseSharedData(cfg.VMID)
			return nil, fmt.Errorf("worker %d: %w", i, err)
		}
		p.workers = append(p.workers, vm)
	}
	ok = true
	return p, nil
}

// MustNew is New that panics on error.
func MustNew(ctx context.Context, cfg Config) *Plugin {
	p, err := New(ctx, cfg)
	if err != nil {
		panic(err)
	}
	return p
}

var errMissingAllocator = errors.New("Wasm module is missing proxy_on_memory_allocate (or malloc) (i32) -> i32")

// checkImportNames is the name half of Envoy's link step, done on the
// bytecode: a function import the profile lacks, or any memory, table or
// global import, fails the load.
func checkImportNames(imports []wasmbin.Import, mods []*hostModule) error {
	known := map[string]bool{}
	for _, m := range mods {
		for _, f := range m.funcs {
			known[m.name+"."+f.name] = true
		}
	}
	for _, im := range imports {
		if im.Kind != wasmbin.KindFunc || !known[im.Module+"."+im.Name] {
			return fmt.Errorf("Failed to load Wasm module due to a missing import: %s.%s", im.Module, im.Name)
		}
	}
	return nil
}

func hasAllocator(exp map[string]api.FunctionDefinition) bool {
	for _, name := range []string{"malloc", "proxy_on_memory_allocate"} {
		if d := exp[name]; d != nil {
			pt, rt := d.ParamTypes(), d.ResultTypes()
			if len(pt) == 1 && pt[0] == api.ValueTypeI32 && len(rt) == 1 && rt[0] == api.ValueTypeI32 {
				return true
			}
		}
	}
	return false
}

// newVM instantiates the module and runs its start functions.
func (p *Plugin) newVM(ctx context.Context, index int) (*VM, error) {
	name := fmt.Sprintf("vm-%d", p.moduleSeq.Add(1))
	mod, err := p.rt.InstantiateModule(withLinearMemory(ctx), p.compiled, wazero.NewModuleConfig().WithName(name).WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("Failed to instantiate Wasm module: %w", err)
	}
	vm := &VM{p: p, instance: &instance{
		index:         index,
		mod:           mod,
		mem:           mod.Memory(),
		contexts:      map[uint32]*vmContext{},
		nextContextID: 1,
		calls:         map[uint32]*httpCall{},
		metricIDs:     map[uint32]*metric{},
		nextMetricID:  [3]uint32{0, 1, 2},
		plugins:       1,
	}}
	vm.cond = sync.NewCond(&vm.mu)
	vm.ctx = context.WithValue(context.Background(), vmKey{}, vm)
	if vm.mem == nil {
		_ = mod.Close(ctx)
		return nil, errors.New("Wasm module exports no memory")
	}
	vm.lookupExports()
	if err := vm.startErr(vm.startModule); err != nil {
		_ = mod.Close(ctx)
		return nil, err
	}
	return vm, nil
}

func (vm *VM) startErr(f func() error) error {
	var err error
	if rerr := vm.run(func() { err = f() }); rerr != nil {
		return rerr
	}
	return err
}

// kill discards a VM without calling it (the canary, or a failed start).
func (vm *VM) kill(ctx context.Context) {
	_ = vm.run(func() {
		vm.cancelTimers()
		_ = vm.mod.Close(ctx)
		vm.failed = ErrClosed
	})
	vm.mu.Lock()
	vm.closed = true
	vm.mu.Unlock()
}

// Close stops the plugin on every worker: proxy_on_done and proxy_on_delete
// on its root context, its pending HTTP calls and timer cancelled. An
// instance closes with the last plugin in it (see Join); the shared data of
// the vm_id is dropped when its last plugin closes.
func (p *Plugin) Close() error {
	p.closeOnce.Do(func() {
		ctx := context.Background()
		for _, w := range p.workers {
			w.close(ctx)
		}
		releaseSharedData(p.cfg.VMID)
		p.vmGroup.mu.Lock()
		p.members--
		last := p.members == 0
		p.vmGroup.mu.Unlock()
		if last {
			_ = p.rt.Close(ctx)
		}
	})
	return nil
}

// Join starts another plugin in p's VMs, as Envoy does for a plugin whose
// vm_id, VM configuration and code equal those of a running one: one module
// instance per worker serves both, so they share the module's globals, and
// each plugin gets its own root context in every instance, with the
// instance's next context id (2 for the second plugin of a fresh VM).
// Envoy first checks the plugin's configuration on a canary instance of its
// own; so does Join.
//
// Only the plugin's own fields of cfg are read: RootID, PluginName,
// PluginConfig and FailOpen. Module, VMID and VMConfig must be empty or
// equal p's (Envoy would otherwise give the plugin a VM of its own: use New).
// Everything else (profile, workers, clock, clusters, environment, logs,
// limits) is p's: in Envoy those belong to the process or to the VM.
//
// The VMs share their stats (Metric answers the same for both plugins) and
// their log; each plugin has its own timer, HTTP-call callbacks (delivered
// to its root context) and properties plugin_name and plugin_root_id. The
// instances close when the last of their plugins closes.
//
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/wasm.cc (makeVmKey, WasmBase::start)
// See https://github.com/envoyproxy/envoy/blob/main/source/extensions/common/wasm/wasm.cc (createWasm: vm_key)
func (p *Plugin) Join(ctx context.Context, cfg Config) (*Plugin, error) {
	if cfg.VMID != "" && cfg.VMID != p.cfg.VMID ||
		cfg.VMConfig != nil && !bytes.Equal(cfg.VMConfig, p.cfg.VMConfig) ||
		cfg.Module != nil && !bytes.Equal(cfg.Module, p.module) {
		return nil, errors.New("host: Join: vm_id, VM configuration and code must equal the running plugin's (Envoy gives another vm key its own VM)")
	}
	own := p.owner.cfg
	own.RootID, own.PluginName, own.PluginConfig, own.FailOpen = cfg.RootID, cfg.PluginName, cfg.PluginConfig, cfg.FailOpen
	q := &Plugin{vmGroup: p.vmGroup, cfg: own, clock: p.clock}
	p.vmGroup.mu.Lock()
	if p.members == 0 {
		p.vmGroup.mu.Unlock()
		return nil, ErrClosed
	}
	p.members++
	p.vmGroup.mu.Unlock()
	q.shared = acquireSharedData(own.VMID)
	fail := func(err error) (*Plugin, error) {
		for _, w := range q.workers {
			w.close(ctx)
		}
		releaseSharedData(own.VMID)
		p.vmGroup.mu.Lock()
		p.members--
		p.vmGroup.mu.Unlock()
		return nil, err
	}
	// createPluginCanary: a fresh instance starts and configures the plugin,
	// then is discarded.
	canary, err := q.newVM(ctx, -1)
	if err == nil {
		err = canary.startErr(func() error { return canary.startRoot() })
		canary.kill(ctx)
	}
	if err != nil {
		return fail(err)
	}
	for i, w := range p.owner.workers {
		vm := &VM{instance: w.instance, p: q}
		joined := false
		err := vm.startErr(func() error {
			if vm.failed != nil {
				return vm.failed
			}
			vm.plugins++
			joined = true
			return vm.startRoot()
		})
		if joined {
			q.workers = append(q.workers, vm)
		}
		if err != nil {
			return fail(fmt.Errorf("worker %d: %w", i, err))
		}
	}
	return q, nil
}

// Worker returns worker VM i (0 ≤ i < Workers).
func (p *Plugin) Worker(i int) *VM { return p.workers[i] }

// Workers is the number of worker VMs.
func (p *Plugin) Workers() int { return len(p.workers) }

// ABIVersion is the ABI the module declared: "0.2.1", "0.2.0" or "0.1.0".
func (p *Plugin) ABIVersion() string { return p.abi }

// Profile is the Envoy profile the plugin runs under.
func (p *Plugin) Profile() Profile { return p.cfg.Profile }

// SharedData is the store of the plugin's vm_id, shared with every plugin of
// the process that has the same vm_id.
func (p *Plugin) SharedData() *SharedData { return p.shared }

// Settle waits until every worker is idle (see VM.Settle).
func (p *Plugin) Settle(ctx context.Context) error {
	for _, w := range p.workers {
		if err := w.Settle(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Logs returns a copy of the log lines kept so far, in order.
func (p *Plugin) Logs() []LogEntry {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return append([]LogEntry(nil), p.logs...)
}

// LogMessages returns the messages of the kept lines at exactly level l.
func (p *Plugin) LogMessages(l LogLevel) []string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	var out []string
	for _, e := range p.logs {
		if e.Level == l {
			out = append(out, e.Message)
		}
	}
	return out
}

// ResetLogs forgets the kept log lines.
func (p *Plugin) ResetLogs() {
	p.logMu.Lock()
	p.logs = nil
	p.logMu.Unlock()
}

func (p *Plugin) log(vm *VM, level LogLevel, msg string) {
	if level < p.cfg.LogLevel {
		return
	}
	e := LogEntry{Level: level, Message: msg, Worker: vm.index}
	p.logMu.Lock()
	p.logs = append(p.logs, e)
	p.logMu.Unlock()
	if p.cfg.LogSink != nil {
		p.cfg.LogSink(e)
	}
}

func (p *Plugin) logf(vm *VM, level LogLevel, format string, args ...any) {
	p.log(vm, level, fmt.Sprintf(format, args...))
}

// Metric returns the value of a counter or gauge by its full name,
// "wasmcustom.<name>" as the guest defined "<name>".
func (p *Plugin) Metric(name string) (int64, bool) {
	return p.metrics.get(name)
}

// Metrics returns every counter and gauge by full name.
func (p *Plugin) Metrics() map[string]int64 { return p.metrics.all() }

// Histogram returns the values recorded into a histogram, by full name.
func (p *Plugin) Histogram(name string) ([]uint64, bool) { return p.metrics.histogram(name) }

// checkImports refuses what Envoy's linker refuses: any function import the
// host does not register (or registers with another signature), and any
// memory, table or global import.
func checkImports(c wazero.CompiledModule, mods []*hostModule) error {
	known := map[string]*hostFunc{}
	for _, m := range mods {
		for i := range m.funcs {
			f := &m.funcs[i]
			known[m.name+"."+f.name] = f
		}
	}
	for _, d := range c.ImportedFunctions() {
		mod, name, _ := d.Import()
		f := known[mod+"."+name]
		if f == nil {
			return fmt.Errorf("Failed to load Wasm module due to a missing import: %s.%s", mod, name)
		}
		if !sameTypes(d.ParamTypes(), f.params) || !sameTypes(d.ResultTypes(), f.results) {
			return fmt.Errorf("Failed to load Wasm module due to an import type mismatch: %s.%s, want: %s, but host exports: %s",
				mod, name, sig(d.ParamTypes(), d.ResultTypes()), sig(f.params, f.results))
		}
	}
	for _, d := range c.ImportedMemories() {
		mod, name, _ := d.Import()
		return fmt.Errorf("Failed to load Wasm module due to a missing import: %s.%s", mod, name)
	}
	return nil
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sig(params, results []api.ValueType) string {
	n := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, ",") + ")"
	}
	return n(params) + " -> " + n(results)
}

// hostModule is one import module (env, wasi_snapshot_preview1,
// wasi_unstable) as the profile defines it.
type hostModule struct {
	name  string
	funcs []hostFunc
}

type hostFunc struct {
	name            string
	params, results []api.ValueType
	paramNames      []string
	allowStart      bool // allowed during _initialize
	allowMalloc     bool // allowed inside proxy_on_memory_allocate
	fn              func(vm *VM, stack []uint64)
}

func (m *hostModule) instantiate(ctx context.Context, rt wazero.Runtime) (api.Module, error) {
	b := rt.NewHostModuleBuilder(m.name)
	sort.Slice(m.funcs, func(i, j int) bool { return m.funcs[i].name < m.funcs[j].name })
	for i := range m.funcs {
		f := &m.funcs[i]
		b.NewFunctionBuilder().
			WithGoModuleFunction(f.wrap(m.name), f.params, f.results).
			WithParameterNames(f.paramNames...).
			Export(f.name)
	}
	return b.Instantiate(ctx)
}

// wrap enforces Envoy's restricted phases: outside the allowed list the call
// traps the VM with "restricted_callback".
func (f *hostFunc) wrap(module string) api.GoModuleFunc {
	full := module + "." + f.name
	allowStart, allowMalloc, fn := f.allowStart, f.allowMalloc, f.fn
	return func(ctx context.Context, _ api.Module, stack []uint64) {
		vm := ctx.Value(vmKey{}).(*VM)
		if vm.phase != phaseNormal {
			if (vm.phase == phaseStart && !allowStart) || (vm.phase == phaseMalloc && !allowMalloc) {
				panic(&restrictedError{fn: full, phase: vm.phase})
			}
		}
		fn(vm, stack)
	}
}

var _ io.Closer = (*Plugin)(nil)
