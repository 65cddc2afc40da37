package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// httpConn is one HTTP/1.1 connection: requests one after the other (keep-alive), each an
// exchange through the plugin's HTTP filter; a WebSocket upgrade turns the connection into one
// long exchange whose bytes flow as request and response bodies, as in Envoy.
type httpConn struct {
	sc    *serverConn
	c     net.Conn
	br    *bufio.Reader
	lim   *headLimit // under br: bounds each request head
	props host.Properties
	vm    *host.VM // one VM per downstream connection, as one Envoy worker owns it

	mu       sync.Mutex
	busy     bool // an exchange is in flight
	upgraded bool // the exchange in flight is a WebSocket after its 101
}

func serveHTTP(sc *serverConn, c net.Conn, props host.Properties) {
	hc := &httpConn{sc: sc, c: c, lim: &headLimit{r: c, n: -1}, props: props, vm: sc.g.vm(true)}
	hc.br = bufio.NewReaderSize(hc.lim, 16<<10)
	if !sc.setHandlers(hc.drain, hc.abort) {
		return
	}
	timeout := sc.g.connectTimeout
	for n := 0; ; n++ {
		if n > 0 {
			// The first request keeps the deadline set at the accept; the next ones may wait
			// for the idle keep-alive timeout, then their head gets the same time as the first.
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		}
		if sc.isDraining() {
			return // after the deadline: a drain that set its own deadline first is not undone
		}
		// The head: at most MaxRequestHeaderBytes, bytes already buffered included.
		hc.lim.n, hc.lim.hit = max(MaxRequestHeaderBytes-hc.br.Buffered(), 0), false
		// A request line starts with a method token; anything else (an MQTT CONNECT from a
		// client that sent no ALPN) is refused at once, as Envoy's HTTP codec does, instead of
		// waiting for a line end that never comes.
		var req *http.Request
		first, err := hc.br.Peek(1)
		if err == nil && !isTokenChar(first[0]) {
			err = errors.New("not an HTTP request")
		}
		if err == nil {
			if n > 0 {
				_ = c.SetReadDeadline(time.Now().Add(timeout))
				if sc.isDraining() {
					return
				}
			}
			req, err = http.ReadRequest(hc.br)
		}
		if err != nil {
			switch {
			case hc.lim.hit:
				hc.refuse(http.StatusRequestHeaderFieldsTooLarge, "Request Header Fields Too Large", reasonHeadersTooLarge,
					"the request line and headers exceed "+strconv.Itoa(MaxRequestHeaderBytes)+" bytes")
			case isTimeout(err) && !sc.isDraining() && (n == 0 || hc.br.Buffered() > 0 || first != nil):
				what := "no complete request head"
				if n == 0 {
					what += " within " + timeout.String() + " of the accept"
				} else {
					what += " within " + timeout.String() + " of its first byte"
				}
				sc.g.decide(decision{eventType: "Disconnect", protocol: "HTTP", reason: reasonProtocol,
					disconnectReason: "CLIENT_ERROR", source: sc.raw.RemoteAddr(), details: what + " (mqtt.connectTimeoutSeconds)"})
			case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isTimeout(err):
				// Not HTTP (an MQTT client without ALPN lands here): 400 and close, as Envoy's
				// HTTP codec does.
				_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Request")
			}
			return
		}
		hc.lim.n = -1
		if headerLines(req) > MaxRequestHeaders {
			hc.refuse(http.StatusRequestHeaderFieldsTooLarge, "Request Header Fields Too Large", reasonHeadersTooLarge,
				"more than "+strconv.Itoa(MaxRequestHeaders)+" header lines")
			return
		}
		upgrade := strings.EqualFold(req.Header.Get("Upgrade"), "websocket")
		if !upgrade && req.ContentLength > MaxRequestBodyBytes {
			hc.refuse(http.StatusRequestEntityTooLarge, "Payload Too Large", reasonPayloadTooLarge,
				"content-length "+strconv.FormatInt(req.ContentLength, 10)+" exceeds the HTTPS publish limit of "+strconv.Itoa(MaxRequestBodyBytes)+" bytes")
			return
		}
		if !upgrade && req.ContentLength < 0 && !hc.readWhole(req) {
			return
		}
		if upgrade {
			// A WebSocket's CONNECT must follow within the deadline, counted from its upgrade
			// request; pumpClient lifts it.
			_ = c.SetReadDeadline(time.Now().Add(timeout))
		} else {
			_ = c.SetReadDeadline(time.Time{})
		}
		if sc.isDraining() {
			_ = c.SetReadDeadline(time.Now())
		}
		hc.setBusy(true)
		keep := hc.exchange(req)
		hc.setBusy(false)
		if !keep || sc.isDraining() {
			return
		}
	}
}

