package host

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the time source of a Plugin: proxy_get_current_time_nanoseconds,
// WASI clock_time_get, tick timers and HTTP-call timeouts all follow it.
//
// Use RealClock for a gateway and NewVirtualClock in tests.
type Clock interface {
	// Now is the wall-clock time (proxy_get_current_time_nanoseconds,
	// clock_time_get realtime).
	Now() time.Time
	// Monotonic is the monotonic reading (clock_time_get id 1).
	Monotonic() time.Duration
	// AfterFunc calls f once, d from now, on a goroutine of the clock's
	// choosing. stop cancels it and reports whether it was still pending.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// RealClock returns the system clock; timers run on their own goroutines.
func RealClock() Clock { return realClock{} }

var processStart = time.Now()

type realClock struct{}

func (realClock) Now() time.Time           { return time.Now() }
func (realClock) Monotonic() time.Duration { return time.Since(processStart) }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// VirtualClock is a Clock that moves only when Advance is called. Timers fire
// inside Advance, in deadline order, on the caller's goroutine; each VM task
// they start has finished when Advance returns.
//
// It is safe for concurrent use, but Advance must not be called from inside a
// VM callback (a LogSink or a stream Sink).
type VirtualClock struct {
	mu     sync.Mutex
	start  time.Time
	now    time.Time
	seq    uint64
	timers timerHeap
	adv    sync.Mutex // serializes Advance
}

// NewVirtualClock returns a clock reading start until advanced.
func NewVirtualClock(start time.Time) *VirtualClock {
	return &VirtualClock{start: start, now: start}
}

// Now implements Clock.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Monotonic implements Clock: one second plus the time advanced since
// NewVirtualClock (never zero: the Go runtime refuses a zero monotonic
// clock at start-up).
func (c *VirtualClock) Monotonic() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Second + c.now.Sub(c.start)
}

// AfterFunc implements Clock.
func (c *VirtualClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &vtimer{when: c.now.Add(d), seq: c.seq, f: f, index: -1}
	heap.Push(&c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.index < 0 {
			return false
		}
		heap.Remove(&c.timers, t.index)
		return true
	}
}

// Advance moves the clock forward by d, firing every timer that falls due,
// earliest first (timers armed by a firing timer fire too if they fall due).
func (c *VirtualClock) Advance(d time.Duration) {
	c.adv.Lock()
	defer c.adv.Unlock()
	c.mu.Lock()
	target := c.now.Add(d)
	for {
		if len(c.timers) == 0 || c.timers[0].when.After(target) {
			c.now = target
			c.mu.Unlock()
			return
		}
		t := heap.Pop(&c.timers).(*vtimer)
		if t.when.After(c.now) {
			c.now = t.when
		}
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
}

// Pending reports how many timers are armed.
func (c *VirtualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

type vtimer struct {
	when  time.Time
	seq   uint64
	f     func()
	index int
}

type timerHeap []*vtimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*vtimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

var (
	_ Clock = realClock{}
	_ Clock = (*VirtualClock)(nil)
)
