// Command multiplugin is the host's test guest for what Envoy does with one
// module serving several plugins and talking across VMs: root contexts of
// plugins sharing a VM (with a Go global they share), shared queues and
// proxy_on_queue_ready. Its behaviour is chosen by the request header
// x-action; the plugin configuration names the plugin.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o multiplugin.wasm .
package main

import (
	"encoding/binary"
	"strconv"
	"unsafe"

	"github.com/iotauthz/iotauthz/host/testdata/guests/internal/guestmem"
)

func main() {}

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(t, start, max uint32, retPtr, retSize unsafe.Pointer) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(t uint32, k unsafe.Pointer, kl uint32, retPtr, retSize unsafe.Pointer) uint32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(status uint32, d unsafe.Pointer, dl uint32, b unsafe.Pointer, bl uint32, h unsafe.Pointer, hl uint32, grpc int32) uint32

//go:wasmimport env proxy_get_property
func proxyGetProperty(p unsafe.Pointer, pl uint32, retPtr, retSize unsafe.Pointer) uint32

//go:wasmimport env proxy_register_shared_queue
func proxyRegisterSharedQueue(n unsafe.Pointer, nl uint32, ret unsafe.Pointer) uint32

//go:wasmimport env proxy_resolve_shared_queue
func proxyResolveSharedQueue(v unsafe.Pointer, vl uint32, n unsafe.Pointer, nl uint32, ret unsafe.Pointer) uint32

//go:wasmimport env proxy_enqueue_shared_queue
func proxyEnqueueSharedQueue(id uint32, v unsafe.Pointer, vl uint32) uint32

//go:wasmimport env proxy_dequeue_shared_queue
func proxyDequeueSharedQueue(id uint32, retPtr, retSize unsafe.Pointer) uint32

// proxy_on_memory_allocate and proxy_abi_version_0_2_1 are guestmem's; each
// callback starts with guestmem.Enter.

func sp(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

func hostBytes(ptr, size uint32) []byte {
	if size == 0 {
		return nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), size)...)
}

func logf(msg string) { proxyLog(2, sp(msg), uint32(len(msg))) }

func u32(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func header(k string) string {
	var ptr, size uint32
	proxyGetHeaderMapValue(0, sp(k), uint32(len(k)), unsafe.Pointer(&ptr), unsafe.Pointer(&size))
	return string(hostBytes(ptr, size))
}

func property(path string) string {
	var ptr, size uint32
	proxyGetProperty(sp(path), uint32(len(path)), unsafe.Pointer(&ptr), unsafe.Pointer(&size))
	return string(hostBytes(ptr, size))
}

func reply(body string) {
	h := binary.LittleEndian.AppendUint32(nil, 0)
	proxySendLocalResponse(200, nil, 0, sp(body), uint32(len(body)), unsafe.Pointer(&h[0]), uint32(len(h)), -1)
}

// ---- state shared by every plugin of the instance ----

var (
	parents  = map[uint32]uint32{} // context -> parent (0 for a root)
	config   = map[uint32]string{} // root -> plugin configuration
	vmStarts int
	counter  int // one Go global, seen by every plugin of the instance
	queue    uint32
	ready    []string // "root:token" of each proxy_on_queue_ready
)

//go:wasmexport proxy_on_context_create
func onContextCreate(ctx, parent uint32) {
	guestmem.Enter()
	parents[ctx] = parent
}

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 {
	vmStarts++
	return 1
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	guestmem.Enter()
	var ptr, n uint32
	proxyGetBufferBytes(7, 0, size, unsafe.Pointer(&ptr), unsafe.Pointer(&n))
	config[root] = string(hostBytes(ptr, n))
	logf("configure root=" + u32(root) + " config=" + config[root] + " vm_starts=" + strconv.Itoa(vmStarts))
	if config[root] == "queue-owner" {
		st := proxyRegisterSharedQueue(sp("jobs"), 4, unsafe.Pointer(&queue))
		logf("register st=" + u32(st) + " queue=" + u32(queue))
	}
	return 1
}

//go:wasmexport proxy_on_queue_ready
func onQueueReady(root, token uint32) {
	guestmem.Enter()
	var got string
	for {
		var ptr, size uint32
		st := proxyDequeueSharedQueue(token, unsafe.Pointer(&ptr), unsafe.Pointer(&size))
		if st != 0 {
			got += " end=" + u32(st)
			break
		}
		got += " " + string(hostBytes(ptr, size))
	}
	ready = append(ready, u32(root)+":"+u32(token)+got)
	logf("queue_ready root=" + u32(root) + " token=" + u32(token) + got)
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(ctx, n, eos uint32) uint32 {
	guestmem.Enter()
	root := parents[ctx]
	switch header("x-action") {
	case "whoami":
		counter++
		reply("ctx=" + u32(ctx) + " root=" + u32(root) + " config=" + config[root] +
			" counter=" + strconv.Itoa(counter) + " name=" + property("plugin_name") +
			" root_id=" + property("plugin_root_id") + " vm_starts=" + strconv.Itoa(vmStarts))
	case "enqueue":
		vmID := header("x-vm-id")
		name := header("x-queue")
		var id uint32
		rs := proxyResolveSharedQueue(sp(vmID), uint32(len(vmID)), sp(name), uint32(len(name)), unsafe.Pointer(&id))
		v := header("x-value")
		es := proxyEnqueueSharedQueue(id, sp(v), uint32(len(v)))
		reply("resolve=" + u32(rs) + " id=" + u32(id) + " enqueue=" + u32(es))
	case "queue-errors":
		var ptr, size uint32
		d := proxyDequeueSharedQueue(999, unsafe.Pointer(&ptr), unsafe.Pointer(&size))
		e := proxyEnqueueSharedQueue(999, sp("x"), 1)
		var id uint32
		r := proxyResolveSharedQueue(nil, 0, sp("nope"), 4, unsafe.Pointer(&id))
		var mine uint32
		proxyRegisterSharedQueue(sp("stream-q"), 8, unsafe.Pointer(&mine))
		empty := proxyDequeueSharedQueue(mine, unsafe.Pointer(&ptr), unsafe.Pointer(&size))
		again := uint32(0)
		proxyRegisterSharedQueue(sp("stream-q"), 8, unsafe.Pointer(&again))
		bad := unsafe.Pointer(uintptr(0xfffffff0)) // past the end of memory
		badReg := proxyRegisterSharedQueue(bad, 64, unsafe.Pointer(&id))
		badEnq := proxyEnqueueSharedQueue(mine, bad, 64)
		badRes := proxyResolveSharedQueue(bad, 64, sp("q"), 1, unsafe.Pointer(&id))
		reply("dequeue_unknown=" + u32(d) + " enqueue_unknown=" + u32(e) + " resolve_unknown=" + u32(r) +
			" empty=" + u32(empty) + " same_id=" + strconv.FormatBool(mine == again && mine != 0) +
			" bad_memory=" + u32(badReg) + "," + u32(badEnq) + "," + u32(badRes))
	case "ready":
		s := ""
		for _, r := range ready {
			s += r + ";"
		}
		reply(s)
	}
	return 0
}
