package envoy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"

	// Every typed_config the configurations use: importing a package registers its types, so the
	// google.protobuf.Any fields resolve. A type missing here fails the test with its type URL.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/wasm/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/iotauthz/iotauthz/plugin/config"
)

// validator is what protoc-gen-validate generates on every Envoy message.
type validator interface{ ValidateAll() error }

func TestConfigs(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("expected envoy.yaml, envoy-compose.yaml and istio-wasmplugin.yaml here, got %v (%v)", files, err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte("\napiVersion:")) || bytes.HasPrefix(raw, []byte("apiVersion:")) {
				checkIstio(t, raw)
				return
			}
			checkBootstrap(t, raw)
		})
	}
}

// pluginUse is one wasm filter found in a bootstrap: where it is and its parsed configuration.
type pluginUse struct {
	path string
	pc   *wasmv3.PluginConfig
	cfg  *config.Config
}

func checkBootstrap(t *testing.T, raw []byte) {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatalf("YAML: %v", err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("not an Envoy bootstrap: %v", err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("bootstrap validation: %v", err)
	}
	// Validate every typed extension (ValidateAll does not look inside Any) and collect the
	// plugin configurations.
	var plugins []pluginUse
	walk(t, b.ProtoReflect(), "bootstrap", func(path string, m proto.Message) {
		if pc, ok := m.(*wasmv3.PluginConfig); ok {
			plugins = append(plugins, pluginUse{path: path, pc: pc, cfg: checkPlugin(t, path, pc)})
		}
	})
	if len(plugins) == 0 {
		t.Fatal("no wasm filter found")
	}

	clusters := map[string]bool{}
	for _, c := range b.GetStaticResources().GetClusters() {
		clusters[c.GetName()] = true
	}
	for _, p := range plugins {
		if p.cfg == nil {
			continue
		}
		for name, a := range p.cfg.Authorizers {
			if !clusters[a.Cluster] {
				t.Errorf("%s: authorizer %s calls cluster %q, which is not defined", p.path, name, a.Cluster)
			}
		}
	}

	var sawMQTT, sawHTTP bool
	for _, l := range b.GetStaticResources().GetListeners() {
		hasInspector := false
		for _, lf := range l.GetListenerFilters() {
			if lf.GetName() == "envoy.filters.listener.tls_inspector" {
				hasInspector = true
			}
		}
		for i, fc := range l.GetFilterChains() {
			where := fmt.Sprintf("listener %s chain %d (%s)", l.GetName(), i, fc.GetName())
			m := fc.GetFilterChainMatch()
			if (len(m.GetServerNames()) > 0 || len(m.GetApplicationProtocols()) > 0) && !hasInspector {
				t.Errorf("%s: matches on SNI/ALPN without the tls_inspector listener filter", where)
			}
			mqtt, http := checkChain(t, where, fc, clusters, plugins)
			sawMQTT = sawMQTT || mqtt
			sawHTTP = sawHTTP || http
		}
	}
	if !sawMQTT || !sawHTTP {
		t.Errorf("want an MQTT/TLS chain (ALPN mqtt, wasm + tcp_proxy) and an HTTPS/WSS chain (wasm in the HTTP connection manager); got mqtt=%v http=%v", sawMQTT, sawHTTP)
	}
}

// checkChain checks one filter chain's shape and cross references. It reports whether the chain
// is the MQTT/TLS one and whether it is the HTTPS/WSS one.
func checkChain(t *testing.T, where string, fc *listenerv3.FilterChain, clusters map[string]bool, plugins []pluginUse) (mqtt, http bool) {
	t.Helper()
	var tlsCtx tlsv3.DownstreamTlsContext
	if ts := fc.GetTransportSocket(); ts == nil || ts.GetTypedConfig().UnmarshalTo(&tlsCtx) != nil {
		t.Errorf("%s: no TLS transport socket", where)
	}
	filters := fc.GetFilters()
	if len(filters) == 0 {
		t.Errorf("%s: no filters", where)
		return
	}
	// The plugin configurations of this chain: every server name it matches must be a data endpoint.
	var chainPlugins []*config.Config
	found := false
	for _, p := range plugins {
		if chainContains(fc, p.pc) {
			found = true
			if p.cfg != nil { // nil: its error is reported already
				chainPlugins = append(chainPlugins, p.cfg)
			}
		}
	}
	if !found {
		t.Errorf("%s: no iotauthz filter: traffic would pass unauthorized", where)
	}
	for _, sn := range fc.GetFilterChainMatch().GetServerNames() {
		for _, c := range chainPlugins {
			if !c.EndpointAllowed(sn) {
				t.Errorf("%s: server name %q is not in the plugin's dataEndpoints %v", where, sn, c.DataEndpoints)
			}
		}
	}

	last := filters[len(filters)-1]
	switch last.GetName() {
	case "envoy.filters.network.tcp_proxy":
		var tp tcpv3.TcpProxy
		if err := last.GetTypedConfig().UnmarshalTo(&tp); err != nil {
			t.Fatalf("%s: tcp_proxy: %v", where, err)
		}
		if !clusters[tp.GetCluster()] {
			t.Errorf("%s: tcp_proxy to undefined cluster %q", where, tp.GetCluster())
		}
		if filters[0].GetName() != "envoy.filters.network.wasm" {
			t.Errorf("%s: the first network filter is %s, want envoy.filters.network.wasm", where, filters[0].GetName())
		}
		if ap := fc.GetFilterChainMatch().GetApplicationProtocols(); len(ap) != 1 || ap[0] != "mqtt" {
			t.Errorf("%s: MQTT chain must match ALPN [mqtt] only, has %v", where, ap)
		}
		if got := tlsCtx.GetCommonTlsContext().GetAlpnProtocols(); len(got) != 1 || got[0] != "mqtt" {
			t.Errorf("%s: MQTT chain must negotiate ALPN mqtt, offers %v", where, got)
		}
		mqtt = true
	case "envoy.filters.network.http_connection_manager":
		var hcm hcmv3.HttpConnectionManager
		if err := last.GetTypedConfig().UnmarshalTo(&hcm); err != nil {
			t.Fatalf("%s: http_connection_manager: %v", where, err)
		}
		ws := false
		for _, u := range hcm.GetUpgradeConfigs() {
			ws = ws || strings.EqualFold(u.GetUpgradeType(), "websocket")
		}
		if !ws {
			t.Errorf("%s: no websocket upgrade_configs", where)
		}
		hf := hcm.GetHttpFilters()
		if len(hf) < 2 || hf[0].GetName() != "envoy.filters.http.wasm" || hf[len(hf)-1].GetName() != "envoy.filters.http.router" {
			t.Errorf("%s: HTTP filters must start with envoy.filters.http.wasm and end with the router", where)
		}
		paths := map[string]string{}
		for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				c := r.GetRoute().GetCluster()
				if c != "" && !clusters[c] {
					t.Errorf("%s: route %v to undefined cluster %q", where, r.GetMatch(), c)
				}
				key := r.GetMatch().GetPath() + r.GetMatch().GetPrefix()
				paths[key] = c
				if r.GetMatch().GetPath() == "/mqtt" && (r.GetRoute().GetTimeout() == nil || r.GetRoute().GetTimeout().AsDuration() != 0) {
					t.Errorf("%s: the WebSocket route /mqtt needs timeout 0s (no request timeout)", where)
				}
			}
			for _, d := range vh.GetDomains() {
				for _, c := range chainPlugins {
					if !c.EndpointAllowed(d) {
						t.Errorf("%s: virtual host domain %q is not in the plugin's dataEndpoints", where, d)
					}
				}
			}
		}
		if paths["/mqtt"] == "" || paths["/topics/"] != "http_publish" {
			t.Errorf("%s: want routes /mqtt -> broker websocket cluster and /topics/ -> http_publish, got %v", where, paths)
		}
		http = true
	default:
		t.Errorf("%s: last filter %s is not terminal (tcp_proxy or http_connection_manager)", where, last.GetName())
	}
	return mqtt, http
}

