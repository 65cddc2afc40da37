package lambdatest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/internal/syncbuf"
	"github.com/iotauthz/iotauthz/plugin/config"
)

// The emulator the tests build, from the Go module proxy. The module has no tagged release; this
// pseudo-version is its newest commit when the tests were written.
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

// Invocation is one request the front received.
type Invocation struct {
	// Function is the FunctionName of the path, unescaped; Qualifier the query's.
	Function, Qualifier string
	// Problem, if not empty, says why the request is not the expected Invoke call (the front
	// answered it 400 without calling the function).
	Problem string
	// Event is the payload.
	Event []byte
}

// Emulator is a running function behind its front.
type Emulator struct {
	// URL is the endpoint to give the SDK (Options.Endpoint): the front, "http://127.0.0.1:PORT".
	URL string
	// Function is the function the front accepts.
	Function config.FunctionARN

	front *httptest.Server
	rie   string // the emulator's address
	cmd   *exec.Cmd
	logs  *syncbuf.Buffer

	mu    sync.Mutex
	calls []Invocation
}

var (
	buildOnce sync.Once
	rieBin    string
	handler   string
	buildErr  error
)

// build compiles the emulator and the handler once per test process. The emulator lands in the
// user cache directory, keyed by version, so later runs reuse it.
func build() {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	rieDir := filepath.Join(cache, "iotauthz-lambdatest", "rie-"+RIEVersion)
	rieBin = filepath.Join(rieDir, "aws-lambda-rie")
	if _, err := os.Stat(rieBin); err != nil {
		// go install writes the binary in place; a temporary GOBIN and a rename keep concurrent
		// test processes from seeing half a file.
		tmp, err := os.MkdirTemp(filepath.Dir(rieDir), "build-")
		if err != nil {
			if err = os.MkdirAll(filepath.Dir(rieDir), 0o755); err == nil {
				tmp, err = os.MkdirTemp(filepath.Dir(rieDir), "build-")
			}
			if err != nil {
				buildErr = err
				return
			}
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command(goBin, "install", RIEModule+"@"+RIEVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the Lambda Runtime Interface Emulator (go install %s@%s): %v\n%s", RIEModule, RIEVersion, err, out)
			return
		}
		if err := os.MkdirAll(rieDir, 0o755); err != nil {
			buildErr = err
			return
		}
		if err := os.Rename(filepath.Join(tmp, "aws-lambda-rie"), rieBin); err != nil {
			buildErr = err
			return
		}
	}
	_, self, _, _ := runtime.Caller(0)
	dir, err := os.MkdirTemp("", "iotauthz-lambda-handler-")
	if err != nil {
		buildErr = err
		return
	}
	handler = filepath.Join(dir, "bootstrap")
	cmd := exec.Command(goBin, "build", "-o", handler, ".")
	cmd.Dir = filepath.Join(filepath.Dir(self), "authorizer")
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("building the Lambda handler: %v\n%s", err, out)
	}
}

// ARN parses s (config.ParseFunctionARN) and fails t if it is not a Lambda function ARN.
func ARN(t testing.TB, s string) config.FunctionARN {
	t.Helper()
	fn, err := config.ParseFunctionARN(s)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// isolatedEnv is the environment under which the AWS SDK reads neither this machine's AWS
// files nor instance metadata, nor an endpoint override.
var isolatedEnv = []struct{ name, value string }{
	{"AWS_CONFIG_FILE", "/nonexistent/aws-config"},
	{"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials"},
	{"AWS_EC2_METADATA_DISABLED", "true"},
	{"AWS_ENDPOINT_URL", ""},
	{"AWS_ENDPOINT_URL_LAMBDA", ""},
}

// Isolate sets isolatedEnv for the rest of t (t.Setenv: not with parallel tests), so that an SDK
// client the test makes sees only the endpoint and credentials the test gives it.
func Isolate(t testing.TB) {
	t.Helper()
	for _, v := range isolatedEnv {
		t.Setenv(v.name, v.value)
	}
}

// Start builds (once) and starts the emulator running the sample authorizer as function fn, in
// region fn.Region with ACCOUNT_ID accountID (the account of its policies' resources). It stops
// when t ends.
func Start(t testing.TB, fn config.FunctionARN, accountID string) *Emulator {
	t.Helper()
	buildOnce.Do(build)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	e := &Emulator{Function: fn, logs: &syncbuf.Buffer{Max: 4 << 20}}
	rieAddr, apiAddr := freeAddr(t), freeAddr(t)
	e.rie = rieAddr
	e.cmd = exec.Command(rieBin, "--log-level", "info",
		"--runtime-interface-emulator-address", rieAddr, "--runtime-api-address", apiAddr, handler)
	e.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"AWS_REGION=" + fn.Region,
		"ACCOUNT_ID=" + accountID,
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=5",
	}
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	ownProcessGroup(e.cmd)
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("starting the emulator: %v", err)
	}
	t.Cleanup(func() { killGroup(e.cmd) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", rieAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen on %s: %v\n%s", rieAddr, err, e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.front = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.front.Close)
	e.URL = e.front.URL
	return e
}

// serve checks one Invoke API request and passes it to the emulator.
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	inv := Invocation{Event: body, Qualifier: r.URL.Query().Get("Qualifier")}
	inv.Problem = e.check(r, &inv)
	e.mu.Lock()
	e.calls = append(e.calls, inv)
	e.mu.Unlock()
	if inv.Problem != "" {
		w.Header().Set("X-Amzn-ErrorType", "InvalidRequestContentException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"Type":"User","message":%q}`, "lambdatest front: "+inv.Problem)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost,
		"http://"+e.rie+"/2015-03-31/functions/function/invocations", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, "lambdatest front: the emulator: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (e *Emulator) check(r *http.Request, inv *Invocation) string {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	p := r.URL.EscapedPath()
	if r.Method != http.MethodPost || !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, suffix) {
		return "not an Invoke call: " + r.Method + " " + p
	}
	name, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(p, prefix), suffix))
	if err != nil {
		return "bad function name in the path: " + err.Error()
	}
	inv.Function = name
	want := e.Function
	if name != want.String() && !(inv.Qualifier == want.Qualifier && name == (config.FunctionARN{Partition: want.Partition, Region: want.Region, AccountID: want.AccountID, Name: want.Name}).String()) {
		return "function " + name + " (qualifier " + inv.Qualifier + "), want " + want.String()
	}
	if it := r.Header.Get("X-Amz-Invocation-Type"); it != "RequestResponse" {
		return "X-Amz-Invocation-Type " + it + ", want RequestResponse"
	}
	scope := "/" + want.Region + "/lambda/aws4_request"
	if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=") || !strings.Contains(a, scope) {
		return "Authorization is not a SigV4 signature for " + scope + ": " + a
	}
	return ""
}

// Invocations returns the requests the front received so far.
func (e *Emulator) Invocations() []Invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Invocation(nil), e.calls...)
}

// Logs returns the emulator's and the function's output so far.
func (e *Emulator) Logs() string { return e.logs.String() }

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
