//go:build unix

package host

import (
	"context"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// withLinearMemory makes the VMs instantiated with ctx back their linear memory as linearMemory
// says.
func withLinearMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(linearMemory))
}

// linearMemory backs each VM's linear memory with an anonymous mapping reserved at the memory's
// maximum size (4 GiB for the 32-bit memories Go modules declare), outside the Go heap, so that
// memory.grow only lengthens the slice. wazero's default grows a Go slice with append: each
// growth copies the whole memory (tens of MiB once thousands of connections hold state in the
// guest) and leaves the old copy to the garbage collector, which also counts the memory in the Go
// heap and so lets as much garbage accumulate before it runs. A mapped page takes physical memory
// when the guest first touches it, zeroed, as wasm requires; the memory never shrinks, as
// before; Free (wazero calls it when the module closes) unmaps it. Where the mapping cannot be
// made, the memory is a Go slice that grows as wazero's default does.
func linearMemory(capBytes, maxBytes uint64) experimental.LinearMemory {
	if maxBytes > 0 && maxBytes <= 1<<32 {
		b, err := syscall.Mmap(-1, 0, int(maxBytes), syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
		if err == nil {
			return &mappedMemory{reserved: b}
		}
	}
	return &heapMemory{buf: make([]byte, 0, capBytes)}
}

// mappedMemory is a reserved mapping; the memory is its first size bytes.
type mappedMemory struct{ reserved []byte }

// Reallocate implements experimental.LinearMemory: the same mapping, longer; nil (memory.grow
// fails) past the reservation or after Free.
func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.reserved)) {
		return nil
	}
	return m.reserved[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *mappedMemory) Free() {
	if m.reserved != nil {
		_ = syscall.Munmap(m.reserved)
		m.reserved = nil
	}
}

// heapMemory is wazero's default: a Go slice grown by append.
type heapMemory struct{ buf []byte }

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		m.buf = append(m.buf, make([]byte, size-uint64(len(m.buf)))...)
	}
	return m.buf[:size]
}

func (m *heapMemory) Free() { m.buf = nil }
