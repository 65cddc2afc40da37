// Package wasmbin reads the import and export sections of a WebAssembly
// binary without compiling it, as proxy-wasm-cpp-host's BytecodeUtil does to
// find the ABI version before loading a module.
package wasmbin

import (
	"errors"
	"fmt"
)

// Import is one import: module, name and kind (0 func, 1 table, 2 memory,
// 3 global).
type Import struct {
	Module, Name string
	Kind         byte
}

// Export is one export: name and kind.
type Export struct {
	Name string
	Kind byte
}

// Kinds of imports and exports.
const (
	KindFunc   = 0
	KindTable  = 1
	KindMemory = 2
	KindGlobal = 3
)

// Sections returns the module's imports and exports.
func Sections(b []byte) (imports []Import, exports []Export, err error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, nil, errors.New("not a WebAssembly binary")
	}
	r := &reader{b: b, off: 8}
	for r.off < len(r.b) {
		id := r.byte()
		size := int(r.u32())
		if r.err != nil || size > len(r.b)-r.off {
			return nil, nil, errors.New("truncated section")
		}
		sec := &reader{b: r.b[:r.off+size], off: r.off}
		r.off += size
		switch id {
		case 2:
			n := sec.u32()
			for i := uint32(0); i < n && sec.err == nil; i++ {
				im := Import{Module: sec.name(), Name: sec.name(), Kind: sec.byte()}
				switch im.Kind {
				case KindFunc:
					sec.u32()
				case KindTable:
					sec.byte()
					sec.limits()
				case KindMemory:
					sec.limits()
				case KindGlobal:
					sec.byte()
					sec.byte()
				default:
					sec.err = fmt.Errorf("unknown import kind %d", im.Kind)
				}
				imports = append(imports, im)
			}
		case 7:
			n := sec.u32()
			for i := uint32(0); i < n && sec.err == nil; i++ {
				e := Export{Name: sec.name(), Kind: sec.byte()}
				sec.u32()
				exports = append(exports, e)
			}
		}
		if sec.err != nil {
			return nil, nil, sec.err
		}
	}
	return imports, exports, r.err
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.err = errors.New("unexpected end of section")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	if r.err == nil {
		r.err = errors.New("bad LEB128")
	}
	return 0
}

func (r *reader) name() string {
	n := int(r.u32())
	if r.err != nil {
		return ""
	}
	if n > len(r.b)-r.off {
		r.err = errors.New("name past end of section")
		return ""
	}
	s := string(r.b[r.off : r.off+n])
	r.off += n
	return s
}

func (r *reader) limits() {
	flags := r.byte()
	if flags&0x04 != 0 { // memory64: u64 limits
		r.u64()
		if flags&1 != 0 {
			r.u64()
		}
		return
	}
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

func (r *reader) u64() {
	for i := 0; i < 10; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
}
