package host

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// proxy_http_call, as Envoy's Context::httpCall and its AsyncClient callbacks
// behave. See research note section 3.1.

type httpCall struct {
	token     uint32
	root      *vmContext // the root context of the caller, which gets the callback
	done      bool
	cancelReq context.CancelFunc
	stopTimer func() bool
}

func (c *httpCall) cancel() {
	c.done = true
	if c.cancelReq != nil {
		c.cancelReq()
	}
	if c.stopTimer != nil {
		c.stopTimer()
	}
}

// callResponse is what the guest reads inside proxy_on_http_call_response:
// map 6, buffer 4, map 7.
type callResponse struct {
	headers  Headers
	body     []byte
	trailers Headers
}

const (
	timeoutBody        = "upstream request timeout"
	connectFailureBody = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
)

func localCallResponse(status int, body string) *callResponse {
	return &callResponse{
		headers: Headers{
			{":status", strconv.Itoa(status)},
			{"content-length", strconv.Itoa(len(body))},
			{"content-type", "text/plain"},
		},
		body: []byte(body),
	}
}

// httpCall starts a call on the root context. The response, a timeout (504)
// or a reset is delivered later through the VM's queue, always to the root
// context.
func (vm *VM) httpCall(cluster string, headers Headers, body []byte, trailers Headers, timeoutMs int32) (uint32, abi.Status) {
	if timeoutMs < 0 {
		return 0, abi.StatusBadArgument
	}
	cl, found := vm.p.cfg.Clusters[cluster]
	if !found {
		return 0, abi.StatusBadArgument
	}
	headers = normalizeHeaders(headers)
	_, hasPath := headers.Get(":path")
	_, hasMethod := headers.Get(":method")
	_, hasAuthority := headers.Get(":authority")
	if !hasPath || !hasMethod || !hasAuthority {
		return 0, abi.StatusBadArgument
	}
	if len(body) > 0 {
		headers = headers.remove("content-length").add("content-length", strconv.Itoa(len(body)))
	}
	trailers = normalizeHeaders(trailers)
	vm.nextHTTPCallID += 4
	call := &httpCall{token: vm.nextHTTPCallID, root: vm.activeRoot()}
	vm.calls[call.token] = call
	vm.addInflight(1)
	ctx, cancel := context.WithCancel(context.Background())
	call.cancelReq = cancel
	if timeoutMs > 0 {
		call.stopTimer = vm.p.clock.AfterFunc(time.Duration(timeoutMs)*time.Millisecond, func() {
			vm.deliverCall(call, localCallResponse(http.StatusGatewayTimeout, timeoutBody), false)
		})
	}
	go func() {
		resp, reset := vm.p.roundTrip(ctx, cl, headers, body, trailers)
		vm.deliverCall(call, resp, reset)
	}()
	return call.token, abi.StatusOK
}

// completeCall retires a call once; it reports false if it was already done.
func (vm *VM) completeCall(c *httpCall) bool {
	if c.done {
		return false
	}
	c.cancel()
	delete(vm.calls, c.token)
	vm.addInflight(-1)
	return true
}

func (vm *VM) deliverCall(c *httpCall, resp *callResponse, reset bool) {
	_ = vm.run(func() {
		if !vm.completeCall(c) || vm.failed != nil {
			return
		}
		root := c.root
		if reset {
			root.status, root.statusMsg = abi.StatusBrokenConnection, "reset"
			vm.call(root, vm.ex.httpCallResponse, uint64(root.id), uint64(c.token), 0, 0, 0)
			vm.runDeferred()
			return
		}
		root.status, root.statusMsg = abi.StatusOK, ""
		root.callResp = resp
		vm.call(root, vm.ex.httpCallResponse, uint64(root.id), uint64(c.token),
			uint64(len(resp.headers)), uint64(len(resp.body)), uint64(len(resp.trailers)))
		root.callResp = nil
		vm.runDeferred()
	})
}