// readWhole reads a body of unknown length (chunked) to its end, at most MaxRequestBodyBytes,
// before the plugin sees the request, and gives the request that length: a body that turns out
// too large is answered 413 and never reaches the plugin or the upstream, not even in part. It
// reports whether the request goes on.
func (hc *httpConn) readWhole(req *http.Request) bool {
	if strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		// The client waits for this before it sends the body.
		_ = hc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(hc.c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return false
		}
		_ = hc.c.SetWriteDeadline(time.Time{})
		req.Header.Del("Expect")
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, MaxRequestBodyBytes+1))
	if len(b) > MaxRequestBodyBytes {
		hc.refuse(http.StatusRequestEntityTooLarge, "Payload Too Large", reasonPayloadTooLarge,
			"the chunked body exceeds the HTTPS publish limit of "+strconv.Itoa(MaxRequestBodyBytes)+" bytes")
		return false
	}
	if err != nil {
		return false
	}
	req.Body, req.ContentLength, req.TransferEncoding = io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	return true
}

// headerLines counts a request's header lines (Host included, which ReadRequest moves out of
// Header).
func headerLines(req *http.Request) int {
	n := 0
	for _, vs := range req.Header {
		n += len(vs)
	}
	if req.Host != "" {
		n++
	}
	return n
}

// refuse answers a request the gateway refuses before the plugin sees it (431, 413) with the
// plugin's body shape, writes a decision line, and closes after a linger.
func (hc *httpConn) refuse(status int, message, reason, details string) {
	trace := newTraceID()
	hc.sc.g.decide(decision{traceID: trace, eventType: "Publish-In", protocol: "HTTP", reason: reason,
		details: details, source: hc.sc.raw.RemoteAddr()})
	body := `{"message":"` + message + `","traceId":"` + trace + `"}`
	_ = hc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := fmt.Fprintf(hc.c, "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	if err == nil {
		lingerClose(hc.c, hc.sc.raw)
	}
}

func (hc *httpConn) setBusy(b bool) {
	hc.mu.Lock()
	hc.busy = b
	hc.mu.Unlock()
}

// drain lets the exchange in flight finish and closes an idle connection.
func (hc *httpConn) drain() {
	hc.mu.Lock()
	idle := !hc.busy || hc.upgraded
	hc.mu.Unlock()
	if idle {
		_ = hc.c.SetReadDeadline(time.Now())
	}
}

func (hc *httpConn) abort() { hc.c.Close() }

// exchange is one request through the plugin; it reports whether the connection may carry
// another request.
type exchange struct {
	hc      *httpConn
	req     *http.Request
	st      *host.HTTPStream
	q       *queue
	upgrade bool
	done    chan struct{} // the response ended, or the stream was reset
	doneOne sync.Once

	// queue-goroutine state
	cw          *bufio.Writer
	chunked     bool
	wroteHdr    bool
	reset       bool
	bodyPipe    *io.PipeWriter
	upConn      net.Conn // WebSocket: the broker connection
	switched    bool     // 101 sent to the client
	keepAlive   bool
	reqBodyDone chan struct{}
	act         activity // WebSocket: bytes to or from the broker
}

