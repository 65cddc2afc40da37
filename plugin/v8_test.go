//go:build !wasm && unix

package main

// The V8 benchmark scenarios (bench/v8/host.mjs runs them in node's V8) and the proof that the
// V8 bench host and host/ reach the same decisions on them. The scenarios are built here, from
// the same helpers, configuration and authorizer answers as bench_test.go, so that a V8 figure
// and a wazero figure measure the same work:
//
//	go test -run '^TestV8SameDecisions$' ./plugin                                 the check
//	go test -run '^TestV8SameDecisions$' ./plugin -args -v8.scenarios FILE        also writes FILE
//	go test -run '^TestV8SameDecisions$' ./plugin -args -v8.rsa DIR               and the RSA guest's inputs
//
// scripts/bench.sh writes the file that way, then runs node bench/v8/host.mjs bench on it.

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

var (
	v8ScenariosOut = flag.String("v8.scenarios", "", "also write the V8 benchmark scenarios (full token pools) to this file")
	v8RSADir       = flag.String("v8.rsa", "", "also write key.pem, msg and sig for plugin/token's verify guest (node host.mjs rsa) into this directory")
)

// v8RSAToken is the message the verify guest checks, a token as devices send it.
const v8RSAToken = "eyJzdWIiOiJkZXZpY2UtNDIiLCJleHAiOjE3OTk5OTk5OTl9.device-42"

// writeV8RSA writes the verify guest's inputs: the test key's PEM, a token and its raw
// signature.
func writeV8RSA(t *testing.T, dir string) {
	sig, err := base64.StdEncoding.DecodeString(sign(testKey, v8RSAToken))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"key.pem": []byte(testPEM), "msg": []byte(v8RSAToken), "sig": sig} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// v8ColdPool is the number of distinct signed tokens of a cold scenario in the written file: a
// V8 run of the cold path uses each at most once.
const v8ColdPool = 2500

type v8Step struct {
	Do          string      `json:"do"`
	Conn        uint64      `json:"conn,omitempty"`
	SNI         string      `json:"sni,omitempty"`
	Source      string      `json:"source,omitempty"`
	Destination string      `json:"destination,omitempty"`
	Headers     [][2]string `json:"headers,omitempty"`
	EOS         bool        `json:"eos,omitempty"`
	Data        string      `json:"data,omitempty"` // base64
}

type v8Answer struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

type v8Scenario struct {
	Name    string     `json:"name"`
	Config  string     `json:"config"`
	Cluster string     `json:"cluster"`
	Answer  v8Answer   `json:"answer"`
	Setup   []v8Step   `json:"setup"`
	Ops     [][]v8Step `json:"ops"`
	Unique  bool       `json:"unique,omitempty"`
	Per     int        `json:"per,omitempty"`
	PerUnit string     `json:"perUnit,omitempty"`
	Expect  string     `json:"expect"`
}

// v8Outcome is what one step did, as both hosts report it.
type v8Outcome struct {
	Kind      string      `json:"kind"`
	Paused    bool        `json:"paused,omitempty"`
	Forwarded bool        `json:"forwarded,omitempty"`
	Headers   [][2]string `json:"headers,omitempty"`
	Reply     *v8Reply    `json:"reply,omitempty"`
	Reset     bool        `json:"reset,omitempty"`
	Calls     int64       `json:"calls,omitempty"`
	Continue  bool        `json:"continue,omitempty"`
	ToBroker  int         `json:"toBroker,omitempty"`
	ToClient  int         `json:"toClient,omitempty"`
	Closed    bool        `json:"closed,omitempty"`
	Details   string      `json:"details,omitempty"`
}

type v8Reply struct {
	Status  int         `json:"status"`
	Body    string      `json:"body"`
	Headers [][2]string `json:"headers"`
}

type v8Result struct {
	Steps []v8Outcome `json:"steps"`
	Conn  *v8Conn     `json:"conn"`
}

type v8Conn struct {
	ToBroker string `json:"toBroker"` // base64 of every byte that reached the broker
	ToClient string `json:"toClient"`
	Closed   bool   `json:"closed"`
	Details  string `json:"details"`
}

