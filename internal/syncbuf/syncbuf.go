// Package syncbuf is a bytes.Buffer that a process can write while a test reads it: a child's
// stderr, a server's log.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects what is written to it, safe for concurrent use. Max, if positive, bounds what
// it keeps: a write that finds more than Max bytes already kept is dropped (and reported written,
// so that the writer goes on). The zero value is an empty, unbounded buffer.
type Buffer struct {
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, unless the buffer already holds more than Max bytes.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Max > 0 && l.b.Len() > l.Max {
		return len(p), nil
	}
	return l.b.Write(p)
}

// String returns what has been kept so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