// chainContains reports whether pc is one of the plugin configurations inside fc.
func chainContains(fc *listenerv3.FilterChain, pc *wasmv3.PluginConfig) bool {
	found := false
	walk(nil, fc.ProtoReflect(), "", func(_ string, m proto.Message) {
		if m == pc {
			found = true
		}
	})
	return found
}

// walk visits every message under m, unpacking google.protobuf.Any values (failing the test on
// an unknown type or an invalid message) and calling visit with each message and its path.
// Unpacked messages are cached so visit sees the same pointer on every walk of the same tree.
func walk(t *testing.T, m protoreflect.Message, path string, visit func(path string, m proto.Message)) {
	visit(path, m.Interface())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		p := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkValue(t, l.Get(i).Message(), fmt.Sprintf("%s[%d]", p, i), visit)
			}
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				walkValue(t, mv.Message(), fmt.Sprintf("%s[%v]", p, k.Interface()), visit)
				return true
			})
		default:
			walkValue(t, v.Message(), p, visit)
		}
		return true
	})
}

var unpacked = map[*anypb.Any]proto.Message{}

func walkValue(t *testing.T, m protoreflect.Message, path string, visit func(string, proto.Message)) {
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		walk(t, m, path, visit)
		return
	}
	inner, ok := unpacked[a]
	if !ok {
		var err error
		inner, err = a.UnmarshalNew()
		if err != nil {
			if t != nil {
				t.Errorf("%s: %s: %v (import its go-control-plane package in this test)", path, a.GetTypeUrl(), err)
			}
			return
		}
		unpacked[a] = inner
		if v, ok := inner.(validator); ok && t != nil {
			if err := v.ValidateAll(); err != nil {
				t.Errorf("%s (%s): %v", path, a.GetTypeUrl(), err)
			}
		}
	}
	walk(t, inner.ProtoReflect(), path+"<"+string(inner.ProtoReflect().Descriptor().FullName())+">", visit)
}

