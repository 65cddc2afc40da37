package compose

import (
	"bufio"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/iotauthz/iotauthz/refauth"
)

// Paths: this test runs in e2e/compose; the compose file lives in e2e/ and resolves its relative
// paths from there; the images see the repository root as /src (the tester) or build context.
const (
	e2eDir      = ".."
	repoRoot    = "../.."
	composeFile = "../docker-compose.yaml"
	envoyFile   = "../../envoy/envoy-compose.yaml"
)

type service struct {
	Image string `json:"image"`
	Build *struct {
		Context    string `json:"context"`
		Dockerfile string `json:"dockerfile"`
		Target     string `json:"target"`
	} `json:"build"`
	Entrypoint []string       `json:"entrypoint"`
	Command    []string       `json:"command"`
	Volumes    []string       `json:"volumes"`
	DependsOn  map[string]any `json:"depends_on"`
	Networks   map[string]struct {
		Aliases []string `json:"aliases"`
	} `json:"networks"`
}

func loadCompose(t *testing.T) map[string]service {
	t.Helper()
	raw, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]service `json:"services"`
		Volumes  map[string]any     `json:"volumes"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	if _, ok := c.Volumes["certs"]; !ok {
		t.Error("no named volume certs")
	}
	return c.Services
}

// mounts returns container path -> host source for the service's volumes.
func mounts(s service) map[string]string {
	m := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			m[parts[1]] = parts[0]
		}
	}
	return m
}

// flagValue returns the value of "-name=value" or "-name value" / "--name value" in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
		if a == name && i+1 < len(args) && strings.HasPrefix(args[i], "-") {
			return args[i+1], true
		}
	}
	return "", false
}

func TestCompose_Services(t *testing.T) {
	svcs := loadCompose(t)
	var names []string
	for n := range svcs {
		names = append(names, n)
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "authorizer certs envoy http-publish mosquitto tester" {
		t.Fatalf("services: %s", got)
	}

	for name, s := range svcs {
		if s.Build != nil {
			df := filepath.Join(e2eDir, s.Build.Context, s.Build.Dockerfile)
			b, err := os.ReadFile(df)
			if err != nil {
				t.Errorf("%s: dockerfile: %v", name, err)
				continue
			}
			if !regexp.MustCompile(`(?mi)^FROM \S+ AS ` + regexp.QuoteMeta(s.Build.Target) + `$`).Match(b) {
				t.Errorf("%s: %s has no stage %q", name, df, s.Build.Target)
			}
		} else if s.Image == "" {
			t.Errorf("%s: neither build nor image", name)
		}
		for dst, src := range mounts(s) {
			if !strings.HasPrefix(src, ".") {
				continue // named volume
			}
			p := filepath.Join(e2eDir, src)
			if src == "../dist/iotauthz.wasm" {
				continue // a build output: checked against the Makefile below
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: volume %s -> %s: %v", name, src, dst, err)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := svcs[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
	}

	envoy := svcs["envoy"]
	if !regexp.MustCompile(`^envoyproxy/envoy:v1\.(3[3-9]|[4-9][0-9])`).MatchString(envoy.Image) {
		t.Errorf("envoy image %q: want the official envoyproxy/envoy, 1.33 or newer", envoy.Image)
	}
	m := mounts(envoy)
	if cfg, _ := flagValue(envoy.Command, "c"); m[cfg] != "../envoy/envoy-compose.yaml" {
		t.Errorf("envoy -c %q is not envoy/envoy-compose.yaml (mounts %v)", cfg, m)
	}
	if m["/etc/envoy/iotauthz.wasm"] != "../dist/iotauthz.wasm" || m["/etc/envoy/certs"] != "certs" {
		t.Errorf("envoy mounts %v: want ../dist/iotauthz.wasm at /etc/envoy/iotauthz.wasm and the certs volume at /etc/envoy/certs", m)
	}

	// The Makefile builds the .wasm the stack mounts, then runs exactly this compose file.
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^WASM\s*:=\s*dist/iotauthz\.wasm$`).Match(mk) ||
		!regexp.MustCompile(`(?m)^e2e-compose:.*\bbuild\b`).Match(mk) ||
		!strings.Contains(string(mk), "docker compose -f e2e/docker-compose.yaml up --build --abort-on-container-exit --exit-code-from tester") {
		t.Error("Makefile: e2e-compose must depend on build (dist/iotauthz.wasm) and run this file with --exit-code-from tester")
	}

	// The tester runs the Compose scenarios of ./e2e against this stack, with files that exist.
	tester := svcs["tester"]
	cmd := strings.Join(tester.Command, " ")
	if !strings.HasPrefix(cmd, "go test ./e2e -run Compose") || !strings.Contains(cmd, "-args -e2e.target=compose") {
		t.Errorf("tester command %q", cmd)
	}
	if mounts(tester)["/certs"] != "certs" {
		t.Error("tester does not mount the certs volume at /certs")
	}
	if v, _ := flagValue(tester.Command, "e2e.ca"); v != "/certs/ca.pem" {
		t.Errorf("-e2e.ca=%q", v)
	}
	for _, f := range []string{"e2e.signing-key"} {
		v, ok := flagValue(tester.Command, f)
		p, inSrc := strings.CutPrefix(v, "/src/")
		if !ok || !inSrc {
			t.Errorf("-%s=%q: want a file of the repository under /src", f, v)
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot, p)); err != nil {
			t.Errorf("-%s: %v", f, err)
		}
	}
	if v, _ := flagValue(tester.Command, "e2e.authorizer"); v != "http://authorizer:9000" {
		t.Errorf("-e2e.authorizer=%q", v)
	}
	if !strings.Contains(strings.Join(svcs["authorizer"].Command, " "), "--admin") {
		t.Error("the authorizer must run with --admin: the tester sets rules and reads hits through it")
	}
}

