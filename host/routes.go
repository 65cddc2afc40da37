package host

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Route is one HTTP route of the host's route configuration (Envoy's
// route_config with one virtual host): a request whose :path starts with
// Prefix takes it. Config.Routes are tried in order, the first match wins,
// once per stream, on the request headers as the client sent them (as Envoy
// resolves and caches the route before the filter chain runs).
type Route struct {
	// Name is the route's name: property route_name.
	Name string
	// Prefix is the :path prefix the route matches ("" or "/": every path).
	Prefix string
	// Cluster names the route's cluster: property cluster_name. When it is a
	// key of Config.Clusters, the stream's upstream is that cluster's
	// (cluster_metadata, upstream.address, upstream.port).
	Cluster string
	// Metadata is the route's filter_metadata: property route_metadata,
	// served as Envoy serializes an envoy.config.core.v3.Metadata message.
	Metadata map[string]*structpb.Struct
}

func validateRoutes(cfg *Config) error {
	for i, r := range cfg.Routes {
		if r.Prefix != "" && !strings.HasPrefix(r.Prefix, "/") {
			return fmt.Errorf("host: route %d (%q): prefix %q does not start with /", i, r.Name, r.Prefix)
		}
	}
	for name, c := range cfg.Clusters {
		if _, _, err := c.upstreamAddress(); err != nil {
			return fmt.Errorf("host: cluster %q: %v", name, err)
		}
	}
	return nil
}

// route returns the first route matching the request's :path, or nil.
func (cfg *Config) route(h Headers) *Route {
	path, _ := h.Get(":path")
	for i := range cfg.Routes {
		if strings.HasPrefix(path, cfg.Routes[i].Prefix) {
			return &cfg.Routes[i]
		}
	}
	return nil
}

// upstreamAddress is the cluster's upstream host, "ip:port", and its port:
// Address, else the URL's host and port (80 or 443 by scheme when absent).
// No address (a Handler cluster without Address) is "", 0, nil.
func (c Cluster) upstreamAddress() (string, uint64, error) {
	addr := c.Address
	if addr == "" && c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || u.Host == "" {
			return "", 0, fmt.Errorf("URL %q is not http://host:port", c.URL)
		}
		addr = u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			addr = net.JoinHostPort(u.Hostname(), port)
		}
	}
	if addr == "" {
		return "", 0, nil
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("upstream address %q: %v", addr, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("upstream address %q: port %q", addr, p)
	}
	return addr, port, nil
}

// metadataBytes serializes an envoy.config.core.v3.Metadata message holding
// filter_metadata (field 1, map<string, google.protobuf.Struct>), keys
// sorted, as proxy_get_property serves a message value (serializeValue in
// Envoy's source/extensions/common/wasm/context.cc: the message's protobuf
// bytes).
func metadataBytes(m map[string]*structpb.Struct) ([]byte, error) {
	keys := slices.Sorted(maps.Keys(m))
	var out []byte
	for _, k := range keys {
		v, err := proto.MarshalOptions{Deterministic: true}.Marshal(m[k])
		if err != nil {
			return nil, err
		}
		var entry []byte
		entry = protowire.AppendString(protowire.AppendTag(entry, 1, protowire.BytesType), k)
		entry = protowire.AppendBytes(protowire.AppendTag(entry, 2, protowire.BytesType), v)
		out = protowire.AppendBytes(protowire.AppendTag(out, 1, protowire.BytesType), entry)
	}
	return out, nil
}
