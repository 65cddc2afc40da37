package main

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/iotauthz/iotauthz/host/internal/abi"
	"github.com/iotauthz/iotauthz/host/testdata/guests/internal/guestmem"
)

func st(v uint32) string { return u32(v) }

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(ctx, n, eos uint32) uint32 {
	guestmem.Enter()
	s := streams[ctx]
	s.action, _ = header(0, "x-action")
	s.body, _ = header(0, "x-body")
	s.onCall, _ = header(0, "x-on-response")
	logf(1, "request_headers ctx="+u32(ctx)+" n="+u32(n)+" eos="+u32(eos))
	switch s.action {
	case "", "pass":
		return 0
	case "route-props":
		// The x-props paths, read now and again in the response phase.
		s.props, _ = header(0, "x-props")
		logf(2, "route_props request "+strings.ReplaceAll(props(s.props), "\n", " "))
		return 0
	case "pause":
		return 1
	case "pause-tick":
		pendingTick = ctx
		return 1
	case "local":
		localReply(403, "denied by test", "nope", [][2]string{{"x-extra", "1"}})
		return 0 // forced to stop by the host
	case "close":
		proxyCloseStream(0)
		return 1
	case "local-headers":
		// A reply whose own headers name a content type and a wrong length.
		body, _ := header(0, "x-body")
		localReply(403, "", body, [][2]string{{"Content-Type", "application/json"}, {"content-length", "999"}, {"x-extra", "1"}})
		return 0
	case "local-grpc":
		g, _ := header(0, "x-grpc")
		code, err := strconv.Atoi(g)
		if err != nil {
			code = -1
		}
		body := "busy: 50%\n"
		proxySendLocalResponse(503, sp("d"), 1, sp(body), uint32(len(body)), nil, 0, int32(code))
		return 0
	case "headers":
		return headersAction()
	case "shared-set":
		k, _ := header(0, "x-key")
		v, _ := header(0, "x-value")
		c, _ := header(0, "x-cas")
		cas, _ := strconv.ParseUint(c, 10, 32)
		localReply(200, "", "st="+st(setShared(k, v, uint32(cas))), nil)
	case "shared-get":
		k, _ := header(0, "x-key")
		v, cas, s := getShared(k)
		localReply(200, "", "st="+st(s)+" val="+string(v)+" cas="+u32(cas), nil)
	case "shared-incr":
		// A compare-and-swap increment. The key must exist: proxy-wasm has
		// no atomic create (a set on a missing key succeeds whatever its
		// cas, src/shared_data.cc), so two VMs that both read NotFound and
		// both write "1" would lose an update. The host seeds the key.
		for {
			v, cas, s := getShared("hammer")
			if s != 0 {
				localReply(500, "", "hammer: get st="+st(s), nil)
				return 1
			}
			n, err := strconv.Atoi(string(v))
			if err != nil {
				localReply(500, "", "hammer: value "+strconv.Quote(string(v)), nil)
				return 1
			}
			if setShared("hammer", strconv.Itoa(n+1), cas) == 0 {
				break
			}
		}
		return 0
	case "http-call":
		return httpCallAction(ctx)
	case "metric":
		localReply(200, "", metricAction(), nil)
	case "metric-op":
		// Defines metric x-name of kind x-kind (0 counter, 1 gauge, 2
		// histogram), then for each value of x-rec records it and for each
		// of x-inc increments by it.
		name, _ := header(0, "x-name")
		k, _ := header(0, "x-kind")
		kind, _ := strconv.Atoi(k)
		id, ds := defineMetric(uint32(kind), name)
		out := "def=" + st(ds)
		for _, op := range []string{"x-rec", "x-inc"} {
			vals, _ := header(0, op)
			for _, f := range strings.Fields(vals) {
				n, _ := strconv.ParseInt(f, 10, 64)
				if op == "x-rec" {
					out += " rec=" + st(proxyRecordMetric(id, uint64(n)))
				} else {
					out += " inc=" + st(proxyIncrementMetric(id, n))
				}
			}
		}
		localReply(200, "", out, nil)
	case "props":
		localReply(200, "", propsAction(), nil)
	case "setprop-twice":
		k, _ := header(0, "x-key")
		a := proxySetProperty(sp(k), uint32(len(k)), sp("one"), 3)
		b := proxySetProperty(sp(k), uint32(len(k)), sp("two"), 3)
		got, gs := getProperty(k)
		localReply(200, "", "first="+st(a)+" second="+st(b)+" get="+st(gs)+" val="+string(got), nil)
	case "setprop":
		k, _ := header(0, "x-key")
		v, _ := header(0, "x-value")
		s := proxySetProperty(sp(k), uint32(len(k)), sp(v), uint32(len(v)))
		got, gs := getProperty(k)
		localReply(200, "", "set="+st(s)+" get="+st(gs)+" val="+string(got), nil)
	case "log":
		var lvl uint32
		proxyGetLogLevel(unsafe.Pointer(&lvl))
		for i := uint32(0); i <= 5; i++ {
			logf(i, "level "+u32(i))
		}
		bad := proxyLog(6, sp("x"), 1)
		println("to stdout via fd_write?") // println goes to stderr
		localReply(200, "", "level="+u32(lvl)+" bad="+st(bad), nil)
	case "time":
		var now uint64
		proxyGetCurrentTime(unsafe.Pointer(&now))
		goNow := time.Now().UnixNano()
		localReply(200, "", "now="+strconv.FormatUint(now, 10)+" go="+strconv.FormatInt(goNow, 10), nil)
	case "tick":
		p, _ := header(0, "x-period")
		ms, _ := strconv.Atoi(p)
		proxySetTickPeriod(uint32(ms))
		return 0
	case "effective":
		bad := proxySetEffectiveContext(99999)
		root := proxySetEffectiveContext(rootID)
		_, onRoot := header(0, "x-action") // the root context has no request map
		back := proxySetEffectiveContext(ctx)
		localReply(200, "", "bad="+st(bad)+" root="+st(root)+" onroot="+st(onRoot)+" back="+st(back), nil)
	case "misc":
		var ptr, size uint32
		ff := proxyCallForeignFunction(sp("f"), 1, nil, 0, unsafe.Pointer(&ptr), unsafe.Pointer(&size))
		var q uint32
		sq := proxyRegisterSharedQueue(sp("q"), 1, unsafe.Pointer(&q))
		gc := proxyGrpcCall(sp("c"), 1, sp("s"), 1, sp("m"), 1, nil, 0, nil, 0, 100, unsafe.Pointer(&q))
		done := proxyDone()
		var bl, bf uint32
		bs := proxyGetBufferStatus(4, unsafe.Pointer(&bl), unsafe.Pointer(&bf))
		_, b9 := getBuffer(9, 0, 10)
		_, b7 := getBuffer(7, 0, 10)
		vm, b6 := getBuffer(6, 0, 100)
		localReply(200, "", "foreign="+st(ff)+" queue="+st(sq)+" grpc="+st(gc)+" done="+st(done)+
			" callbody="+st(bs)+" buf9="+st(b9)+" plugincfg="+st(b7)+" vmcfg="+st(b6)+":"+string(vm), nil)
	case "foreign":
		// x-fn names the function, x-arg its arguments in hex; x-nullres
		// passes null result pointers. The reply: status, result size and
		// pointer set, and the result in hex.
		fn, _ := header(0, "x-fn")
		a, _ := header(0, "x-arg")
		arg, err := hex.DecodeString(a)
		if err != nil {
			localReply(400, "", "bad x-arg", nil)
			return 1
		}
		var ptr, size uint32
		rp, rs := unsafe.Pointer(&ptr), unsafe.Pointer(&size)
		if _, null := header(0, "x-nullres"); null == 0 {
			rp, rs = nil, nil
		}
		ff := proxyCallForeignFunction(sp(fn), uint32(len(fn)), bp(arg), uint32(len(arg)), rp, rs)
		localReply(200, "", "st="+st(ff)+" size="+u32(size)+" ptr="+strconv.FormatBool(ptr != 0)+
			" out="+hex.EncodeToString(hostBytes(ptr, size)), nil)
	case "alloc":
		allocHeavy()
		return 0
	case "malloc-restricted":
		guestmem.Hook = func() { getProperty("plugin_name") }
		pairs(0)
		return 0
	case "malloc-allowed":
		guestmem.Hook = func() {
			logf(2, "inside malloc")
			_ = time.Now()
		}
		pairs(0)
		return 0
	case "wasi":
		var sub [48]byte
		var ev [32]byte
		nevents := uint32(77)
		r := pollOneoff(unsafe.Pointer(&sub[0]), unsafe.Pointer(&ev[0]), 1, unsafe.Pointer(&nevents))
		msg := "via fd_write\n"
		iov := [2]uint32{uint32(uintptr(unsafe.Pointer(unsafe.StringData(msg)))), uint32(len(msg))}
		var nw uint32
		w1 := fdWrite(1, unsafe.Pointer(&iov[0]), 1, unsafe.Pointer(&nw))
		w9 := fdWrite(9, unsafe.Pointer(&iov[0]), 1, unsafe.Pointer(&nw))
		localReply(200, "", "poll="+u32(r)+" nevents="+u32(nevents)+" write1="+u32(w1)+" nw="+u32(nw)+" write9="+u32(w9), nil)
	case "continue-now":
		replaceHeader(0, "x-mutated", "before-continue")
		proxyContinueStream(0)
		return 1
	}
	return 0
}

