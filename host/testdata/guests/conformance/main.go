// Command conformance is the host's test guest: a proxy-wasm ABI v0.2.1
// module written against the raw host calls. Its behaviour is chosen by the
// test: request header x-action, the plugin configuration, property l4_mode
// and the environment variable GUEST_INIT (read in init()).
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o conformance.wasm .
package main

import (
	"encoding/binary"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/iotauthz/iotauthz/host/internal/abi"
	"github.com/iotauthz/iotauthz/host/testdata/guests/internal/guestmem"
)

func main() {}

func init() {
	switch v, _ := syscall.Getenv("GUEST_INIT"); v {
	case "log":
		logf(2, "init: hello from _initialize")
	case "get_property":
		getProperty("plugin_name") // not allowed during _initialize: traps in Envoy
	case "define_metric":
		defineMetric(0, "early")
	}
}

// ---- memory ----

// proxy_on_memory_allocate and proxy_abi_version_0_2_1 are guestmem's; each
// callback starts with guestmem.Enter.

func sp(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }
func bp(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

func hostBytes(ptr, size uint32) []byte {
	if size == 0 {
		return nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), size)...)
}

// ---- helpers over the raw calls ----

func logf(level uint32, msg string) { proxyLog(level, sp(msg), uint32(len(msg))) }

func getBuffer(t, start, max uint32) ([]byte, uint32) {
	var ptr, size uint32
	st := proxyGetBufferBytes(t, start, max, unsafe.Pointer(&ptr), unsafe.Pointer(&size))
	return hostBytes(ptr, size), st
}

func setBuffer(t, start, size uint32, data string) uint32 {
	return proxySetBufferBytes(t, start, size, sp(data), uint32(len(data)))
}

func header(t uint32, k string) (string, uint32) {
	var ptr, size uint32
	st := proxyGetHeaderMapValue(t, sp(k), uint32(len(k)), unsafe.Pointer(&ptr), unsafe.Pointer(&size))
	return string(hostBytes(ptr, size)), st
}

func addHeader(t uint32, k, v string) uint32 {
	return proxyAddHeaderMapValue(t, sp(k), uint32(len(k)), sp(v), uint32(len(v)))
}

func replaceHeader(t uint32, k, v string) uint32 {
	return proxyReplaceHeaderMapValue(t, sp(k), uint32(len(k)), sp(v), uint32(len(v)))
}

func pairs(t uint32) ([][2]string, uint32, uint32) {
	var ptr, size uint32
	st := proxyGetHeaderMapPairs(t, unsafe.Pointer(&ptr), unsafe.Pointer(&size))
	return parsePairs(hostBytes(ptr, size)), st, ptr
}

func parsePairs(b []byte) [][2]string {
	if len(b) < 4 {
		return nil
	}
	n := binary.LittleEndian.Uint32(b)
	data := b[4+8*n:]
	out := make([][2]string, n)
	for i := uint32(0); i < n; i++ {
		kl := binary.LittleEndian.Uint32(b[4+8*i:])
		vl := binary.LittleEndian.Uint32(b[8+8*i:])
		out[i][0] = string(data[:kl])
		data = data[kl+1:]
		out[i][1] = string(data[:vl])
		data = data[vl+1:]
	}
	return out
}

func getProperty(path string) ([]byte, uint32) {
	var ptr, size uint32
	st := proxyGetProperty(sp(path), uint32(len(path)), unsafe.Pointer(&ptr), unsafe.Pointer(&size))
	return hostBytes(ptr, size), st
}

func defineMetric(t uint32, name string) (uint32, uint32) {
	var id uint32
	st := proxyDefineMetric(t, sp(name), uint32(len(name)), unsafe.Pointer(&id))
	return id, st
}

func getMetric(id uint32) (uint64, uint32) {
	var v uint64
	st := proxyGetMetric(id, unsafe.Pointer(&v))
	return v, st
}

func localReply(status uint32, details, body string, hdrs [][2]string) uint32 {
	h := abi.AppendPairs(nil, hdrs)
	return proxySendLocalResponse(status, sp(details), uint32(len(details)), sp(body), uint32(len(body)), bp(h), uint32(len(h)), -1)
}

func getShared(key string) ([]byte, uint32, uint32) {
	var ptr, size, cas uint32
	st := proxyGetSharedData(sp(key), uint32(len(key)), unsafe.Pointer(&ptr), unsafe.Pointer(&size), unsafe.Pointer(&cas))
	return hostBytes(ptr, size), cas, st
}