func (hc *httpConn) exchange(req *http.Request) bool {
	x := &exchange{hc: hc, req: req, q: newQueue(), done: make(chan struct{}),
		cw: bufio.NewWriterSize(hc.c, 16<<10), keepAlive: !req.Close, reqBodyDone: make(chan struct{})}
	x.upgrade = strings.EqualFold(req.Header.Get("Upgrade"), "websocket")
	x.st = hc.vm.NewHTTPStreamSink(hc.props, x)

	h := requestHeaders(req)
	noBody := req.Body == nil || req.Body == http.NoBody || (req.ContentLength == 0 && !x.upgrade)
	if x.upgrade {
		noBody = false // the upgraded bytes are the body; end of stream comes at close
	}
	x.st.RequestHeaders(h, noBody)
	if noBody || x.upgrade {
		close(x.reqBodyDone)
	} else {
		go x.feedBody()
	}
	// Until the response ends; after a 101, until the WebSocket closes.
	<-x.done
	x.st.Close()
	x.q.close()
	<-x.q.wait()
	// The connection carries another request only when this one was read to its end.
	select {
	case <-x.reqBodyDone:
	case <-time.After(100 * time.Millisecond):
		x.keepAlive = false
	}
	return x.keepAlive && !x.reset && !x.upgrade
}

func (x *exchange) finish() { x.doneOne.Do(func() { close(x.done) }) }

func (x *exchange) feedBody() {
	defer close(x.reqBodyDone)
	if strings.EqualFold(x.req.Header.Get("Expect"), "100-continue") {
		// The client waits for this before it sends the body (curl does for bodies over 1 KiB).
		x.q.push(func() {
			if !x.wroteHdr && !x.reset {
				_, _ = io.WriteString(x.cw, "HTTP/1.1 100 Continue\r\n\r\n")
				_ = x.cw.Flush()
			}
		})
	}
	// The length was checked against the limit before the plugin saw the headers.
	buf := make([]byte, 16<<10)
	for {
		n, err := x.req.Body.Read(buf)
		eof := errors.Is(err, io.EOF)
		if n > 0 || eof {
			x.st.RequestBody(buf[:n], eof)
		}
		if err != nil {
			if !eof {
				x.q.push(x.resetNow)
			}
			return
		}
	}
}

// requestHeaders is the request as Envoy's HTTP connection manager presents it to filters:
// pseudo-headers first, names lowercased.
func requestHeaders(req *http.Request) host.Headers {
	h := host.Headers{{":authority", req.Host}, {":path", req.RequestURI}, {":method", req.Method}, {":scheme", "https"}}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if lk == "host" {
			continue
		}
		for _, v := range vs {
			h = append(h, [2]string{lk, v})
		}
	}
	if req.ContentLength > 0 {
		if _, ok := h.Get("content-length"); !ok {
			h = append(h, [2]string{"content-length", strconv.FormatInt(req.ContentLength, 10)})
		}
	}
	if len(req.TransferEncoding) > 0 {
		h = append(h, [2]string{"transfer-encoding", strings.Join(req.TransferEncoding, ",")})
	}
	return h
}

// ---- host.HTTPSink: called on the VM's goroutine; the work goes to the queue ----

// OnUpstreamHeaders implements host.HTTPSink: the plugin let the request through.
func (x *exchange) OnUpstreamHeaders(h host.Headers, endStream bool) {
	h = h.Clone()
	x.q.push(func() {
		if x.upgrade {
			x.startWebSocket(h)
		} else {
			x.startHTTP(h, endStream)
		}
	})
}

// OnUpstreamData implements host.HTTPSink.
func (x *exchange) OnUpstreamData(b []byte, endStream bool) {
	b = append([]byte(nil), b...)
	x.q.push(func() {
		switch {
		case x.upConn != nil:
			if len(b) > 0 {
				x.act.touch()
				if _, err := x.upConn.Write(b); err != nil {
					x.resetNow()
					return
				}
			}
			if endStream {
				if tc, ok := x.upConn.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			}
		case x.bodyPipe != nil:
			if len(b) > 0 {
				_, _ = x.bodyPipe.Write(b)
			}
			if endStream {
				_ = x.bodyPipe.Close()
			}
		}
	})
}