func headersAction() uint32 {
	before, _, _ := pairs(0)
	var size uint32
	ss := proxyGetHeaderMapSize(0, unsafe.Pointer(&size))
	_, missing := header(0, "x-missing")
	addHeader(0, "x-added", "a1")
	addHeader(0, "X-Added", "a2")
	replaceHeader(0, "x-rep", "new")
	k := "x-rem"
	proxyRemoveHeaderMapValue(0, sp(k), uint32(len(k)))
	addHeader(0, ":pseudo", "p")
	addHeader(0, "x-info", "n="+strconv.Itoa(len(before))+" size="+u32(size)+" sizest="+st(ss)+" missing="+st(missing))
	_, badMap := header(9, "x")
	_, respMap := header(2, "x")
	_, callMap := header(6, "x")
	var emptyPtr, emptyLen uint32
	proxyGetHeaderMapPairs(6, unsafe.Pointer(&emptyPtr), unsafe.Pointer(&emptyLen))
	addHeader(0, "x-maps", "bad="+st(badMap)+" resp="+st(respMap)+" call="+st(callMap)+" empty="+u32(emptyPtr)+"/"+u32(emptyLen))
	_, addCall := header(7, "x")
	_ = addCall
	addSt := addHeader(6, "x", "y")
	addHeader(0, "x-callmut", st(addSt))
	return 0
}