func setShared(key, value string, cas uint32) uint32 {
	return proxySetSharedData(sp(key), uint32(len(key)), sp(value), uint32(len(value)), cas)
}

func u32(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// ---- lifecycle ----

var (
	rootID      uint32
	pluginConf  string
	tickCount   uint32
	tickMetric  uint32
	pendingTick uint32 // stream context to continue on the next tick
)

type streamState struct {
	action string
	body   string // x-body behaviour
	onCall string // x-on-response behaviour
	l4     string
	calls  int
	props  string // x-props, kept for the response phase
}

var streams = map[uint32]*streamState{}
var callCtx = map[uint32]uint32{} // http call token -> stream context

//go:wasmexport proxy_on_context_create
func onContextCreate(ctx, parent uint32) {
	guestmem.Enter()
	if parent == 0 {
		rootID = ctx
	} else {
		streams[ctx] = &streamState{}
	}
	logf(1, "create ctx="+u32(ctx)+" parent="+u32(parent))
}

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 {
	guestmem.Enter()
	b, _ := getBuffer(6, 0, size)
	logf(2, "vm_start vm_config="+string(b))
	return 1
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	guestmem.Enter()
	b, st := getBuffer(7, 0, size)
	pluginConf = string(b)
	logf(2, "configure root="+u32(root)+" config="+pluginConf+" st="+u32(st))
	if strings.Contains(pluginConf, "configure=false") {
		return 0
	}
	if strings.Contains(pluginConf, "tick=") {
		ms, _ := strconv.Atoi(strings.SplitN(strings.SplitN(pluginConf, "tick=", 2)[1], ";", 2)[0])
		proxySetTickPeriod(uint32(ms))
	}
	tickMetric, _ = defineMetric(0, "ticks")
	if strings.Contains(pluginConf, "declare=") {
		// declare=a,b;: declare_property(name, readonly) for each, twice.
		list := strings.SplitN(strings.SplitN(pluginConf, "declare=", 2)[1], ";", 2)[0]
		for _, name := range strings.Split(list, ",") {
			arg := append([]byte{0x0a, byte(len(name))}, name...)
			arg = append(arg, 0x10, 0x01) // readonly: true
			var ptr, size uint32
			a := proxyCallForeignFunction(sp("declare_property"), 16, bp(arg), uint32(len(arg)), unsafe.Pointer(&ptr), unsafe.Pointer(&size))
			b := proxyCallForeignFunction(sp("declare_property"), 16, bp(arg), uint32(len(arg)), unsafe.Pointer(&ptr), unsafe.Pointer(&size))
			logf(2, "declare name="+name+" st="+u32(a)+" again="+u32(b))
		}
	}
	return 1
}

//go:wasmexport proxy_on_tick
func onTick(root uint32) {
	guestmem.Enter()
	tickCount++
	proxyIncrementMetric(tickMetric, 1)
	var now uint64
	proxyGetCurrentTime(unsafe.Pointer(&now))
	logf(2, "tick root="+u32(root)+" n="+u32(tickCount)+" now="+strconv.FormatUint(now, 10))
	if pendingTick != 0 {
		c := pendingTick
		pendingTick = 0
		proxySetEffectiveContext(c)
		replaceHeader(0, "x-continued-by", "tick")
		proxyContinueStream(0)
	}
	if strings.Contains(pluginConf, "tickstop") && tickCount >= 3 {
		proxySetTickPeriod(0)
	}
}

//go:wasmexport proxy_on_done
func onDone(ctx uint32) uint32 {
	guestmem.Enter()
	logf(1, "done ctx="+u32(ctx))
	return 1
}

//go:wasmexport proxy_on_log
func onLog(ctx uint32) {
	guestmem.Enter()
	logf(1, "log ctx="+u32(ctx))
	// In the access-log phase the final maps are readable, not writable.
	action, as := header(0, "x-action")
	status, ss := header(2, ":status")
	trl, ts := header(3, "x-resp-trailer")
	hs, ps, _ := pairs(0)
	add := addHeader(0, "x-late", "1")
	logf(0, "access_log action="+action+":"+st(as)+" status="+status+":"+st(ss)+
		" trailer="+trl+":"+st(ts)+" pairs="+u32(uint32(len(hs)))+":"+st(ps)+" add="+st(add))
}

//go:wasmexport proxy_on_delete
func onDelete(ctx uint32) {
	guestmem.Enter()
	delete(streams, ctx)
	logf(1, "delete ctx="+u32(ctx))
}
