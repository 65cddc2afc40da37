//go:build !wasm

package proxytest

import (
	"errors"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm/internal/hostabi"
)

// Options configure an Emulator. The zero value is a plugin with no configuration on a
// virtual clock.
type Options struct {
	// PluginConfig is the plugin configuration (readable in OnPluginStart).
	PluginConfig []byte
	// VMConfig is the VM configuration (readable in OnVMStart).
	VMConfig []byte
	// Now returns the wall clock in Unix nanoseconds. Nil selects a virtual clock starting at
	// 2026-01-01T00:00:00Z that only SetNow and Advance move.
	Now func() int64
	// LogLevel is what proxy_get_log_level answers; messages below it are dropped.
	LogLevel proxywasm.LogLevel
	// Properties are plugin-wide properties by dotted path ("plugin_name"); raw bytes as a
	// string (integers: see Uint64Property). Stream properties take precedence.
	Properties map[string]string
	// Clusters, when non-nil, are the only clusters proxy_http_call accepts; a call to any
	// other fails with BadArgument, as Envoy does for an unknown cluster.
	Clusters []string
	// VMContext, when non-nil, is registered with proxywasm.SetVMContext by New; otherwise
	// the one the plugin registered in init() is used.
	VMContext proxywasm.VMContext
	// DiscardLogs drops log messages instead of keeping them (for benchmarks).
	DiscardLogs bool
}

// LogEntry is one proxy_log call.
type LogEntry struct {
	Level   proxywasm.LogLevel
	Message string
}

// String returns "level: message".
func (l LogEntry) String() string { return l.Level.String() + ": " + l.Message }

// HttpCall is a recorded proxy_http_call waiting for Respond, RespondReset or RespondTimeout.
type HttpCall struct {
	ID            uint32
	Cluster       string
	Headers       [][2]string
	Body          []byte
	Trailers      [][2]string
	Timeout       time.Duration // 0: none
	RootContextID uint32
}

// Header returns the first value of key in the call's headers.
func (c *HttpCall) Header(key string) string { v, _ := lookup(c.Headers, key); return v }

// ctxState is what the host knows of a context: its properties and what it is.
type ctxState struct {
	id    uint32
	props map[string]string
	owned bool // props is the emulator's own copy
	http  *HTTPStream
	conn  *Connection
}

type sharedEntry struct {
	value []byte
	cas   uint32
}

type stat struct {
	typ   proxywasm.MetricType
	value int64
	hist  []uint64
}

type callResponse struct {
	headers, trailers [][2]string
	body              []byte
}

const (
	phaseNone = iota
	phaseVMStart
	phaseConfigure
)

// Emulator is an in-process stand-in for Envoy running one plugin VM with one root context.
// It is not safe for concurrent use, and only one may be active per process: the binding's
// state is global, as inside a wasm VM. New replaces the previous one.
type Emulator struct {
	opts  Options
	guest *hostabi.Exports

	root     ctxState
	nextID   uint32
	contexts map[uint32]*ctxState
	cur      *ctxState // effective context
	phase    int
	started  bool

	virtualNow int64
	tickPeriod int64 // ns, 0: off
	nextTick   int64

	logs []LogEntry

	shared map[string]*sharedEntry
	cas    uint32

	metricDefs []*stat // by id-1
	stats      map[string]*stat

	calls     map[uint32]*HttpCall
	nextToken uint32
	callResp  *callResponse
	status    uint32
	statusMsg string

	dirty    []*ctxState
	settling bool
	pathBuf  []byte
	scratch  []byte
}

// New installs a new emulator as the host of the binding, dropping all binding state left by
// a previous one (Reset). Call Start next.
func New(opts Options) *Emulator {
	Reset()
	if opts.VMContext != nil {
		proxywasm.SetVMContext(opts.VMContext)
	}
	e := &Emulator{
		opts:       opts,
		guest:      &hostabi.Guest,
		nextID:     1,
		contexts:   make(map[uint32]*ctxState, 16),
		virtualNow: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		shared:     make(map[string]*sharedEntry),
		stats:      make(map[string]*stat),
		calls:      make(map[uint32]*HttpCall),
	}
	e.root.id = e.newID()
	e.root.props = opts.Properties
	e.contexts[e.root.id] = &e.root
	e.cur = &e.root
	hostabi.Current = (*host)(e)
	return e
}

// Reset uninstalls the current emulator and drops every context, pending http-call callback
// and pending allocation of the binding. The registered VMContext stays.
func Reset() {
	hostabi.Current = nil
	if hostabi.Guest.Reset != nil {
		hostabi.Guest.Reset()
	}
}

// LiveAllocations is the number of buffers the binding handed out through
// proxy_on_memory_allocate and has not taken back; 0 between calls.
func LiveAllocations() int { return hostabi.Guest.LiveAllocations() }

func (e *Emulator) newID() uint32 {
	id := e.nextID
	e.nextID++
	return id
}

// RootContextID is the id of the plugin's root context.
func (e *Emulator) RootContextID() uint32 { return e.root.id }