// OnUpstreamTrailers implements host.HTTPSink (HTTP/1.1 request trailers are not forwarded).
func (x *exchange) OnUpstreamTrailers(host.Headers) {
	x.q.push(func() {
		if x.bodyPipe != nil {
			_ = x.bodyPipe.Close()
		}
	})
}

// OnClientHeaders implements host.HTTPSink: response headers (upstream or local) for the client.
func (x *exchange) OnClientHeaders(h host.Headers, endStream bool) {
	h = h.Clone()
	x.q.push(func() { x.writeHeaders(h, endStream) })
}

// OnClientData implements host.HTTPSink.
func (x *exchange) OnClientData(b []byte, endStream bool) {
	b = append([]byte(nil), b...)
	x.q.push(func() { x.writeBody(b, endStream) })
}

// OnClientTrailers implements host.HTTPSink: ends the response (trailers are dropped on HTTP/1.1).
func (x *exchange) OnClientTrailers(host.Headers) {
	x.q.push(func() { x.writeBody(nil, true) })
}

// OnLocalReply implements host.HTTPSink; the reply's headers and body follow.
func (x *exchange) OnLocalReply(host.LocalReply) {
	x.q.push(func() {
		if x.bodyPipe != nil {
			_ = x.bodyPipe.CloseWithError(errors.New("local reply"))
		}
	})
}

// OnReset implements host.HTTPSink.
func (x *exchange) OnReset(string) { x.q.push(x.resetNow) }

// ---- queue goroutine ----

func (x *exchange) resetNow() {
	x.reset = true
	x.keepAlive = false
	if x.bodyPipe != nil {
		_ = x.bodyPipe.CloseWithError(errors.New("stream reset"))
	}
	if x.upConn != nil {
		x.upConn.Close()
	}
	x.hc.c.Close()
	x.finish()
}

// upstreamFailed answers as Envoy's router does when the upstream cannot be reached; the answer
// goes through the plugin's response callbacks.
func (x *exchange) upstreamFailed(status int, body string) {
	st := x.st
	go func() {
		st.ResponseHeaders(host.Headers{{":status", strconv.Itoa(status)}, {"content-length", strconv.Itoa(len(body))}, {"content-type", "text/plain"}}, false)
		st.ResponseBody([]byte(body), true)
	}()
}

func (x *exchange) startHTTP(h host.Headers, endStream bool) {
	up := x.hc.sc.g.httpUpstream
	if up == nil {
		x.upstreamFailed(http.StatusBadGateway, "no HTTP upstream configured")
		return
	}
	method, _ := h.Get(":method")
	path, _ := h.Get(":path")
	authority, _ := h.Get(":authority")
	var body io.Reader = http.NoBody
	if !endStream {
		pr, pw := io.Pipe()
		x.bodyPipe = pw
		body = pr
	}
	req, err := http.NewRequest(method, up.Scheme+"://"+up.Host+path, body)
	if err != nil {
		x.upstreamFailed(http.StatusBadRequest, err.Error())
		return
	}
	req.Host = authority
	req.ContentLength = -1
	if endStream {
		req.ContentLength = 0
	}
	for _, kv := range h {
		k := kv[0]
		if strings.HasPrefix(k, ":") || hopByHop(k) {
			continue
		}
		if k == "content-length" {
			if n, err := strconv.ParseInt(kv[1], 10, 64); err == nil && !endStream {
				req.ContentLength = n
			}
			continue
		}
		req.Header.Add(k, kv[1])
	}
	req.Header.Set("x-forwarded-proto", "https")
	st := x.st
	transport := x.hc.sc.g.transport
	logf := x.hc.sc.g.logf
	go func() {
		resp, err := transport.RoundTrip(req)
		if err != nil {
			logf("gateway: HTTP upstream %s: %v", up.Host, err)
			body := "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
			st.ResponseHeaders(host.Headers{{":status", "503"}, {"content-length", strconv.Itoa(len(body))}, {"content-type", "text/plain"}}, false)
			st.ResponseBody([]byte(body), true)
			return
		}
		defer resp.Body.Close()
		rh := responseHeaders(resp)
		noBody := resp.ContentLength == 0
		st.ResponseHeaders(rh, noBody)
		if noBody {
			return
		}
		buf := make([]byte, 16<<10)
		for {
			n, err := resp.Body.Read(buf)
			eof := errors.Is(err, io.EOF)
			if n > 0 || eof {
				st.ResponseBody(buf[:n], eof)
			}
			if err != nil {
				if !eof {
					st.Close()
				}
				return
			}
		}
	}()
}

