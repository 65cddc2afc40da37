package envoy

import (
	"os"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	awslambdav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/aws_lambda/v3"
	upstreamcodecv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/upstream_codec/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/iotauthz/iotauthz/plugin/config"
)

// TestLambdaConfig checks what makes envoy-lambda.yaml reach the function; TestConfigs validates
// it as a bootstrap like the others (with these imports, its Any fields resolve). Each authorizer
// given by authorizerFunctionArn calls the cluster named by its ARN, and that cluster reaches the
// function's regional endpoint over verified TLS with Envoy's aws_lambda filter as its upstream
// HTTP filter: for that ARN, the event passed through, synchronously, before the upstream codec.
func TestLambdaConfig(t *testing.T) {
	raw, err := os.ReadFile("envoy-lambda.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatal(err)
	}
	clusters := map[string]*clusterv3.Cluster{}
	for _, c := range b.GetStaticResources().GetClusters() {
		clusters[c.GetName()] = c
	}
	lambdas := map[string]*config.FunctionARN{}
	walk(t, b.ProtoReflect(), "bootstrap", func(path string, m proto.Message) {
		if pc, ok := m.(*wasmv3.PluginConfig); ok {
			if cfg := checkPlugin(t, path, pc); cfg != nil {
				for _, a := range cfg.Authorizers {
					if a.Function != nil {
						lambdas[a.Cluster] = a.Function
					}
				}
			}
		}
	})
	if len(lambdas) == 0 {
		t.Fatal("no authorizer with authorizerFunctionArn")
	}
	for name, fn := range lambdas {
		c := clusters[name]
		if c == nil {
			t.Errorf("no cluster named %q", name)
			continue
		}
		checkLambdaCluster(t, c, fn)
	}
}

func checkLambdaCluster(t *testing.T, c *clusterv3.Cluster, fn *config.FunctionARN) {
	t.Helper()
	host := fn.Host()
	eps := c.GetLoadAssignment().GetEndpoints()
	if len(eps) != 1 || len(eps[0].GetLbEndpoints()) != 1 {
		t.Fatalf("cluster %s: want one endpoint, %s:443", c.GetName(), host)
	}
	sa := eps[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if sa.GetAddress() != host || sa.GetPortValue() != 443 {
		t.Errorf("cluster %s: endpoint %s:%d, want the function's regional endpoint %s:443", c.GetName(), sa.GetAddress(), sa.GetPortValue(), host)
	}
	var tc tlsv3.UpstreamTlsContext
	if ts := c.GetTransportSocket(); ts == nil || ts.GetTypedConfig().UnmarshalTo(&tc) != nil {
		t.Fatalf("cluster %s: no TLS transport socket", c.GetName())
	}
	vc := tc.GetCommonTlsContext().GetValidationContext()
	if tc.GetSni() != host || vc.GetTrustedCa() == nil || len(vc.GetMatchTypedSubjectAltNames()) == 0 ||
		vc.GetMatchTypedSubjectAltNames()[0].GetMatcher().GetExact() != host {
		t.Errorf("cluster %s: TLS must send SNI %s and verify the certificate (a CA and the SAN %s); got %v", c.GetName(), host, host, &tc)
	}
	any, ok := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
	if !ok {
		t.Fatalf("cluster %s: no HttpProtocolOptions (the upstream HTTP filters)", c.GetName())
	}
	var po httpv3.HttpProtocolOptions
	if err := any.UnmarshalTo(&po); err != nil {
		t.Fatalf("cluster %s: HttpProtocolOptions: %v", c.GetName(), err)
	}
	if err := po.ValidateAll(); err != nil {
		t.Fatalf("cluster %s: HttpProtocolOptions: %v", c.GetName(), err)
	}
	fs := po.GetHttpFilters()
	if len(fs) != 2 {
		t.Fatalf("cluster %s: upstream filters %d, want aws_lambda then upstream_codec", c.GetName(), len(fs))
	}
	var lc awslambdav3.Config
	if fs[0].GetName() != "envoy.filters.http.aws_lambda" || fs[0].GetTypedConfig().UnmarshalTo(&lc) != nil {
		t.Fatalf("cluster %s: first upstream filter %q, want envoy.filters.http.aws_lambda", c.GetName(), fs[0].GetName())
	}
	if err := lc.ValidateAll(); err != nil {
		t.Fatalf("cluster %s: aws_lambda: %v", c.GetName(), err)
	}
	if lc.GetArn() != fn.String() || !lc.GetPayloadPassthrough() || lc.GetInvocationMode() != awslambdav3.Config_SYNCHRONOUS {
		t.Errorf("cluster %s: aws_lambda arn %q passthrough %v mode %v; want %q, true, SYNCHRONOUS", c.GetName(),
			lc.GetArn(), lc.GetPayloadPassthrough(), lc.GetInvocationMode(), fn.String())
	}
	if lc.GetCredentials() != nil {
		t.Errorf("cluster %s: aws_lambda carries static credentials; use Envoy's credential providers", c.GetName())
	}
	var uc upstreamcodecv3.UpstreamCodec
	if fs[1].GetName() != "envoy.filters.http.upstream_codec" || fs[1].GetTypedConfig().UnmarshalTo(&uc) != nil {
		t.Errorf("cluster %s: last upstream filter %q, want envoy.filters.http.upstream_codec", c.GetName(), fs[1].GetName())
	}
}
