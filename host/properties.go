package host

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// PropertyPath is the path proxy_get_property receives for segments: the
// segments joined by NUL bytes, as Envoy reads them. It is the key of
// Properties.Extra.
func PropertyPath(segments ...string) string { return strings.Join(segments, "\x00") }

// property answers proxy_get_property for context c. Paths are segments
// joined by NUL bytes. Values: strings raw, integers 8-byte little-endian,
// maps in pair serialization.
//
// See https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes
func (vm *VM) property(c *vmContext, path string) ([]byte, abi.Status) {
	// One trailing NUL ends the last segment rather than starting an empty
	// one: Envoy's loop stops when the next segment would start at the end.
	path = strings.TrimSuffix(path, "\x00")
	segs := strings.Split(path, "\x00")
	top := segs[0]
	cfg := &c.root.plugin.cfg
	one := func(v []byte) ([]byte, abi.Status) {
		if len(segs) != 1 {
			return nil, abi.StatusNotFound
		}
		return v, abi.StatusOK
	}
	switch top {
	case "plugin_name":
		return one([]byte(cfg.PluginName))
	case "plugin_root_id":
		return one([]byte(cfg.RootID))
	case "plugin_vm_id":
		return one([]byte(cfg.VMID))
	}
	var props *Properties
	var fs map[string][]byte
	var st *HTTPStream
	switch {
	case c.stream != nil:
		st = c.stream
		props, fs = &st.props, st.filterState
	case c.conn != nil:
		props, fs = &c.conn.props, c.conn.filterState
	default:
		return nil, abi.StatusNotFound // no stream info on the root context
	}
	// Extra is keyed by the path as the guest sent it, segments and NULs:
	// Envoy walks the NUL-separated segments one by one (Context::getProperty
	// in source/extensions/common/wasm/context.cc), so ["a.b","c"] and
	// ["a","b","c"] are different paths.
	if v, ok := props.Extra[path]; ok {
		return v, abi.StatusOK
	}
	field := ""
	if len(segs) > 1 {
		field = segs[1]
	}
	le := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	two := func(v []byte, ok bool) ([]byte, abi.Status) {
		if !ok || len(segs) != 2 {
			return nil, abi.StatusNotFound
		}
		return v, abi.StatusOK
	}
	switch top {
	case "route_name", "route_metadata", "cluster_name", "cluster_metadata", "upstream":
		return routeProperty(st, cfg, segs)
	case "connection_id":
		return one(le(props.ConnectionID))
	case "connection":
		switch field {
		case "id":
			return two(le(props.ConnectionID), true)
		case "requested_server_name":
			return two([]byte(props.SNI), true)
		}
		return nil, abi.StatusNotFound
	case "source", "destination":
		addr := props.SourceAddress
		if top == "destination" {
			addr = props.DestinationAddress
		}
		if addr == "" {
			return nil, abi.StatusNotFound
		}
		switch field {
		case "address":
			return two([]byte(addr), true)
		case "port":
			_, port, err := net.SplitHostPort(addr)
			n, err2 := strconv.ParseUint(port, 10, 16)
			return two(le(n), err == nil && err2 == nil)
		}
		return nil, abi.StatusNotFound
	case "request":
		if st == nil || st.req.headers == nil {
			return nil, abi.StatusNotFound
		}
		return requestProperty(st, segs)
	case "response":
		if st == nil || st.resp.headers == nil {
			return nil, abi.StatusNotFound
		}
		h := st.resp.headers
		switch field {
		case "code":
			v, _ := h.Get(":status")
			n, err := strconv.ParseInt(v, 10, 64)
			return two(le(uint64(n)), err == nil)
		case "headers":
			return headersProperty(h, segs)
		case "code_details":
			return two([]byte(st.client.Details), st.client.Details != "")
		}
		return nil, abi.StatusNotFound
	}
	// Unknown names fall back to filter state "wasm.<name>" (proxy_set_property).
	if v, ok := fs["wasm."+top]; ok {
		return one(v)
	}
	return nil, abi.StatusNotFound
}

// requestHeaderProperty maps the request.* attributes that are one request header to that header.
var requestHeaderProperty = map[string]string{
	"path":      ":path",
	"host":      ":authority",
	"scheme":    ":scheme",
	"method":    ":method",
	"referer":   "referer",
	"useragent": "user-agent",
	"id":        "x-request-id",
}