// TestCompose_EnvoyAddresses checks that envoy-compose.yaml's clusters and server names point at
// what the compose services really serve.
func TestCompose_EnvoyAddresses(t *testing.T) {
	svcs := loadCompose(t)
	raw, err := os.ReadFile(envoyFile)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var bs struct {
		StaticResources struct {
			Listeners []struct {
				FilterChains []struct {
					FilterChainMatch struct {
						ServerNames []string `json:"server_names"`
					} `json:"filter_chain_match"`
				} `json:"filter_chains"`
			} `json:"listeners"`
			Clusters []struct {
				Name           string `json:"name"`
				LoadAssignment struct {
					Endpoints []struct {
						LbEndpoints []struct {
							Endpoint struct {
								Address struct {
									SocketAddress struct {
										Address   string `json:"address"`
										PortValue int    `json:"port_value"`
									} `json:"socket_address"`
								} `json:"address"`
							} `json:"endpoint"`
						} `json:"lb_endpoints"`
					} `json:"endpoints"`
				} `json:"load_assignment"`
			} `json:"clusters"`
		} `json:"static_resources"`
	}
	if err := json.Unmarshal(js, &bs); err != nil {
		t.Fatal(err)
	}

	// What each service listens on, read from its own configuration.
	serves := map[string]bool{}
	if l, ok := flagValue(svcs["authorizer"].Command, "listen"); ok {
		serves["authorizer:"+l[strings.LastIndexByte(l, ':')+1:]] = true
	}
	if l, ok := flagValue(svcs["http-publish"].Command, "listen"); ok {
		serves["http-publish:"+l[strings.LastIndexByte(l, ':')+1:]] = true
	}
	mq, err := os.Open("mosquitto.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer mq.Close()
	sc := bufio.NewScanner(mq)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "listener" {
			serves["mosquitto:"+f[1]] = true
		}
	}
	if b, _ := flagValue(svcs["http-publish"].Command, "broker"); !serves[b] {
		t.Errorf("http-publish -broker %q: mosquitto does not listen there (%v)", b, serves)
	}
	want := map[string]bool{"authorizer": true, "mqtt_broker": true, "mqtt_broker_ws": true, "http_publish": true}
	for _, c := range bs.StaticResources.Clusters {
		delete(want, c.Name)
		for _, e := range c.LoadAssignment.Endpoints {
			for _, lb := range e.LbEndpoints {
				sa := lb.Endpoint.Address.SocketAddress
				addr := fmt.Sprintf("%s:%d", sa.Address, sa.PortValue)
				if !serves[addr] {
					t.Errorf("cluster %s -> %s: no compose service serves it (served: %v)", c.Name, addr, serves)
				}
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("clusters missing from envoy-compose.yaml: %v", want)
	}

	aliases := map[string]bool{}
	for _, n := range svcs["envoy"].Networks {
		for _, a := range n.Aliases {
			aliases[a] = true
		}
	}
	for _, l := range bs.StaticResources.Listeners {
		for _, fc := range l.FilterChains {
			for _, sn := range fc.FilterChainMatch.ServerNames {
				if !aliases[sn] {
					t.Errorf("server name %s is not a network alias of envoy: clients could not use it as host name", sn)
				}
			}
		}
	}
	for _, f := range []string{"e2e.addr", "e2e.reject-addr"} {
		v, _ := flagValue(svcs["tester"].Command, f)
		if host := strings.TrimSuffix(v, ":443"); !aliases[host] || host == v {
			t.Errorf("-%s=%q: want one of envoy's aliases on port 443", f, v)
		}
	}
}

// TestCompose_Keys checks the committed throwaway token-signing key pair against the public key
// in envoy-compose.yaml.
func TestCompose_Keys(t *testing.T) {
	priv, err := os.ReadFile("testdata/token-signing-private.pem")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile("testdata/token-signing-public.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(priv)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(k.(crypto.Signer).Public())
	if string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})) != string(pub) {
		t.Fatal("token-signing-public.pem is not the public half of token-signing-private.pem")
	}
	env, _ := os.ReadFile(envoyFile)
	escaped, _ := json.Marshal(string(pub))
	if n := strings.Count(string(env), string(escaped)); n < 2 {
		t.Errorf("envoy-compose.yaml holds the test public key %d times, want it in both plugin configurations", n)
	}
}