// checkPlugin checks one wasm PluginConfig and parses its plugin configuration.
func checkPlugin(t *testing.T, path string, pc *wasmv3.PluginConfig) *config.Config {
	t.Helper()
	vm := pc.GetVmConfig()
	if vm == nil {
		t.Errorf("%s: no vm_config", path)
		return nil
	}
	if vm.GetRuntime() != "envoy.wasm.runtime.v8" {
		t.Errorf("%s: runtime %q, want envoy.wasm.runtime.v8", path, vm.GetRuntime())
	}
	if f := vm.GetCode().GetLocal().GetFilename(); !strings.HasSuffix(f, "/iotauthz.wasm") {
		t.Errorf("%s: code is %v, want a local file .../iotauthz.wasm", path, vm.GetCode())
	}
	if pc.GetFailOpen() {
		t.Errorf("%s: fail_open would let traffic through when the VM fails", path)
	}
	var sv wrapperspb.StringValue
	if err := pc.GetConfiguration().UnmarshalTo(&sv); err != nil {
		t.Errorf("%s: configuration must be a google.protobuf.StringValue holding the plugin JSON: %v", path, err)
		return nil
	}
	cfg, err := config.Parse([]byte(sv.GetValue()))
	if err != nil {
		t.Errorf("%s: plugin configuration: %v", path, err)
		return nil
	}
	return cfg
}

// istioCluster is the Envoy cluster name Istio gives a mesh service: outbound|PORT||HOST.
var istioCluster = regexp.MustCompile(`^outbound\|[0-9]+\|[^|]*\|[a-z0-9.-]+$`)

func checkIstio(t *testing.T, raw []byte) {
	docs := splitYAML(raw)
	var types []string
	for i, d := range docs {
		var obj struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Spec map[string]json.RawMessage `json:"spec"`
		}
		if err := yaml.UnmarshalStrict(d, &obj); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if obj.Kind != "WasmPlugin" {
			continue
		}
		where := "WasmPlugin " + obj.Metadata.Name
		if obj.APIVersion != "extensions.istio.io/v1alpha1" {
			t.Errorf("%s: apiVersion %q", where, obj.APIVersion)
		}
		known := map[string]bool{"selector": true, "targetRefs": true, "url": true, "sha256": true, "imagePullPolicy": true,
			"imagePullSecret": true, "pluginConfig": true, "pluginName": true, "phase": true, "priority": true,
			"failStrategy": true, "vmConfig": true, "match": true, "type": true}
		for k := range obj.Spec {
			if !known[k] {
				t.Errorf("%s: spec.%s is not a WasmPlugin field", where, k)
			}
		}
		var s struct {
			URL, Type, FailStrategy, Phase string
		}
		for k, dst := range map[string]*string{"url": &s.URL, "type": &s.Type, "failStrategy": &s.FailStrategy, "phase": &s.Phase} {
			if v, ok := obj.Spec[k]; ok {
				json.Unmarshal(v, dst)
			}
		}
		if s.URL == "" {
			t.Errorf("%s: no spec.url", where)
		}
		if s.Type != "HTTP" && s.Type != "NETWORK" {
			t.Errorf("%s: spec.type %q, want HTTP or NETWORK", where, s.Type)
		}
		types = append(types, s.Type)
		if s.FailStrategy != "FAIL_CLOSE" {
			t.Errorf("%s: spec.failStrategy %q, want FAIL_CLOSE (never fail open)", where, s.FailStrategy)
		}
		pcfg, ok := obj.Spec["pluginConfig"]
		if !ok {
			t.Errorf("%s: no spec.pluginConfig", where)
			continue
		}
		// Istio hands pluginConfig to the plugin as JSON text, as Envoy's StringValue does.
		cfg, err := config.Parse(pcfg)
		if err != nil {
			t.Errorf("%s: pluginConfig: %v", where, err)
			continue
		}
		for name, a := range cfg.Authorizers {
			if !istioCluster.MatchString(a.Cluster) {
				t.Errorf("%s: authorizer %s cluster %q is not an Istio cluster name (outbound|PORT||HOST)", where, name, a.Cluster)
			}
		}
	}
	if strings.Join(types, ",") != "NETWORK,HTTP" && strings.Join(types, ",") != "HTTP,NETWORK" {
		t.Errorf("want one NETWORK (MQTT/TLS) and one HTTP (HTTPS, WSS) WasmPlugin, got %v", types)
	}
}

// splitYAML splits a multi-document YAML stream on its "---" lines.
func splitYAML(raw []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(raw), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
