//go:build !wasm && unix

package main

// Forged signatures through the real iotauthz.wasm in host/: the failed-pair cache of
// plugin/token (rejected.go) refuses a repeated forgery with the same answer, never stands in
// the way of the valid signature, and keeps the VM's memory flat under a flood of distinct
// forgeries. plugin/token's tests count the RSA verifies each case runs.

import (
	"encoding/base64"
	"math/rand"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/host"
)

// publishOnce sends h as one request on a new stream of connection 1 and returns the stream's
// local reply status (0 when it was forwarded).
func publishOnce(t *testing.T, e *env, h host.Headers) (status int, forwarded bool) {
	t.Helper()
	s := e.p.Worker(0).NewHTTPStream(httpProps(1))
	defer s.Close()
	s.RequestHeaders(h, true)
	e.settle()
	if r := s.Client().LocalReply; r != nil {
		return r.Status, s.Upstream().HeadersSent
	}
	return 0, s.Upstream().HeadersSent
}

// The same forged (token, signature) three times: three 403s with the same reason and details;
// the valid signature for the same token afterwards is authorized; the forgery after it is still
// refused. Every refusal is counted.
func TestHTTP_ForgedSignatureRepeated(t *testing.T) {
	e := newEnv(t, nil, workers(1))
	e.auth.setAnswer(respond(200, devicePolicy("device1")))
	const tok = "device-token-1"
	forged := publishHeaders("device/1", tok, sign(otherKey, tok))
	const why = `signature does not verify with key "key1"`
	refused := func(round string) {
		t.Helper()
		st, fwd := publishOnce(t, e, forged)
		if st != 403 || fwd {
			t.Fatalf("%s: forged signature answered %d, forwarded %v\n%s", round, st, fwd, e.logs())
		}
		f := e.lastFailure()
		if f == nil || f["reason"] != "SIGNATURE_INVALID" || f["details"] != why {
			t.Fatalf("%s: failure line %v, want SIGNATURE_INVALID with %q", round, f, why)
		}
	}
	refused("first")
	refused("second")
	refused("third")
	if st, fwd := publishOnce(t, e, publishHeaders("device/1", tok, sign(testKey, tok))); st != 0 || !fwd {
		t.Fatalf("the valid signature after forgeries: status %d, forwarded %v\n%s", st, fwd, e.logs())
	}
	refused("after the valid one")
	if n := e.auth.hits.Load(); n != 1 {
		t.Errorf("authorizer calls = %d, want 1 (the valid request only)", n)
	}
	if n := e.metric("iotauthz.signature.failures"); n != 4 {
		t.Errorf("signature.failures = %d, want 4", n)
	}
	if n := e.metric("iotauthz.decisions.denied"); n != 4 {
		t.Errorf("decisions.denied = %d, want 4", n)
	}
}

// A flood of distinct forgeries with the longest tokens allowed leaves the VM's linear memory
// where it was after the first few hundred: the failed-pair cache is a fixed ring, whatever
// arrives. 1200 pairs of 6.4 KB would be 7.7 MB if each were kept. The warm-up is long enough for
// the Go heap to reach its size: a refusal makes little garbage, so it gets there slowly.
func TestHTTP_ForgeryFloodMemoryBounded(t *testing.T) {
	e := newEnv(t, nil, workers(1))
	vm := e.p.Worker(0)
	r := rand.New(rand.NewSource(3))
	forge := func(i int) host.Headers {
		tok := strings.Repeat("t", 6000) + string(rune('a'+i%26)) + strings.Repeat("x", i%97)
		sig := make([]byte, 256)
		r.Read(sig)
		if i%50 != 0 {
			sig[0] = 0xff // not below the modulus: refused before the exponentiation
		}
		return publishHeaders("device/1", tok, base64.StdEncoding.EncodeToString(sig))
	}
	flood := func(from, to int) {
		for i := from; i < to; i++ {
			if st, fwd := publishOnce(t, e, forge(i)); st != 403 || fwd {
				t.Fatalf("forgery %d: status %d, forwarded %v\n%s", i, st, fwd, e.logs())
			}
		}
	}
	const warm, n = 1000, 1200
	flood(0, warm)
	before := vm.MemorySize()
	flood(warm, warm+n)
	after := vm.MemorySize()
	t.Logf("linear memory %d KiB after %d forgeries, %d KiB after %d more", before>>10, warm, after>>10, n)
	if after > before+1<<20 {
		t.Errorf("linear memory grew by %d KiB over %d distinct forgeries", (after-before)>>10, n)
	}
	if got := e.metric("iotauthz.signature.failures"); got != warm+n {
		t.Errorf("signature.failures = %d, want %d", got, warm+n)
	}
	if err := vm.Err(); err != nil {
		t.Fatal(err)
	}
}