// Start runs Envoy's start sequence on the root context: proxy_on_context_create(root, 0),
// proxy_on_vm_start and proxy_on_configure. It fails when either returns false.
func (e *Emulator) Start() error {
	if e.started {
		return errors.New("proxytest: already started")
	}
	e.started = true
	e.call(&e.root, func() { e.guest.OnContextCreate(e.root.id, 0) })
	var ok uint32
	e.phase = phaseVMStart
	e.call(&e.root, func() { ok = e.guest.OnVMStart(e.root.id, uint32(len(e.opts.VMConfig))) })
	e.phase = phaseNone
	if ok == 0 {
		return errors.New("proxytest: proxy_on_vm_start returned false")
	}
	e.phase = phaseConfigure
	e.call(&e.root, func() { ok = e.guest.OnConfigure(e.root.id, uint32(len(e.opts.PluginConfig))) })
	e.phase = phaseNone
	e.settle()
	if ok == 0 {
		return errors.New("proxytest: proxy_on_configure returned false")
	}
	return nil
}

// Close ends every open stream and connection, then runs proxy_on_done and proxy_on_delete
// on the root context and uninstalls the emulator. It reports whether OnPluginDone agreed.
func (e *Emulator) Close() bool {
	if hostabi.Current != hostabi.Host((*host)(e)) {
		return false // replaced by a newer emulator: its state is gone
	}
	ids := make([]uint32, 0, len(e.contexts))
	for id := range e.contexts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		c := e.contexts[id]
		switch {
		case c.http != nil:
			c.http.Close()
		case c.conn != nil:
			c.conn.finish()
		}
	}
	var ok uint32 = 1
	if e.started {
		e.call(&e.root, func() { ok = e.guest.OnDone(e.root.id) })
		e.call(&e.root, func() { e.guest.OnDelete(e.root.id) })
	}
	hostabi.Current = nil
	return ok != 0
}

// call runs a guest callback with c as the effective context.
func (e *Emulator) call(c *ctxState, f func()) {
	e.cur = c
	f()
	e.cur = &e.root
}

// markDirty queues c for the deferred actions (continue, close, local response) that Envoy
// runs after the current VM call.
func (e *Emulator) markDirty(c *ctxState) {
	for _, d := range e.dirty {
		if d == c {
			return
		}
	}
	e.dirty = append(e.dirty, c)
}

// settle runs deferred actions until none is left.
func (e *Emulator) settle() {
	if e.settling {
		return
	}
	e.settling = true
	for len(e.dirty) > 0 {
		c := e.dirty[0]
		copy(e.dirty, e.dirty[1:])
		e.dirty = e.dirty[:len(e.dirty)-1]
		switch {
		case c.http != nil:
			c.http.applyDeferred()
		case c.conn != nil:
			c.conn.applyDeferred()
		}
	}
	e.settling = false
}

// Clock and ticks.

// Now returns the emulator's clock in Unix nanoseconds.
func (e *Emulator) Now() int64 {
	if e.opts.Now != nil {
		return e.opts.Now()
	}
	return e.virtualNow
}

// SetNow sets the virtual clock (no ticks fire).
func (e *Emulator) SetNow(ns int64) { e.virtualNow = ns }

// Advance moves the virtual clock forward by d, firing proxy_on_tick for every tick period
// that elapses.
func (e *Emulator) Advance(d time.Duration) {
	end := e.virtualNow + int64(d)
	for e.tickPeriod > 0 && e.nextTick <= end {
		e.virtualNow = e.nextTick
		e.nextTick += e.tickPeriod
		e.fireTick()
	}
	e.virtualNow = end
}

// TickPeriod is the period the plugin set with proxy_set_tick_period_milliseconds.
func (e *Emulator) TickPeriod() time.Duration { return time.Duration(e.tickPeriod) }

// Tick runs proxy_on_tick on the root context now, if the plugin set a tick period; it
// reports whether it did.
func (e *Emulator) Tick() bool {
	if e.tickPeriod == 0 {
		return false
	}
	e.fireTick()
	return true
}

func (e *Emulator) fireTick() {
	e.call(&e.root, func() { e.guest.OnTick(e.root.id) })
	e.settle()
}

// Logs.

// Logs returns every message logged so far.
func (e *Emulator) Logs() []LogEntry { return e.logs }

// LogsAt returns the messages logged at level.
func (e *Emulator) LogsAt(level proxywasm.LogLevel) []string {
	var out []string
	for _, l := range e.logs {
		if l.Level == level {
			out = append(out, l.Message)
		}
	}
	return out
}

// ClearLogs forgets the logged messages.
func (e *Emulator) ClearLogs() { e.logs = e.logs[:0] }

// HTTP calls.

