package host

import (
	"sort"

	"github.com/tetratelabs/wazero/api"
)

// The WASI functions proxy-wasm-cpp-host registers, under both
// wasi_snapshot_preview1 and wasi_unstable, with its behaviour: files,
// sockets and paths all answer errors; fds 1 and 2 go to the log. One file
// per family, as wazero lays out its WASI:
//
//	wasi_fs.go       fd_*, path_*     (fd_write and fd_pwrite log; the rest answer errors)
//	wasi_clock.go    clock_time_get, clock_res_get
//	wasi_environ.go  environ_*, args_*
//	wasi_random.go   random_get
//	wasi_poll.go     poll_oneoff, sched_yield, proc_exit
//	wasi_sock.go     sock_*
//
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/exports.cc
// See https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md

// WASI errno values the stubs answer.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
	errnoNotdir  = 20
	errnoInval   = 28
	errnoNoent   = 44
	errnoNosys   = 52
	errnoNotsup  = 58
)

// wasiListB is Envoy 1.33–1.38 (cpp-host after PR #427): 18 functions.
var wasiListB = []string{
	"fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "environ_get", "environ_sizes_get",
	"args_get", "args_sizes_get", "clock_time_get", "random_get", "proc_exit", "path_open",
	"fd_prestat_get", "fd_prestat_dir_name", "fd_fdstat_set_flags", "sched_yield", "poll_oneoff",
}

// wasiListC adds what Envoy 1.39 (cpp-host after PR #533) registers: 45 in all.
var wasiListC = []string{
	"fd_fdstat_set_rights", "clock_res_get", "fd_advise", "fd_allocate", "fd_datasync",
	"fd_filestat_set_size", "fd_filestat_set_times", "fd_pread", "fd_pwrite", "fd_readdir",
	"fd_renumber", "fd_sync", "fd_tell", "path_create_directory", "path_filestat_set_times",
	"path_link", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
	"path_unlink_file", "sock_accept", "sock_recv", "sock_send", "sock_shutdown",
	"path_filestat_get", "fd_filestat_get",
}

// Start-phase allow lists (WasmBase::startVm's setRestrictedCallback).
var startAllowed133 = set("fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get",
	"fd_prestat_get", "fd_prestat_dir_name", "clock_time_get", "random_get", "fd_fdstat_get",
	"fd_fdstat_set_flags")

var startAllowed139 = func() map[string]bool {
	m := set("fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get",
		"clock_time_get", "clock_res_get", "random_get", "poll_oneoff", "fd_fdstat_get",
		"fd_fdstat_set_flags", "fd_prestat_get", "fd_prestat_dir_name")
	for _, n := range wasiListC {
		m[n] = true
	}
	return m
}()

// Malloc-window allow lists (WasmBase::allocMemory).
var mallocAllowed133 = set("fd_write", "clock_time_get")
var mallocAllowed139 = set("fd_write", "clock_time_get", "poll_oneoff")

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// wasiFunc is one WASI function: its signature, parameter names (as the
// WASI preview1 docs name them) and implementation. The implementation
// writes the errno into s[0] (proc_exit has no result).
type wasiFunc struct {
	params, results []api.ValueType
	names           []string
	fn              func(vm *VM, s []uint64)
}

// errnoFunc adapts a WASI function that returns its errno.
func errnoFunc(f func(vm *VM, s []uint64) uint32) func(vm *VM, s []uint64) {
	return func(vm *VM, s []uint64) { s[0] = uint64(f(vm, s)) }
}

// answer is a stub that always answers errno.
func answer(errno uint32) func(vm *VM, s []uint64) {
	return func(_ *VM, s []uint64) { s[0] = uint64(errno) }
}

// wasiFuncs returns every WASI function for profile, by name.
func wasiFuncs(profile Profile) map[string]wasiFunc {
	m := map[string]wasiFunc{}
	for _, family := range []map[string]wasiFunc{fsFuncs(), clockFuncs(), environFuncs(), randomFuncs(), pollFuncs(profile), sockFuncs()} {
		for name, f := range family {
			m[name] = f
		}
	}
	return m
}

// wasiModules builds wasi_snapshot_preview1 and wasi_unstable for profile.
func wasiModules(profile Profile) []*hostModule {
	names := append([]string(nil), wasiListB...)
	start, malloc := startAllowed133, mallocAllowed133
	if profile == Envoy139 {
		names = append(names, wasiListC...)
		start, malloc = startAllowed139, mallocAllowed139
	}
	sort.Strings(names)
	defs := wasiFuncs(profile)
	var mods []*hostModule
	for _, modName := range []string{"wasi_snapshot_preview1", "wasi_unstable"} {
		m := &hostModule{name: modName}
		for _, n := range names {
			d := defs[n]
			m.funcs = append(m.funcs, hostFunc{
				name: n, params: d.params, results: d.results, paramNames: d.names,
				allowStart: start[n], allowMalloc: malloc[n], fn: d.fn,
			})
		}
		mods = append(mods, m)
	}
	return mods
}

// sig32 is a signature of n i32 parameters and an i32 errno.
func sig32(n int) (params, results []api.ValueType) { return u32s(n), u32s(1) }

// types lists value types for a signature with i64 parameters.
func types(ts ...api.ValueType) []api.ValueType { return ts }