func requestProperty(st *HTTPStream, segs []string) ([]byte, abi.Status) {
	h := st.req.headers
	if len(segs) < 2 {
		return nil, abi.StatusNotFound
	}
	str := func(v string, ok bool) ([]byte, abi.Status) {
		if !ok || len(segs) != 2 {
			return nil, abi.StatusNotFound
		}
		return []byte(v), abi.StatusOK
	}
	if name, ok := requestHeaderProperty[segs[1]]; ok {
		return str(h.Get(name))
	}
	path, _ := h.Get(":path")
	switch segs[1] {
	case "url_path":
		p, _, _ := strings.Cut(path, "?")
		return str(p, true)
	case "query":
		_, q, _ := strings.Cut(path, "?")
		return str(q, true)
	case "protocol":
		p := st.props.Protocol
		if p == "" {
			p = "HTTP/1.1"
		}
		return str(p, true)
	case "headers":
		return headersProperty(h, segs)
	}
	return nil, abi.StatusNotFound
}

// headersProperty is request.headers / response.headers: the whole map in
// pair serialization, or one header (values joined by ",").
func headersProperty(h Headers, segs []string) ([]byte, abi.Status) {
	switch len(segs) {
	case 2:
		return abi.AppendPairs(nil, h), abi.StatusOK
	case 3:
		vs := h.Values(segs[2])
		if len(vs) == 0 {
			return nil, abi.StatusNotFound
		}
		return []byte(strings.Join(vs, ",")), abi.StatusOK
	}
	return nil, abi.StatusNotFound
}

// setProperty is proxy_set_property: Envoy stores the value in the stream's
// filter state under "wasm.<path>"; without a stream it answers NotFound. A
// path its root context declared read-only (declare_property) is written
// once: a second write is BadArgument (Context::setProperty and
// CelState::setValue, source/extensions/common/wasm/context.cc).
func (vm *VM) setProperty(c *vmContext, path string, value []byte) abi.Status {
	var f *filter
	switch {
	case c.stream != nil:
		f = &c.stream.filter
	case c.conn != nil:
		f = &c.conn.filter
	default:
		return abi.StatusNotFound
	}
	if f.filterState == nil {
		f.filterState = map[string][]byte{}
	}
	key := "wasm." + path
	if _, exists := f.filterState[key]; exists {
		if f.readonly[key] {
			return abi.StatusBadArgument
		}
	} else if c.root.prototypes[path] {
		if f.readonly == nil {
			f.readonly = map[string]bool{}
		}
		f.readonly[key] = true
	}
	f.filterState[key] = value
	return abi.StatusOK
}

// routeProperty serves the route and cluster attributes of a stream from the
// host's Routes and Clusters, as Envoy's Context::findValue
// (source/extensions/common/wasm/context.cc) does from the stream info:
// route_name is the matched route's name ("" without a route, and on an L4
// connection); route_metadata needs a route; cluster_name is the route's
// cluster; cluster_metadata and upstream.address/upstream.port need the
// upstream host, chosen once the request went upstream. Metadata values are
// the whole envoy.config.core.v3.Metadata message; a path into it is
// NotFound here.
func routeProperty(st *HTTPStream, cfg *Config, segs []string) ([]byte, abi.Status) {
	var r *Route
	if st != nil {
		r = st.route
	}
	n := 1
	if segs[0] == "upstream" {
		n = 2
	}
	if len(segs) != n {
		return nil, abi.StatusNotFound
	}
	if segs[0] == "route_name" {
		if r == nil {
			return []byte{}, abi.StatusOK
		}
		return []byte(r.Name), abi.StatusOK
	}
	if r == nil {
		return nil, abi.StatusNotFound
	}
	switch segs[0] {
	case "route_metadata":
		b, err := metadataBytes(r.Metadata)
		if err != nil {
			return nil, abi.StatusSerializationFailure
		}
		return b, abi.StatusOK
	case "cluster_name":
		if r.Cluster == "" {
			return nil, abi.StatusNotFound
		}
		return []byte(r.Cluster), abi.StatusOK
	}
	c, known := cfg.Clusters[r.Cluster]
	if !known || !st.upstream.HeadersSent {
		return nil, abi.StatusNotFound
	}
	if segs[0] == "cluster_metadata" {
		b, err := metadataBytes(c.Metadata)
		if err != nil {
			return nil, abi.StatusSerializationFailure
		}
		return b, abi.StatusOK
	}
	addr, port, err := c.upstreamAddress()
	if err != nil || addr == "" {
		return nil, abi.StatusNotFound
	}
	switch segs[1] {
	case "address":
		return []byte(addr), abi.StatusOK
	case "port":
		return binary.LittleEndian.AppendUint64(nil, port), abi.StatusOK
	}
	return nil, abi.StatusNotFound
}
