package gateway

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

// queue hands work from the VM's goroutine (host sinks must not block it or call back into the VM)
// to a goroutine of the connection, in order. The goroutine runs only while there is work: an
// idle connection holds none (it is started by push and ends when the queue is empty). The queue
// is unbounded: the host only emits what the connection's own reader fed it, so the reader's pace
// bounds it.
type queue struct {
	mu       sync.Mutex
	items    []func()
	closed   bool
	running  bool          // a goroutine is running items
	done     chan struct{} // closed once the queue is closed and what was queued before has run
	doneSent bool
}

func newQueue() *queue { return &queue{done: make(chan struct{})} }

// push adds f, and starts the queue's goroutine unless it runs; after close, f is dropped.
func (q *queue) push(f func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.items = append(q.items, f)
	if !q.running {
		q.running = true
		go q.run()
	}
}

// close stops the queue: what is already queued still runs, then wait returns.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.finishLocked()
}

// finishLocked signals done once the queue is closed and nothing runs.
func (q *queue) finishLocked() {
	if q.closed && !q.running && !q.doneSent {
		q.doneSent = true
		close(q.done)
	}
}

// wait returns once the queue is closed and has run everything queued before.
func (q *queue) wait() <-chan struct{} { return q.done }

// pending reports whether work is queued or running.
func (q *queue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) > 0 || q.running
}

// run executes queued work in order until the queue is empty.
func (q *queue) run() {
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		if len(items) == 0 {
			q.running = false
			q.finishLocked()
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		for _, f := range items {
			f()
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
