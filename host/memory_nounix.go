//go:build !unix

package host

import "context"

// withLinearMemory: wazero's default linear memory (a Go slice grown by append) where there is
// no mmap.
func withLinearMemory(ctx context.Context) context.Context { return ctx }