func responseHeaders(resp *http.Response) host.Headers {
	h := host.Headers{{":status", strconv.Itoa(resp.StatusCode)}}
	for k, vs := range resp.Header {
		lk := strings.ToLower(k)
		if hopByHop(lk) && lk != "upgrade" && lk != "connection" {
			continue
		}
		for _, v := range vs {
			h = append(h, [2]string{lk, v})
		}
	}
	if _, ok := h.Get("content-length"); !ok && resp.ContentLength >= 0 && resp.StatusCode != http.StatusSwitchingProtocols {
		h = append(h, [2]string{"content-length", strconv.FormatInt(resp.ContentLength, 10)})
	}
	return h
}

func hopByHop(k string) bool {
	switch k {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade":
		return true
	}
	return false
}

// startWebSocket dials the broker's WebSocket endpoint and sends the upgrade request the plugin
// let through; the broker's answer (101, or an error) goes back through the plugin.
func (x *exchange) startWebSocket(h host.Headers) {
	ws := x.hc.sc.g.brokerWS
	if ws == nil {
		x.upstreamFailed(http.StatusBadGateway, "no WebSocket upstream configured")
		return
	}
	conn, err := net.DialTimeout("tcp", ws.Host, 5*time.Second)
	if err != nil {
		x.hc.sc.g.logf("gateway: WebSocket upstream %s: %v", ws.Host, err)
		x.upstreamFailed(http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: connection failure")
		return
	}
	x.upConn = conn
	path, _ := h.Get(":path")
	target := ws.EscapedPath()
	if target == "" {
		target = "/"
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		target += path[i:]
	}
	method, _ := h.Get(":method")
	authority, _ := h.Get(":authority")
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nhost: %s\r\n", method, target, authority)
	for _, kv := range h {
		if strings.HasPrefix(kv[0], ":") || kv[0] == "host" || kv[0] == "content-length" || kv[0] == "transfer-encoding" {
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", kv[0], kv[1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		x.upstreamFailed(http.StatusServiceUnavailable, "upstream reset")
		return
	}
	st := x.st
	go func() {
		ubr := bufio.NewReaderSize(conn, 16<<10)
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		resp, err := http.ReadResponse(ubr, nil)
		_ = conn.SetReadDeadline(time.Time{})
		if err != nil {
			body := "upstream reset before the WebSocket answer"
			st.ResponseHeaders(host.Headers{{":status", "503"}, {"content-length", strconv.Itoa(len(body))}}, false)
			st.ResponseBody([]byte(body), true)
			return
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			rh := responseHeaders(resp)
			st.ResponseHeaders(rh, resp.ContentLength == 0)
			if resp.ContentLength != 0 {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				st.ResponseBody(b, true)
			}
			resp.Body.Close()
			return
		}
		st.ResponseHeaders(responseHeaders(resp), false)
		// From here on the broker's bytes are the response body.
		buf := make([]byte, 32<<10)
		for {
			n, err := ubr.Read(buf)
			if n > 0 {
				x.act.touch()
				st.ResponseBody(buf[:n], false)
			}
			if err != nil {
				st.ResponseBody(nil, true)
				return
			}
		}
	}()
}

// writeHeaders writes the response head to the client.
func (x *exchange) writeHeaders(h host.Headers, endStream bool) {
	if x.wroteHdr || x.reset {
		return
	}
	x.wroteHdr = true
	status, _ := h.Get(":status")
	code, _ := strconv.Atoi(status)
	switched := code == http.StatusSwitchingProtocols
	fmt.Fprintf(x.cw, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	_, hasLen := h.Get("content-length")
	for _, kv := range h {
		if strings.HasPrefix(kv[0], ":") || (!switched && (kv[0] == "connection" || kv[0] == "transfer-encoding" || kv[0] == "upgrade")) {
			continue
		}
		fmt.Fprintf(x.cw, "%s: %s\r\n", kv[0], kv[1])
	}
	if !switched {
		if !hasLen {
			if endStream {
				x.cw.WriteString("content-length: 0\r\n")
			} else {
				x.chunked = true
				x.cw.WriteString("transfer-encoding: chunked\r\n")
			}
		}
		if !x.keepAlive {
			x.cw.WriteString("connection: close\r\n")
		}
	}
	x.cw.WriteString("\r\n")
	if err := x.cw.Flush(); err != nil {
		x.resetNow()
		return
	}
	if switched {
		x.switched = true
		x.hc.mu.Lock()
		x.hc.upgraded = true
		x.hc.mu.Unlock()
		if x.hc.sc.isDraining() {
			_ = x.hc.c.SetReadDeadline(time.Now())
		}
		// The client's bytes now go through the plugin as the request body.
		go x.pumpClient()
	}
	if endStream {
		x.finish()
	}
}

func (x *exchange) writeBody(b []byte, endStream bool) {
	if x.reset {
		return
	}
	if !x.wroteHdr {
		x.writeHeaders(host.Headers{{":status", "200"}}, false)
	}
	if len(b) > 0 {
		if x.chunked {
			fmt.Fprintf(x.cw, "%x\r\n", len(b))
			x.cw.Write(b)
			x.cw.WriteString("\r\n")
		} else {
			x.cw.Write(b)
		}
	}
	if endStream && x.chunked {
		x.cw.WriteString("0\r\n\r\n")
	}
	_ = x.hc.c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if err := x.cw.Flush(); err != nil {
		x.resetNow()
		return
	}
	if endStream {
		if x.switched {
			// The broker closed the WebSocket: close the client.
			x.hc.c.Close()
		}
		x.finish()
	}
}

// pumpClient feeds the client's bytes after a 101 to the plugin as request body.
//
// The deadline set at the upgrade request holds until the WebSocket has carried a complete
// CONNECT (the first MQTT packet).
func (x *exchange) pumpClient() {
	var first wsFirstPacket
	connected := false
	buf := make([]byte, 32<<10)
	for {
		n, err := x.hc.br.Read(buf)
		if n > 0 {
			if !connected && first.feed(buf[:n]) {
				connected = true
				x.hc.sc.liftDeadline(x.hc.c)
			}
			x.st.RequestBody(buf[:n], false)
		}
		if err != nil {
			if !connected && isTimeout(err) && !x.hc.sc.isDraining() {
				x.hc.sc.g.decide(decision{eventType: "Disconnect", protocol: "MQTT", reason: reasonProtocol,
					disconnectReason: "CLIENT_ERROR", source: x.hc.sc.raw.RemoteAddr(),
					details: "no complete CONNECT within " + x.hc.sc.g.connectTimeout.String() + " of the WebSocket upgrade (mqtt.connectTimeoutSeconds)"})
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && x.hc.sc.isDraining() {
				// Shutdown: no more client bytes; what was read goes through and the broker's
				// answers come back, then the exchange ends.
				waitQuiet(x.hc.sc.g, x.q, &x.act, x.done)
				x.q.push(x.resetNow)
				return
			}
			x.st.RequestBody(nil, true)
			x.q.push(x.resetNow)
			return
		}
	}
}

var _ host.HTTPSink = (*exchange)(nil)

func isTokenChar(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}