func httpCallAction(ctx uint32) uint32 {
	cluster, _ := header(0, "x-cluster")
	path, _ := header(0, "x-path")
	timeout, _ := header(0, "x-timeout")
	omit, _ := header(0, "x-omit")
	body, _ := header(0, "x-call-body")
	ms, _ := strconv.Atoi(timeout)
	hs := [][2]string{{":method", "POST"}, {":path", path}, {":authority", "authz.example"}, {"x-from", "wasm"}}
	var keep [][2]string
	for _, h := range hs {
		if h[0] != omit {
			keep = append(keep, h)
		}
	}
	h := abi.AppendPairs(nil, keep)
	tr := abi.AppendPairs(nil, [][2]string{{"x-trailer", "t1"}})
	var token uint32
	s := proxyHTTPCall(sp(cluster), uint32(len(cluster)), bp(h), uint32(len(h)), sp(body), uint32(len(body)), bp(tr), uint32(len(tr)), uint32(ms), unsafe.Pointer(&token))
	logf(2, "http_call st="+st(s)+" token="+u32(token))
	if s != 0 {
		localReply(500, "", "call-st="+st(s), nil)
		return 0
	}
	callCtx[token] = ctx
	return 1
}

//go:wasmexport proxy_on_http_call_response
func onHTTPCallResponse(ctx, token, nh, nb, nt uint32) {
	guestmem.Enter()
	stream := callCtx[token]
	delete(callCtx, token)
	hs, _, _ := pairs(6)
	body, bst := getBuffer(4, 0, nb)
	ts, _, _ := pairs(7)
	var code, ptr, size uint32
	proxyGetStatus(unsafe.Pointer(&code), unsafe.Pointer(&ptr), unsafe.Pointer(&size))
	msg := string(hostBytes(ptr, size))
	var hb strings.Builder
	for _, h := range hs {
		hb.WriteString(h[0] + ":" + h[1] + ",")
	}
	var tb strings.Builder
	for _, t := range ts {
		tb.WriteString(t[0] + ":" + t[1] + ",")
	}
	summary := "cb ctx=" + u32(ctx) + " root=" + u32(rootID) + " token=" + u32(token) + " nh=" + u32(nh) + " nb=" + u32(nb) + " nt=" + u32(nt) +
		" status=" + u32(code) + ":" + msg + " bodyst=" + st(bst) + " body=" + string(body) + " headers=" + hb.String() + " trailers=" + tb.String()
	logf(2, summary)
	if proxySetEffectiveContext(stream) != 0 {
		return
	}
	switch streams[stream].onCall {
	case "continue":
		replaceHeader(0, "x-auth", u32(code)+"/"+strconv.Itoa(len(body)))
		proxyContinueStream(0)
	case "close":
		proxyCloseStream(0)
	default:
		localReply(200, "", summary, nil)
	}
}

