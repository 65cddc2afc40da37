package host_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/iotauthz/iotauthz/host"
)

// proxy_on_log runs in Envoy's access-log phase (Context::log): the final
// request headers, response headers and response trailers are readable
// through the header-map calls (getConstMap serves access_log_*_headers_),
// and a write answers BadArgument.
// See https://github.com/envoyproxy/envoy/blob/main/source/extensions/common/wasm/context.cc
func TestHTTPStream_OnLogReadsHeaders(t *testing.T) {
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		p, _ := newPlugin(t, host.Config{Profile: profile})
		// onLog runs a stream with request action, ended after the request
		// headers if endRequest, through respond, closes it, checks the one
		// access_log line proxy_on_log wrote and clears the logs.
		onLog := func(what, action string, endRequest bool, respond func(*host.HTTPStream), want string) {
			t.Helper()
			s := p.Worker(0).NewHTTPStream(host.Properties{})
			s.RequestHeaders(reqHeaders(action), endRequest)
			respond(s)
			s.Close()
			if got := logsContaining(p, "access_log "); len(got) != 1 || !strings.HasSuffix(got[0], want) {
				t.Fatalf("on_log%s: %q, want suffix %q", what, got, want)
			}
			p.ResetLogs()
		}
		// 5 request headers; the pair count shows the whole map was read.
		onLog("", "pass", true, func(s *host.HTTPStream) {
			s.ResponseHeaders(host.Headers{{":status", "201"}}, false)
			s.ResponseBody([]byte("ok"), false)
			s.ResponseTrailers(host.Headers{{"x-resp-trailer", "t1"}})
		}, "action=pass:0 status=201:0 trailer=t1:0 pairs=5:0 add=2")
		// A local reply: the response headers are the reply's.
		onLog(" after a local reply", "local", true, func(*host.HTTPStream) {},
			"action=local:0 status=403:0 trailer=:2 pairs=5:0 add=2")
		// A stream reset before any response: no response headers.
		onLog(" after a reset", "pass", false, func(*host.HTTPStream) {},
			"action=pass:0 status=:2 trailer=:2 pairs=5:0 add=2")
	})
}

// A local reply to a gRPC request is Envoy's trailers-only gRPC response:
// :status 200, content-type application/grpc, grpc-status from the plugin or
// mapped from the HTTP status, the body percent-encoded as grpc-message and
// no body (source/common/http/utility.cc sendLocalReply, is_grpc_;
// source/common/grpc/status.cc httpToGrpcStatus).
func TestHTTPStream_GRPCLocalReply(t *testing.T) {
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		p, _ := newPlugin(t, host.Config{Profile: profile})
		for _, tc := range []struct {
			name, action, ct, method, grpc string
			want                           host.Headers
		}{
			{name: "mapped 403, extra headers", action: "local", ct: "application/grpc",
				want: host.Headers{{":status", "200"}, {"content-type", "application/grpc"}, {"x-extra", "1"}, {"grpc-status", "7"}, {"grpc-message", "nope"}}},
			{name: "mapped 503, percent-encoded", action: "local-grpc", ct: "application/grpc+proto",
				want: host.Headers{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "14"}, {"grpc-message", "busy: 50%25%0A"}}},
			{name: "plugin's grpc_status", action: "local-grpc", ct: "application/grpc;charset=utf-8", grpc: "3",
				want: host.Headers{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "3"}, {"grpc-message", "busy: 50%25%0A"}}},
			{name: "out of range grpc_status", action: "local-grpc", ct: "application/grpc", grpc: "17",
				want: host.Headers{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "14"}, {"grpc-message", "busy: 50%25%0A"}}},
			{name: "HEAD: no grpc-message", action: "local-grpc", ct: "application/grpc", method: "HEAD",
				want: host.Headers{{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "14"}}},
			{name: "not gRPC", action: "local-grpc", ct: "application/grpcx",
				want: host.Headers{{":status", "503"}, {"content-length", "10"}, {"content-type", "text/plain"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := reqHeaders(tc.action, "content-type", tc.ct)
				if tc.grpc != "" {
					h = append(h, [2]string{"x-grpc", tc.grpc})
				}
				if tc.method != "" {
					h[0][1] = tc.method
				}
				s := p.Worker(0).NewHTTPStream(host.Properties{})
				s.RequestHeaders(h, true)
				c := s.Client()
				got := host.Headers{}
				for _, kv := range c.Headers {
					if kv[0] != "x-wasm" && kv[0] != "x-req-map" { // the guest's response callback adds these
						got = append(got, kv)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) || !c.End {
					t.Fatalf("headers %v end=%v\nwant    %v", got, c.End, tc.want)
				}
				if tc.want[0][1] == "200" && len(c.Body) != 0 {
					t.Fatalf("trailers-only reply has a body: %q", c.Body)
				}
			})
		}
	})
}