// PendingCalls returns the http calls not answered yet, oldest first.
func (e *Emulator) PendingCalls() []*HttpCall {
	out := make([]*HttpCall, 0, len(e.calls))
	for _, c := range e.calls {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Respond answers call id with headers (include ":status") and body, delivering
// proxy_on_http_call_response to the root context.
func (e *Emulator) Respond(id uint32, headers [][2]string, body []byte) error {
	return e.RespondWithTrailers(id, headers, body, nil)
}

// RespondWithTrailers is Respond with response trailers.
func (e *Emulator) RespondWithTrailers(id uint32, headers [][2]string, body []byte, trailers [][2]string) error {
	c := e.calls[id]
	if c == nil {
		return errors.New("proxytest: no pending http call with that id")
	}
	delete(e.calls, id)
	e.callResp = &callResponse{headers: lowerKeys(headers), body: body, trailers: lowerKeys(trailers)}
	e.status, e.statusMsg = 0, ""
	e.call(&e.root, func() {
		e.guest.OnHttpCallResponse(c.RootContextID, id, uint32(len(headers)), uint32(len(body)), uint32(len(trailers)))
	})
	e.callResp = nil
	e.settle()
	return nil
}

// RespondReset fails call id as a reset stream: the callback gets no headers and no body,
// and GetStatus answers 11 (BrokenConnection) "reset".
func (e *Emulator) RespondReset(id uint32) error {
	c := e.calls[id]
	if c == nil {
		return errors.New("proxytest: no pending http call with that id")
	}
	delete(e.calls, id)
	e.status, e.statusMsg = proxywasm.StatusBrokenConnection, "reset"
	e.call(&e.root, func() { e.guest.OnHttpCallResponse(c.RootContextID, id, 0, 0, 0) })
	e.status, e.statusMsg = 0, ""
	e.settle()
	return nil
}

// RespondTimeout answers call id the way Envoy's router does on timeout: 504 with body
// "upstream request timeout".
func (e *Emulator) RespondTimeout(id uint32) error {
	body := []byte("upstream request timeout")
	return e.Respond(id, [][2]string{{":status", "504"}, {"content-length", "24"}, {"content-type", "text/plain"}}, body)
}

// Metrics and shared data.

func (e *Emulator) stat(name string) *stat {
	return e.stats[strings.TrimPrefix(name, "wasmcustom.")]
}

// Metric returns a counter's or gauge's value by name (with or without "wasmcustom.").
func (e *Emulator) Metric(name string) (int64, bool) {
	s := e.stat(name)
	if s == nil || s.typ == proxywasm.MetricTypeHistogram {
		return 0, false
	}
	return s.value, true
}

// Histogram returns the values recorded in a histogram.
func (e *Emulator) Histogram(name string) []uint64 {
	if s := e.stat(name); s != nil {
		return s.hist
	}
	return nil
}

// SharedData returns key's value and cas from the shared-data store.
func (e *Emulator) SharedData(key string) ([]byte, uint32, bool) {
	s := e.shared[key]
	if s == nil {
		return nil, 0, false
	}
	return s.value, s.cas, true
}

// SetSharedData writes key unconditionally, as another VM would.
func (e *Emulator) SetSharedData(key string, value []byte) {
	e.setShared(key, append([]byte(nil), value...))
}

func (e *Emulator) setShared(key string, value []byte) {
	e.cas++
	if e.cas == 0 {
		e.cas = 1
	}
	if s := e.shared[key]; s != nil {
		s.value, s.cas = value, e.cas
		return
	}
	e.shared[key] = &sharedEntry{value: value, cas: e.cas}
}

// Property helpers.

// Uint64Property encodes v the way Envoy serializes integer properties (8 bytes LE).
func Uint64Property(v uint64) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return string(b[:])
}

// guest memory helpers

func mem(p unsafe.Pointer, n uint32) []byte {
	if n == 0 || p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}

func memString(p unsafe.Pointer, n uint32) string {
	if n == 0 || p == nil {
		return ""
	}
	return unsafe.String((*byte)(p), n)
}

func putU32(p unsafe.Pointer, v uint32) { *(*uint32)(p) = v }

// retBytes hands data to the guest the way Envoy does: memory from proxy_on_memory_allocate,
// or address 0 and size 0 for nothing.
func (e *Emulator) retBytes(retPtr, retSize unsafe.Pointer, data []byte) uint32 {
	if len(data) == 0 {
		*(*uintptr)(retPtr) = 0
		putU32(retSize, 0)
		return proxywasm.StatusOK
	}
	p := e.guest.MemoryAllocate(uint32(len(data)))
	copy(unsafe.Slice((*byte)(p), len(data)), data)
	*(*uintptr)(retPtr) = uintptr(p)
	putU32(retSize, uint32(len(data)))
	return proxywasm.StatusOK
}

func (e *Emulator) retString(retPtr, retSize unsafe.Pointer, s string) uint32 {
	if len(s) == 0 {
		return e.retBytes(retPtr, retSize, nil)
	}
	p := e.guest.MemoryAllocate(uint32(len(s)))
	copy(unsafe.Slice((*byte)(p), len(s)), s)
	*(*uintptr)(retPtr) = uintptr(p)
	putU32(retSize, uint32(len(s)))
	return proxywasm.StatusOK
}