//go:wasmexport proxy_on_request_body
func onRequestBody(ctx, size, eos uint32) uint32 {
	guestmem.Enter()
	s := streams[ctx]
	logf(1, "request_body ctx="+u32(ctx)+" len="+u32(size)+" eos="+u32(eos))
	var bl, bf uint32
	proxyGetBufferStatus(0, unsafe.Pointer(&bl), unsafe.Pointer(&bf))
	if bl != size {
		logf(4, "buffer status mismatch "+u32(bl)+" != "+u32(size))
	}
	switch s.body {
	case "pause-until-end":
		if eos == 0 {
			return 1
		}
		b, _ := getBuffer(0, 0, size)
		setBuffer(0, 0, size, "REPLACED:"+string(b))
		return 0
	case "edit":
		b, _ := getBuffer(0, 1, 3)
		r1 := setBuffer(0, 0, 2, "<<")    // replace a 2-byte prefix
		r2 := setBuffer(0, 1000, 0, ">>") // append
		r3 := setBuffer(0, 1, 1, "mid")   // BadArgument
		logf(2, "edit sub="+string(b)+" r="+st(r1)+","+st(r2)+","+st(r3))
		return 0
	case "add-trailers":
		r := addHeader(1, "x-added-trailer", "yes")
		logf(2, "add trailer eos="+u32(eos)+" st="+st(r))
		return 0
	case "pause-once":
		if s.calls == 0 {
			s.calls++
			return 1
		}
		return 0
	}
	return 0
}

//go:wasmexport proxy_on_request_trailers
func onRequestTrailers(ctx, n uint32) uint32 {
	guestmem.Enter()
	addHeader(1, "x-trailer-added", "1")
	logf(1, "request_trailers ctx="+u32(ctx)+" n="+u32(n))
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(ctx, n, eos uint32) uint32 {
	guestmem.Enter()
	logf(1, "response_headers ctx="+u32(ctx)+" n="+u32(n)+" eos="+u32(eos))
	addHeader(2, "x-wasm", "on")
	_, reqSt := header(0, "x-action")
	addHeader(2, "x-req-map", st(reqSt))
	if s := streams[ctx]; s != nil && s.action == "pause-resp" {
		return 1
	}
	if s := streams[ctx]; s != nil && s.action == "route-props" {
		logf(2, "route_props response "+strings.ReplaceAll(props(s.props), "\n", " "))
	}
	return 0
}

//go:wasmexport proxy_on_response_body
func onResponseBody(ctx, size, eos uint32) uint32 {
	guestmem.Enter()
	logf(1, "response_body ctx="+u32(ctx)+" len="+u32(size)+" eos="+u32(eos))
	if s := streams[ctx]; s != nil && s.action == "resp-buffer" && eos == 0 {
		return 1
	}
	return 0
}

//go:wasmexport proxy_on_response_trailers
func onResponseTrailers(ctx, n uint32) uint32 {
	guestmem.Enter()
	return 0
}

// allocHeavy allocates the way a real filter does: maps, strings, slices.
func allocHeavy() {
	hs, _, _ := pairs(0)
	m := make(map[string]string, len(hs))
	for _, h := range hs {
		m[strings.ToUpper(h[0])] = strings.Repeat(h[1], 4)
	}
	parts := make([]string, 0, 64)
	for i := 0; i < 64; i++ {
		parts = append(parts, strconv.Itoa(i*len(m)))
	}
	s := strings.Join(parts, ",")
	buf := make([]byte, 0, 4096)
	for i := 0; i < 16; i++ {
		buf = append(buf, s...)
	}
	addHeader(0, "x-alloc", strconv.Itoa(len(buf)))
}