// verdict is the short form of an op's last outcome that host.mjs checks on every timed op.
func (o v8Outcome) verdict() string {
	switch o.Kind {
	case "http":
		switch {
		case o.Reply != nil:
			return "reply:" + strconv.Itoa(o.Reply.Status)
		case o.Forwarded:
			return "forwarded"
		}
		return "held"
	case "open":
		return "open"
	}
	if o.Closed {
		return "closed:" + o.Details
	}
	if o.Continue {
		return "continue:" + strconv.Itoa(o.ToBroker)
	}
	return "pause:" + strconv.Itoa(o.ToBroker)
}

func sortedPairs(h [][2]string) [][2]string {
	if h == nil {
		return nil
	}
	out := append([][2]string(nil), h...)
	sort.SliceStable(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// v8Scenarios builds the scenarios; cold scenarios get pool distinct tokens.
func v8Scenarios(t testing.TB, pool int) []v8Scenario {
	cfg := func(mutate func(map[string]any)) string { return string(configJSON(t, mutate)) }
	httpStep := func(h host.Headers) v8Step {
		p := httpProps(1)
		return v8Step{Do: "http", Conn: p.ConnectionID, SNI: p.SNI, Source: p.SourceAddress, Destination: p.DestinationAddress, Headers: h, EOS: true}
	}
	quiet := cfg(benchQuiet)
	device := v8Answer{200, devicePolicy("device1")}
	tok := "bench-token-1"
	good := sign(testKey, tok)
	allowed := publishHeaders(benchTopic, tok, good)
	warm := []v8Step{httpStep(allowed)}
	cached := func(name string, h host.Headers, expect string) v8Scenario {
		return v8Scenario{Name: name, Config: quiet, Cluster: "authorizer", Answer: device, Setup: warm,
			Ops: [][]v8Step{{httpStep(h)}}, Expect: expect}
	}
	out := []v8Scenario{
		// P1: BenchmarkHTTPPublishCached
		cached("HTTPPublishCached", allowed, "forwarded"),
		// P1d: the deny paths, on the same warmed connection as the cached allow
		cached("HTTPDenyNoToken", remove(allowed, "x-device-token"), "reply:403"),
		cached("HTTPDenyBadSignature", publishHeaders(benchTopic, tok, sign(otherKey, tok)), "reply:403"),
		cached("HTTPDenyWrongHost", replace(allowed, ":authority", "evil.example.com"), "reply:403"),
		cached("HTTPDenyUnknownAuthorizer", publishHeaders(benchTopic, tok, good, "x-amz-customauthorizer-name", "nope"), "reply:403"),
		cached("HTTPDenyPolicy", replace(allowed, ":path", "/topics/device%2Fsecret?qos=1"), "reply:403"),
	}

	// P2: BenchmarkMQTTPublishAuthorize
	batch := publishBatch(4)
	b64 := base64.StdEncoding.EncodeToString
	out = append(out, v8Scenario{Name: "MQTTPublishAuthorize", Config: quiet, Cluster: "authorizer", Answer: v8Answer{200, mqttPolicy()},
		Setup: []v8Step{
			{Do: "open", Conn: 7, SNI: "iot.example.com", Source: "198.51.100.4:40000"},
			{Do: "down", Data: b64(connectPkt(4, benchClientID, credUsername("tok-"+benchClientID)))},
			{Do: "up", Data: b64(connackPkt(4))},
		},
		Ops: [][]v8Step{{{Do: "down", Data: b64(batch)}}}, Per: mqttBatch, PerUnit: "packet",
		Expect: "continue:" + strconv.Itoa(len(batch))})

	// P3: BenchmarkColdAuthorization (RSA-2048 verify in wasm, the call, compile, decision) and
	// its unsigned twin; every op a token never seen before.
	toks, sigs := signedTokens(pool)
	signed := make([][]v8Step, pool)
	unsigned := make([][]v8Step, pool)
	for i := range signed {
		signed[i] = []v8Step{httpStep(publishHeaders(benchTopic, toks[i], sigs[i]))}
		unsigned[i] = []v8Step{httpStep(openHeaders(benchTopic, fmt.Sprintf("cold-token-%08d.eyJzdWIiOiJkZXZpY2UifQ", i)))}
	}
	out = append(out,
		v8Scenario{Name: "ColdAuthorization", Config: quiet, Cluster: "authorizer", Answer: device, Ops: signed, Unique: true, Expect: "forwarded"},
		v8Scenario{Name: "ColdAuthorizationUnsigned", Config: cfg(benchMutate(benchQuiet, benchOpen)), Cluster: "authorizer", Answer: device,
			Ops: unsigned, Unique: true, Expect: "forwarded"})
	return out
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// runHostScenario runs a scenario's setup and each op once through the .wasm in host/.
func runHostScenario(t *testing.T, sc v8Scenario) v8Result {
	e := newEnvRaw(t, []byte(sc.Config), workers(1), hostLog(host.LogWarn))
	e.auth.setAnswer(respond(sc.Answer.Status, sc.Answer.Body))
	vm := e.p.Worker(0)
	var res v8Result
	var conn *host.Connection
	run := func(st v8Step) v8Outcome {
		switch st.Do {
		case "http":
			s := vm.NewHTTPStream(host.Properties{SNI: st.SNI, SourceAddress: st.Source, DestinationAddress: st.Destination, ConnectionID: st.Conn})
			calls := e.auth.hits.Load()
			fs := s.RequestHeaders(host.Headers(st.Headers), st.EOS)
			e.settle()
			up, cl := s.Upstream(), s.Client()
			o := v8Outcome{Kind: "http", Paused: fs != host.Continue, Forwarded: up.HeadersSent, Reset: cl.Reset, Calls: e.auth.hits.Load() - calls}
			if up.HeadersSent {
				o.Headers = sortedPairs(up.Headers)
			}
			if r := cl.LocalReply; r != nil {
				o.Reply = &v8Reply{Status: r.Status, Body: uuidRE.ReplaceAllString(string(r.Body), "UUID"), Headers: sortedPairs(r.Headers)}
			}
			s.Close()
			return o
		case "open":
			conn = vm.NewConnection(host.Properties{SNI: st.SNI, SourceAddress: st.Source, ConnectionID: st.Conn})
			return v8Outcome{Kind: "open", Continue: conn.State().NewConnection == host.Continue}
		case "down", "up":
			b, err := base64.StdEncoding.DecodeString(st.Data)
			if err != nil {
				t.Fatal(err)
			}
			s0 := conn.State()
			calls := e.auth.hits.Load()
			var fs host.FilterStatus
			if st.Do == "down" {
				fs = conn.DownstreamData(b, false)
			} else {
				fs = conn.UpstreamData(b, false)
			}
			e.settle()
			s1 := conn.State()
			return v8Outcome{Kind: st.Do, Continue: fs == host.Continue, ToBroker: len(s1.ToUpstream) - len(s0.ToUpstream),
				ToClient: len(s1.ToClient) - len(s0.ToClient), Closed: s1.Closed, Details: s1.CloseDetails, Calls: e.auth.hits.Load() - calls}
		}
		t.Fatalf("unknown step %q", st.Do)
		return v8Outcome{}
	}
	for _, st := range sc.Setup {
		res.Steps = append(res.Steps, run(st))
	}
	for i, op := range sc.Ops {
		var last v8Outcome
		for _, st := range op {
			last = run(st)
			res.Steps = append(res.Steps, last)
		}
		if v := last.verdict(); v != sc.Expect {
			t.Errorf("%s: op %d in host/ reached %s, want %s\n%s", sc.Name, i, v, sc.Expect, e.logs())
		}
	}
	if conn != nil {
		s := conn.State()
		res.Conn = &v8Conn{ToBroker: base64.StdEncoding.EncodeToString(s.ToUpstream), ToClient: base64.StdEncoding.EncodeToString(s.ToClient),
			Closed: s.Closed, Details: s.CloseDetails}
	}
	if err := vm.Err(); err != nil {
		t.Fatalf("%s: %v", sc.Name, err)
	}
	return res
}

// TestV8SameDecisions runs every V8 benchmark scenario (setup, then each op once; 3 tokens per
// cold scenario) through the .wasm in host/ and in node's V8 through bench/v8/host.mjs, and
// requires the same outcome at every step: the filter's answer, what was forwarded (headers,
// bytes to the broker and the client), the local reply (status, body with its trace id masked,
// headers), resets and closes, and the authorizer calls made; and, in host/, the scenario's
// expected verdict for every op (the one host.mjs checks on every timed op).
func TestV8SameDecisions(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the V8 bench host cannot run (install Debian's nodejs; make deps does)")
	}
	dir := t.TempDir()
	wasmPath := filepath.Join(dir, "iotauthz.wasm")
	if err := os.WriteFile(wasmPath, wasmBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	scenarios := v8Scenarios(t, 3)
	if *v8ScenariosOut != "" {
		full, err := json.Marshal(v8Scenarios(t, v8ColdPool))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*v8ScenariosOut, full, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if *v8RSADir != "" {
		writeV8RSA(t, *v8RSADir)
	}
	raw, err := json.Marshal(scenarios)
	if err != nil {
		t.Fatal(err)
	}
	scPath := filepath.Join(dir, "scenarios.json")
	if err := os.WriteFile(scPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "../bench/v8/host.mjs", "check", wasmPath, scPath)
	cmd.Stderr = new(strings.Builder)
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node host.mjs check: %v\n%s", err, cmd.Stderr)
	}
	var v8 map[string]v8Result
	if err := json.Unmarshal(stdout, &v8); err != nil {
		t.Fatalf("host.mjs check output: %v\n%s", err, stdout)
	}
	for _, sc := range scenarios {
		want := runHostScenario(t, sc)
		got, ok := v8[sc.Name]
		if !ok {
			t.Errorf("%s: no outcome from V8", sc.Name)
			continue
		}
		for i := range got.Steps {
			got.Steps[i].Headers = sortedPairs(got.Steps[i].Headers)
			if r := got.Steps[i].Reply; r != nil {
				r.Headers = sortedPairs(r.Headers)
			}
		}
		if len(got.Steps) != len(want.Steps) {
			t.Errorf("%s: %d steps in V8, %d in host/", sc.Name, len(got.Steps), len(want.Steps))
			continue
		}
		for i := range want.Steps {
			if !reflect.DeepEqual(got.Steps[i], want.Steps[i]) {
				g, _ := json.Marshal(got.Steps[i])
				w, _ := json.Marshal(want.Steps[i])
				t.Errorf("%s step %d:\n V8:    %s\n host/: %s", sc.Name, i, g, w)
			}
		}
		if !reflect.DeepEqual(got.Conn, want.Conn) {
			t.Errorf("%s: connection totals differ:\n V8:    %+v\n host/: %+v", sc.Name, got.Conn, want.Conn)
		}
	}
}

// TestV8RSAGuest runs bench/v8/host.mjs's rsa mode (P3 in V8) briefly on plugin/token's verify
// guest and the inputs writeV8RSA writes, as make bench does: both benchmarks must report, and
// a signature that does not verify, or a missing input, must fail the run instead of timing it.
func TestV8RSAGuest(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the V8 bench host cannot run (install Debian's nodejs; make deps does)")
	}
	const guest = "./token/testdata/verifyguest"
	wasmbuild.ModuleOrSkip(t, guest)
	guestPath := wasmbuild.File(t, guest)
	dir := t.TempDir()
	writeV8RSA(t, dir)
	run := func() (string, error) {
		cmd := exec.Command(node, "--no-warnings", "../bench/v8/host.mjs", "rsa", guestPath, dir, "-count", "1", "-benchtime", "0.05")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err != nil {
		t.Fatalf("host.mjs rsa: %v\n%s", err, out)
	}
	for _, name := range []string{"BenchmarkV8RSAVerifyWasm-1\t", "BenchmarkV8RSAVerifyStdlibWasm-1\t"} {
		if !strings.Contains(out, name) {
			t.Errorf("host.mjs rsa did not report %s:\n%s", strings.TrimSpace(name), out)
		}
	}

	sig, err := os.ReadFile(filepath.Join(dir, "sig"))
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 1
	if err := os.WriteFile(filepath.Join(dir, "sig"), sig, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(); err == nil || !strings.Contains(out, "verifications succeeded") {
		t.Errorf("a signature that does not verify: err %v, want the run to fail saying so:\n%s", err, out)
	}
	if err := os.Remove(filepath.Join(dir, "key.pem")); err != nil {
		t.Fatal(err)
	}
	if out, err := run(); err == nil || !strings.Contains(out, "setup failed") {
		t.Errorf("no key.pem: err %v, want the run to fail in setup:\n%s", err, out)
	}
}