// roundTrip performs the request against the cluster. reset reports a reset
// stream (handler abort, connection lost after connecting).
func (p *Plugin) roundTrip(ctx context.Context, cl Cluster, headers Headers, body []byte, trailers Headers) (resp *callResponse, reset bool) {
	method, _ := headers.Get(":method")
	path, _ := headers.Get(":path")
	authority, _ := headers.Get(":authority")
	base := "http://" + authority
	if cl.URL != "" {
		base = strings.TrimSuffix(cl.URL, "/")
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, true
	}
	req.Host = authority
	req.ContentLength = int64(len(body))
	for _, h := range headers {
		if strings.HasPrefix(h[0], ":") || h[0] == "content-length" {
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	if len(trailers) > 0 {
		req.Trailer = http.Header{}
		for _, t := range trailers {
			req.Trailer.Add(t[0], t[1])
		}
	}
	if cl.Handler != nil {
		return serveInProcess(cl.Handler, req)
	}
	r, err := p.client().Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return localCallResponse(http.StatusServiceUnavailable, connectFailureBody), false
		}
		return nil, true
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, true
	}
	out := &callResponse{headers: responseHeaders(r.StatusCode, r.Header), body: b}
	if len(r.Trailer) > 0 {
		out.trailers = lowerHeaders(r.Trailer)
	}
	return out, false
}

func (p *Plugin) client() *http.Client {
	p.clientOnce.Do(func() {
		// A burst of calls (a reconnect storm: one authorizer call per CONNECT) opens up to
		// 1024 connections to a cluster, Envoy's default circuit breaker (max_connections; more
		// calls wait for one, as Envoy's pending requests do); they stay pooled for the next
		// burst, idle for at most Envoy's default idle_timeout of 1 h, instead of being closed
		// and dialled again.
		p.httpClient = &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DisableCompression:  true,
			MaxConnsPerHost:     1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     time.Hour,
		}}
	})
	return p.httpClient
}

func serveInProcess(h http.Handler, req *http.Request) (resp *callResponse, reset bool) {
	w := &recorder{header: http.Header{}}
	aborted := func() (aborted bool) {
		defer func() {
			if recover() != nil {
				aborted = true
			}
		}()
		h.ServeHTTP(w, req)
		return false
	}()
	if aborted {
		return nil, true
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	hdr := w.snapshot
	if hdr == nil {
		hdr = w.header.Clone()
	}
	if hdr.Get("Content-Length") == "" {
		hdr.Set("Content-Length", strconv.Itoa(w.body.Len()))
	}
	out := &callResponse{headers: responseHeaders(w.status, hdr), body: w.body.Bytes()}
	// Trailers: keys declared in "Trailer" or set with http.TrailerPrefix.
	tr := http.Header{}
	for _, k := range hdr.Values("Trailer") {
		for _, name := range strings.Split(k, ",") {
			name = strings.TrimSpace(name)
			if vs := w.header.Values(name); len(vs) > 0 {
				tr[http.CanonicalHeaderKey(name)] = vs
			}
		}
	}
	for k, vs := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			tr[http.CanonicalHeaderKey(strings.TrimPrefix(k, http.TrailerPrefix))] = vs
		}
	}
	if len(tr) > 0 {
		out.trailers = lowerHeaders(tr)
	}
	return out, false
}

type recorder struct {
	header   http.Header
	snapshot http.Header
	status   int
	body     bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.snapshot = r.header.Clone()
		r.snapshot.Del("Trailer")
		for k := range r.snapshot {
			if strings.HasPrefix(k, http.TrailerPrefix) {
				delete(r.snapshot, k)
			}
		}
		if vs := r.header.Values("Trailer"); len(vs) > 0 {
			r.snapshot["Trailer"] = vs
		}
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.body.Write(b)
}
func (r *recorder) Flush() {}

func responseHeaders(status int, h http.Header) Headers {
	out := Headers{{":status", strconv.Itoa(status)}}
	for _, p := range lowerHeaders(h) {
		if p[0] == "trailer" {
			continue
		}
		out = append(out, p)
	}
	return out
}

func lowerHeaders(h http.Header) Headers {
	keys := slices.Sorted(maps.Keys(h))
	var out Headers
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, [2]string{strings.ToLower(k), v})
		}
	}
	return out
}

var _ http.ResponseWriter = (*recorder)(nil)