func TestCompose_Rules(t *testing.T) {
	if _, err := refauth.Load("rules.json"); err != nil {
		t.Fatal(err)
	}
	svcs := loadCompose(t)
	a := svcs["authorizer"]
	r, _ := flagValue(a.Command, "rules")
	if mounts(a)[r] != "./compose/rules.json" {
		t.Errorf("authorizer --rules %s is not the mounted compose/rules.json (%v)", r, mounts(a))
	}
}

// TestGenCerts runs gen-certs.sh and checks Envoy's certificate against the CA for each data
// endpoint of envoy-compose.yaml.
func TestGenCerts(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (make deps installs it)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("sh", "gen-certs.sh", dir).CombinedOutput(); err != nil {
		t.Fatalf("gen-certs.sh: %v\n%s", err, out)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(read("ca.pem")) {
		t.Fatal("ca.pem holds no certificate")
	}
	block, _ := pem.Decode(read("server.pem"))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iot.example.test", "reject.iot.example.test"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("server.pem for %s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ca-key.pem")); err == nil {
		t.Error("the CA key was left behind")
	}
	if fi, err := os.Stat(filepath.Join(dir, "server-key.pem")); err != nil || fi.Mode().Perm()&0o004 == 0 {
		t.Errorf("server-key.pem must be readable by Envoy's unprivileged user: %v", err)
	}
	// The certificate paths Envoy reads are the files the script writes.
	env, _ := os.ReadFile(envoyFile)
	for _, p := range regexp.MustCompile(`/etc/envoy/certs/([a-z-]+\.pem)`).FindAllStringSubmatch(string(env), -1) {
		if _, err := os.Stat(filepath.Join(dir, p[1])); err != nil {
			t.Errorf("envoy-compose.yaml reads %s, which gen-certs.sh does not write", p[0])
		}
	}
}
