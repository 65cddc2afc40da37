//go:build !wasm

package main

import (
	"sort"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

func medianOps(t *testing.T, mutate func(map[string]any), h host.Headers, n int) (req, cls time.Duration) {
	e := newEnv(t, mutate, workers(1), hostLog(host.LogWarn))
	e.auth.setAnswer(respond(200, devicePolicy("device1")))
	vm := e.p.Worker(0)
	props := httpProps(1)
	warm := vm.NewHTTPStream(props)
	warm.RequestHeaders(h, true)
	e.settle()
	if !warm.Upstream().HeadersSent {
		t.Fatal("not forwarded")
	}
	warm.Close()
	var rq, cl []time.Duration
	for i := 0; i < n; i++ {
		s := vm.NewHTTPStream(props)
		t1 := time.Now()
		if s.RequestHeaders(h, true) != host.Continue {
			t.Fatal("not continue")
		}
		t2 := time.Now()
		s.Close()
		t3 := time.Now()
		rq = append(rq, t2.Sub(t1))
		cl = append(cl, t3.Sub(t2))
	}
	sort.Slice(rq, func(i, j int) bool { return rq[i] < rq[j] })
	sort.Slice(cl, func(i, j int) bool { return cl[i] < cl[j] })
	return rq[n/10], cl[n/10]
}

func TestScratchVariants(t *testing.T) {
	tok := "bench-token-1"
	signed := publishHeaders(benchTopic, tok, sign(testKey, tok))
	open := openHeaders(benchTopic, tok)
	for k := 0; k < 2; k++ {
		r, c := medianOps(t, benchQuiet, signed, 5000)
		t.Logf("signed: p10 req %v close %v", r, c)
		r, c = medianOps(t, benchMutate(benchQuiet, benchOpen), open, 5000)
		t.Logf("open  : p10 req %v close %v", r, c)
	}
}
