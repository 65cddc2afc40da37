package host

// filter is what a Connection and an HTTPStream share: the VM, the filter's context (nil until
// it exists), the connection's properties and the filter state the plugin writes.
type filter struct {
	vm          *VM
	ctx         *vmContext
	props       Properties
	filterState map[string][]byte
	readonly    map[string]bool // filter-state keys set once from a read-only declared property
}

// FilterState returns a value the plugin stored with proxy_set_property.
func (f *filter) FilterState(path string) ([]byte, bool) {
	var v []byte
	var ok bool
	_ = f.vm.run(func() { v, ok = f.filterState["wasm."+path] })
	return v, ok
}

// ContextID is the filter's proxy-wasm context id: 0 before the context exists (a stream's is
// created with its first callback).
func (f *filter) ContextID() uint32 {
	var id uint32
	_ = f.vm.run(func() {
		if f.ctx != nil {
			id = f.ctx.id
		}
	})
	return id
}
