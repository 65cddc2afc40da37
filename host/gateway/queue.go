package gateway

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

// queue hands work from the VM's goroutine (host sinks must not block it or call back into the VM)
// to one goroutine per connection, in order. It is unbounded: the host only emits what the
// connection's own reader fed it, so the reader's pace bounds it.
type queue struct {
	mu     sync.Mutex
	items  []func()
	wake   chan struct{}
	closed bool
	busy   bool // a batch is running
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

// push adds f; after close it is dropped.
func (q *queue) push(f func()) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close stops the queue: run returns once it has run what is already queued.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pending reports whether work is queued or running.
func (q *queue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) > 0 || q.busy
}

// run executes queued work in order until close; stop, when closed, makes it return early.
func (q *queue) run(stop <-chan struct{}) {
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		closed := q.closed
		q.busy = len(items) > 0
		q.mu.Unlock()
		for _, f := range items {
			f()
		}
		q.mu.Lock()
		q.busy = false
		q.mu.Unlock()
		if len(items) > 0 {
			continue
		}
		if closed {
			return
		}
		select {
		case <-q.wake:
		case <-stop:
			return
		}
	}
}

// activity is when bytes last moved between the gateway and an upstream.
type activity struct{ last atomic.Int64 }

func (a *activity) touch() { a.last.Store(time.Now().UnixNano()) }

func (a *activity) quietFor() time.Duration {
	return time.Duration(time.Now().UnixNano() - a.last.Load())
}

// quietPeriod is how long a draining connection must see no bytes to or from its upstream before
// Shutdown closes it: the time for a broker to answer what it was just sent.
const quietPeriod = 250 * time.Millisecond

// waitQuiet is a draining connection's wait, within g's grace period: the VMs idle (no authorizer
// call in flight), nothing queued for the sockets, and quietPeriod without upstream bytes. It
// returns early when closed is closed.
func waitQuiet(g *Gateway, q *queue, act *activity, closed <-chan struct{}) {
	deadline := time.Now().Add(g.cfg.ShutdownGrace)
	for time.Now().Before(deadline) {
		select {
		case <-closed:
			return
		default:
		}
		// VMs first: once they are idle, everything they had to say is queued.
		if vmsIdle(g) && !q.pending() && act.quietFor() >= quietPeriod {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// vmsIdle reports whether every worker VM is idle: no call running or queued, no HTTP call
// waiting for its answer.
func vmsIdle(g *Gateway) bool {
	ctx, cancel := contextWithTimeout(20 * time.Millisecond)
	defer cancel()
	for _, p := range []*host.Plugin{g.plugin, g.httpPlugin} {
		for i := 0; i < p.Workers(); i++ {
			if p.Worker(i).Settle(ctx) != nil {
				return false
			}
		}
	}
	return true
}