// A plugin's local reply headers are added to the reply as Envoy's prepareLocalReply does
// (source/common/http/utility.cc): its content-type stands (text/plain only when it names none),
// content-length is the body's, and a reply without a body has neither.
func TestHTTPStream_LocalReplyHeaders(t *testing.T) {
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		p, _ := newPlugin(t, host.Config{Profile: profile})
		for _, tc := range []struct {
			body string
			want host.Headers
		}{
			{"{}", host.Headers{{":status", "403"}, {"content-type", "application/json"}, {"content-length", "2"}, {"x-extra", "1"}}},
			{"", host.Headers{{":status", "403"}, {"x-extra", "1"}}},
		} {
			s := p.Worker(0).NewHTTPStream(host.Properties{})
			s.RequestHeaders(reqHeaders("local-headers", "x-body", tc.body), true)
			c := s.Client()
			got := host.Headers{}
			for _, kv := range c.Headers {
				if kv[0] != "x-wasm" && kv[0] != "x-req-map" { // the guest's response callback adds these
					got = append(got, kv)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || string(c.Body) != tc.body {
				t.Errorf("body %q: headers %v body %q\nwant %v", tc.body, got, c.Body, tc.want)
			}
		}
	})
}

// Property paths are NUL-separated segments, walked one by one (Envoy's
// Context::getProperty in source/extensions/common/wasm/context.cc splits
// the path on '\0'): a segment may hold a ".", and ["a.b","c"] is not
// ["a","b","c"]. One trailing NUL ends the last segment (the loop stops
// when the next segment would start at the path's end). A header whose name
// has a "." is request.headers' third segment, not two more.
func TestProperties_PathSegments(t *testing.T) {
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		p, _ := newPlugin(t, host.Config{Profile: profile})
		s := p.Worker(0).NewHTTPStream(host.Properties{Extra: map[string][]byte{
			host.PropertyPath("a.b", "c"):    []byte("two-segments"),
			host.PropertyPath("a", "b", "c"): []byte("three-segments"),
			host.PropertyPath("x.y"):         []byte("one-segment"),
		}})
		// "|" separates the guest's segments when present, else ".".
		paths := "a.b|c,a.b.c,a|b.c,x.y|,x.y||,x|y,x.y,request|headers|x.dot,request.headers.x.dot"
		s.RequestHeaders(reqHeaders("props", "x-props", paths, "x.dot", "dotted"), true)
		wantLines(t, "properties", string(s.Client().Body),
			"a.b|c=0:two-segments",
			"a.b.c=0:three-segments",
			"a|b.c=1:",
			"x.y|=0:one-segment", // one trailing NUL ends the segment
			"x.y||=1:",           // ["x.y",""]
			"x|y=1:",
			"x.y=1:", // ["x","y"]
			"request|headers|x.dot=0:dotted",
			"request.headers.x.dot=1:",
			"",
		)
	})
}

// A close the proxy makes itself is reported as local: Envoy's network
// filter maps the downstream connection's LocalClose event to
// CloseType::Local (Context::onEvent in
// source/extensions/common/wasm/context.cc), which is what tcp_proxy causes
// when it closes the client's connection after the upstream ended. The
// upstream's end itself is CloseType::Unknown (Context::onUpstreamData).
func TestConnection_CloseLocal(t *testing.T) {
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		p, _ := newPlugin(t, host.Config{Profile: profile})
		sink := &connSink{}
		c := p.Worker(0).NewConnectionSink(l4("none"), sink)
		c.DownstreamData([]byte("hi"), false)
		c.UpstreamData([]byte("bye"), true)
		c.CloseLocal()
		want := "create, new_connection, downstream_data len=2, upstream_data len=3, upstream_close peer=0, " +
			"downstream_close peer=1, done, log, delete"
		if got := ctxEvents(p, c.ContextID()); got != want {
			t.Fatalf("events\n got %s\nwant %s", got, want)
		}
		if s := c.State(); !s.Closed || !s.Done || s.CloseDetails != "" {
			t.Fatalf("state %+v", s)
		}
		// The caller closed its sockets: the sink hears no close.
		if got := strings.Join(sink.events, "|"); got != "up hi -|client bye eos" {
			t.Fatalf("sink %s", got)
		}
		// Whatever comes after is not the plugin's any more.
		c.Close()
		c.CloseLocal()
		if st := c.DownstreamData([]byte("late"), false); st != host.Continue {
			t.Fatal(st)
		}
		if got := ctxEvents(p, c.ContextID()); got != want {
			t.Fatalf("events after a late close\n got %s\nwant %s", got, want)
		}
		if got := strings.Join(sink.events, "|"); got != "up hi -|client bye eos" {
			t.Fatalf("late bytes reached the sink: %s", got)
		}

		// A client that hangs up is remote; a CloseLocal after it changes nothing.
		c = p.Worker(0).NewConnection(l4("none"))
		c.Close()
		c.CloseLocal()
		if got := ctxEvents(p, c.ContextID()); got != "create, new_connection, downstream_close peer=2, done, log, delete" {
			t.Fatalf("remote close: %s", got)
		}
	})
}

