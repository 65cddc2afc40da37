package gateway

import "sync"

// queue hands work from the VM's goroutine (host sinks must not block it or call back into the VM)
// to one goroutine per connection, in order. It is unbounded: the host only emits what the
// connection's own reader fed it, so the reader's pace bounds it.
type queue struct {
	mu     sync.Mutex
	items  []func()
	wake   chan struct{}
	closed bool
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

// pending reports whether work is queued.
func (q *queue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) > 0
}

// run executes queued work in order until close; stop, when closed, makes it return early.
func (q *queue) run(stop <-chan struct{}) {
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		closed := q.closed
		q.mu.Unlock()
		for _, f := range items {
			f()
		}
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