// Routes and clusters from the host's configuration, served as Envoy's
// Context::findValue (source/extensions/common/wasm/context.cc) serves them
// from the stream info: route_name ("" without a route), route_metadata and
// cluster_metadata as serialized envoy.config.core.v3.Metadata messages,
// cluster_name from the route, and the upstream host's address only once
// the request went upstream.
func TestProperties_RoutesAndClusters(t *testing.T) {
	meta := func(filter, k, v string) map[string]*structpb.Struct {
		s, err := structpb.NewStruct(map[string]any{k: v})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*structpb.Struct{filter: s}
	}
	routeMeta, clusterMeta := meta("envoy.filters.http.wasm", "tier", "gold"), meta("iot", "pool", "a")
	cfgFor := func(profile host.Profile) host.Config {
		return host.Config{Profile: profile,
			Routes: []host.Route{
				{Name: "r-api", Prefix: "/api/", Cluster: "backend", Metadata: routeMeta},
				{Name: "r-other", Prefix: "/other", Cluster: "elsewhere"},
			},
			Clusters: map[string]host.Cluster{
				"backend": {Handler: http.NotFoundHandler(), Address: "10.0.0.5:8443", Metadata: clusterMeta},
			},
		}
	}
	// The Metadata message, built with the generated Envoy type.
	wire := func(m map[string]*structpb.Struct) string {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&corev3.Metadata{FilterMetadata: m})
		if err != nil {
			t.Fatal(err)
		}
		return "0x" + hex.EncodeToString(b)
	}
	const paths = "route_name,route_metadata,cluster_name,cluster_metadata,upstream.address,upstream.port,route_name.x,upstream.tls_version"
	run := func(p *host.Plugin, path string) (req, resp string) {
		p.ResetLogs()
		s := p.Worker(0).NewHTTPStream(host.Properties{})
		h := reqHeaders("route-props", "x-props", paths)
		h[1][1] = path
		s.RequestHeaders(h, true)
		s.ResponseHeaders(host.Headers{{":status", "200"}}, true)
		s.Close()
		for _, l := range logsContaining(p, "route_props ") {
			switch {
			case strings.HasPrefix(l, "route_props request "):
				req = strings.TrimSpace(strings.TrimPrefix(l, "route_props request "))
			case strings.HasPrefix(l, "route_props response "):
				resp = strings.TrimSpace(strings.TrimPrefix(l, "route_props response "))
			}
		}
		return req, resp
	}
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		p, _ := newPlugin(t, cfgFor(profile))
		req, resp := run(p, "/api/things")
		wantReq := "route_name=0:r-api route_metadata=0:" + wire(routeMeta) + " cluster_name=0:backend " +
			"cluster_metadata=1: upstream.address=1: upstream.port=1: route_name.x=1: upstream.tls_version=1:"
		if req != wantReq {
			t.Fatalf("request phase\n got %s\nwant %s", req, wantReq)
		}
		wantResp := "route_name=0:r-api route_metadata=0:" + wire(routeMeta) + " cluster_name=0:backend " +
			"cluster_metadata=0:" + wire(clusterMeta) + " upstream.address=0:10.0.0.5:8443 " +
			"upstream.port=0:0xfb20000000000000 route_name.x=1: upstream.tls_version=1:"
		if resp != wantResp {
			t.Fatalf("response phase\n got %s\nwant %s", resp, wantResp)
		}
		// A route whose cluster the host does not know: a name, no upstream host.
		req, resp = run(p, "/other")
		want := "route_name=0:r-other route_metadata=0: cluster_name=0:elsewhere cluster_metadata=1: " +
			"upstream.address=1: upstream.port=1: route_name.x=1: upstream.tls_version=1:"
		if req != want || resp != want {
			t.Fatalf("unknown cluster\n got %s\n     %s\nwant %s", req, resp, want)
		}
		// No route: route_name is "", the rest NotFound.
		req, resp = run(p, "/nowhere")
		want = "route_name=0: route_metadata=1: cluster_name=1: cluster_metadata=1: " +
			"upstream.address=1: upstream.port=1: route_name.x=1: upstream.tls_version=1:"
		if req != want || resp != want {
			t.Fatalf("no route\n got %s\n     %s\nwant %s", req, resp, want)
		}
	})
	// Configuration errors are reported by New.
	for name, cfg := range map[string]host.Config{
		"prefix":  {Routes: []host.Route{{Prefix: "api"}}},
		"address": {Clusters: map[string]host.Cluster{"c": {Handler: http.NotFoundHandler(), Address: "10.0.0.5"}}},
		"port":    {Clusters: map[string]host.Cluster{"c": {Handler: http.NotFoundHandler(), Address: "10.0.0.5:99999"}}},
	} {
		cfg.Module = guest(t, "conformance")
		if _, err := host.New(context.Background(), cfg); err == nil {
			t.Fatalf("%s: New accepted %+v", name, cfg)
		}
	}
}
