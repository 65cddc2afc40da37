package host

import (
	"crypto/rand"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// The WASI functions proxy-wasm-cpp-host registers, under both
// wasi_snapshot_preview1 and wasi_unstable, with its behaviour: the files,
// sockets and paths all answer errors; fds 1 and 2 go to the log.
//
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/exports.cc

const (
	errnoSuccess  = 0
	errnoBadf     = 8
	errnoFault    = 21
	errnoNotdir   = 20
	errnoInval    = 28
	errnoNoent    = 44
	errnoNosys    = 52
	errnoNotsup   = 58
	randomGetMaxB = 64 * 1024
)

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
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

type wasiDef struct {
	params, results []api.ValueType
	names           []string
	fn              func(vm *VM, s []uint64)
}

func isStdio(fd uint64) bool { return uint32(fd) == 1 || uint32(fd) == 2 }

// wasiDefs returns the implementation of every WASI function for profile.
func wasiDefs(profile Profile) map[string]wasiDef {
	r := func(v uint32) uint64 { return uint64(v) }
	stdioOr := func(ok, bad uint32) func(vm *VM, s []uint64) {
		return func(vm *VM, s []uint64) {
			if isStdio(s[0]) {
				s[0] = r(ok)
			} else {
				s[0] = r(bad)
			}
		}
	}
	ret := func(v uint32) func(vm *VM, s []uint64) { return func(vm *VM, s []uint64) { s[0] = r(v) } }
	d := map[string]wasiDef{
		"fd_write": {[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32},
			[]string{"fd", "iovs", "iovs_len", "result.nwritten"},
			func(vm *VM, s []uint64) {
				s[0] = r(vm.wasiWrite(uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])))
			}},
		"fd_pwrite": {[]api.ValueType{i32, i32, i32, i64, i32}, []api.ValueType{i32},
			[]string{"fd", "iovs", "iovs_len", "offset", "result.nwritten"},
			func(vm *VM, s []uint64) {
				s[0] = r(vm.wasiWrite(uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[4])))
			}},
		"fd_read": {[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32},
			[]string{"fd", "iovs", "iovs_len", "result.nread"}, ret(errnoNosys)},
		"fd_pread": {[]api.ValueType{i32, i32, i32, i64, i32}, []api.ValueType{i32},
			[]string{"fd", "iovs", "iovs_len", "offset", "result.nread"}, ret(errnoNosys)},
		"fd_seek": {[]api.ValueType{i32, i64, i32, i32}, []api.ValueType{i32},
			[]string{"fd", "offset", "whence", "result.newoffset"},
			func(vm *VM, s []uint64) { vm.p.log(vm, LogTrace, "wasi_unstable fd_seek"); s[0] = 0 }},
		"fd_close": {[]api.ValueType{i32}, []api.ValueType{i32}, []string{"fd"},
			func(vm *VM, s []uint64) { vm.p.log(vm, LogTrace, "wasi_unstable fd_close"); s[0] = 0 }},
		"fd_fdstat_get": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"fd", "result.stat"},
			func(vm *VM, s []uint64) {
				if !isStdio(s[0]) {
					s[0] = errnoBadf
					return
				}
				ptr := uint32(s[1])
				// filetype/flags zero, fs_rights_base = FD_WRITE (64), inheriting 0.
				if !vm.writeU64(ptr, 0) || !vm.writeU64(ptr+8, 64) || !vm.writeU64(ptr+16, 0) {
					s[0] = errnoFault
					return
				}
				s[0] = 0
			}},
		"fd_fdstat_set_flags": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"fd", "flags"}, ret(errnoNosys)},
		"fd_prestat_get":      {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"fd", "result.prestat"}, ret(errnoBadf)},
		"fd_prestat_dir_name": {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "path", "path_len"}, ret(errnoNosys)},
		"path_open": {[]api.ValueType{i32, i32, i32, i32, i32, i64, i64, i32, i32}, []api.ValueType{i32},
			[]string{"fd", "dirflags", "path", "path_len", "oflags", "fs_rights_base", "fs_rights_inheriting", "fdflags", "result.opened_fd"},
			ret(errnoNoent)},
		"environ_sizes_get": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"result.environc", "result.environv_len"},
			func(vm *VM, s []uint64) {
				env := vm.p.environ()
				n := 0
				for _, e := range env {
					n += len(e) + 1
				}
				if !vm.writeU32(uint32(s[0]), uint32(len(env))) || !vm.writeU32(uint32(s[1]), uint32(n)) {
					s[0] = errnoFault
					return
				}
				s[0] = 0
			}},
		"environ_get": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"environ", "environ_buf"},
			func(vm *VM, s []uint64) {
				arr, buf := uint32(s[0]), uint32(s[1])
				for i, e := range vm.p.environ() {
					b := append([]byte(e), 0)
					if !vm.writeU32(arr+uint32(4*i), buf) || !vm.mem.Write(buf, b) {
						s[0] = errnoFault
						return
					}
					buf += uint32(len(b))
				}
				s[0] = 0
			}},
		"args_sizes_get": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"result.argc", "result.argv_len"},
			func(vm *VM, s []uint64) {
				if !vm.writeU32(uint32(s[0]), 0) || !vm.writeU32(uint32(s[1]), 0) {
					s[0] = errnoFault
					return
				}
				s[0] = 0
			}},
		"args_get": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"argv", "argv_buf"}, ret(errnoSuccess)},
		"clock_time_get": {[]api.ValueType{i32, i64, i32}, []api.ValueType{i32}, []string{"id", "precision", "result.timestamp"},
			func(vm *VM, s []uint64) {
				var t uint64
				switch uint32(s[0]) {
				case 0:
					t = uint64(vm.p.clock.Now().UnixNano())
				case 1:
					t = uint64(vm.p.clock.Monotonic())
				default:
					s[0] = errnoNotsup
					return
				}
				if !vm.writeU64(uint32(s[2]), t) {
					s[0] = errnoFault
					return
				}
				s[0] = 0
			}},
		"clock_res_get": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"id", "result.resolution"},
			func(vm *VM, s []uint64) {
				if id := uint32(s[0]); id != 0 && id != 1 {
					s[0] = errnoNotsup
					return
				}
				if !vm.writeU64(uint32(s[1]), 1) {
					s[0] = errnoFault
					return
				}
				s[0] = 0
			}},
		"random_get": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"buf", "buf_len"},
			func(vm *VM, s []uint64) {
				n := uint32(s[1])
				if n > randomGetMaxB {
					s[0] = errnoInval
					return
				}
				if n == 0 {
					s[0] = 0
					return
				}
				b := make([]byte, n)
				_, _ = rand.Read(b)
				if !vm.mem.Write(uint32(s[0]), b) {
					s[0] = errnoFault
					return
				}
				s[0] = 0
			}},
		"proc_exit": {[]api.ValueType{i32}, nil, []string{"rval"},
			func(vm *VM, s []uint64) { vm.p.log(vm, LogTrace, "wasi_unstable proc_exit") }},
		"sched_yield": {nil, []api.ValueType{i32}, nil, ret(errnoSuccess)},
		"poll_oneoff": {[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, []string{"in", "out", "nsubscriptions", "result.nevents"},
			func(vm *VM, s []uint64) {
				if profile == Envoy133 {
					s[0] = errnoNosys // nevents is not written
					return
				}
				if !vm.writeU32(uint32(s[3]), 0) {
					s[0] = errnoFault
					return
				}
				s[0] = 0
			}},
		// List C (Envoy 1.39).
		"fd_fdstat_set_rights":  {[]api.ValueType{i32, i64, i64}, []api.ValueType{i32}, []string{"fd", "fs_rights_base", "fs_rights_inheriting"}, stdioOr(0, errnoBadf)},
		"fd_advise":             {[]api.ValueType{i32, i64, i64, i32}, []api.ValueType{i32}, []string{"fd", "offset", "len", "advice"}, ret(errnoSuccess)},
		"fd_allocate":           {[]api.ValueType{i32, i64, i64}, []api.ValueType{i32}, []string{"fd", "offset", "len"}, stdioOr(0, errnoBadf)},
		"fd_datasync":           {[]api.ValueType{i32}, []api.ValueType{i32}, []string{"fd"}, stdioOr(0, errnoBadf)},
		"fd_sync":               {[]api.ValueType{i32}, []api.ValueType{i32}, []string{"fd"}, stdioOr(0, errnoBadf)},
		"fd_filestat_set_size":  {[]api.ValueType{i32, i64}, []api.ValueType{i32}, []string{"fd", "size"}, stdioOr(0, errnoBadf)},
		"fd_filestat_set_times": {[]api.ValueType{i32, i64, i64, i32}, []api.ValueType{i32}, []string{"fd", "atim", "mtim", "fst_flags"}, stdioOr(0, errnoBadf)},
		"fd_filestat_get":       {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"fd", "result.buf"}, ret(errnoBadf)},
		"fd_readdir": {[]api.ValueType{i32, i32, i32, i64, i32}, []api.ValueType{i32}, []string{"fd", "buf", "buf_len", "cookie", "result.bufused"},
			func(vm *VM, s []uint64) {
				if !vm.writeU32(uint32(s[4]), 0) {
					s[0] = errnoFault
					return
				}
				s[0] = errnoNotdir
			}},
		"fd_renumber": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"fd", "to"},
			func(vm *VM, s []uint64) {
				if !isStdio(s[0]) || !isStdio(s[1]) {
					s[0] = errnoBadf
					return
				}
				s[0] = errnoNotsup
			}},
		"fd_tell": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"fd", "result.offset"},
			func(vm *VM, s []uint64) {
				if !isStdio(s[0]) {
					s[0] = errnoBadf
					return
				}
				if !vm.writeU64(uint32(s[1]), 0) {
					s[0] = errnoFault
					return
				}
				s[0] = 0
			}},
		"path_create_directory":   {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "path", "path_len"}, ret(errnoNotsup)},
		"path_filestat_get":       {[]api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "flags", "path", "path_len", "result.buf"}, ret(errnoNotsup)},
		"path_filestat_set_times": {[]api.ValueType{i32, i32, i32, i32, i64, i64, i32}, []api.ValueType{i32}, []string{"fd", "flags", "path", "path_len", "atim", "mtim", "fst_flags"}, ret(errnoNotsup)},
		"path_link":               {[]api.ValueType{i32, i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, []string{"old_fd", "old_flags", "old_path", "old_path_len", "new_fd", "new_path", "new_path_len"}, ret(errnoNotsup)},
		"path_readlink": {[]api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "path", "path_len", "buf", "buf_len", "result.bufused"},
			func(vm *VM, s []uint64) {
				if !vm.writeU32(uint32(s[5]), 0) {
					s[0] = errnoFault
					return
				}
				s[0] = errnoNotsup
			}},
		"path_remove_directory": {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "path", "path_len"}, ret(errnoNotsup)},
		"path_rename":           {[]api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "old_path", "old_path_len", "new_fd", "new_path", "new_path_len"}, ret(errnoNotsup)},
		"path_symlink":          {[]api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}, []string{"old_path", "old_path_len", "fd", "new_path", "new_path_len"}, ret(errnoNotsup)},
		"path_unlink_file":      {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "path", "path_len"}, ret(errnoNotsup)},
		"sock_accept": {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "flags", "result.fd"},
			func(vm *VM, s []uint64) {
				if !vm.writeU32(uint32(s[2]), 0) {
					s[0] = errnoFault
					return
				}
				s[0] = errnoNotsup
			}},
		"sock_recv": {[]api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "ri_data", "ri_data_len", "ri_flags", "result.ro_datalen", "result.ro_flags"},
			func(vm *VM, s []uint64) {
				if !vm.writeU32(uint32(s[4]), 0) || !vm.writeU32(uint32(s[5]), 0) {
					s[0] = errnoFault
					return
				}
				s[0] = errnoNotsup
			}},
		"sock_send": {[]api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}, []string{"fd", "si_data", "si_data_len", "si_flags", "result.so_datalen"},
			func(vm *VM, s []uint64) {
				if !vm.writeU32(uint32(s[4]), 0) {
					s[0] = errnoFault
					return
				}
				s[0] = errnoNotsup
			}},
		"sock_shutdown": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, []string{"fd", "how"}, ret(errnoNotsup)},
	}
	return d
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
	defs := wasiDefs(profile)
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

// wasiWrite is fd_write/fd_pwrite: fd 1 logs at info, fd 2 at error, the
// trailing newline removed; any other fd is EBADF.
func (vm *VM) wasiWrite(fd, iovs, iovsLen, nwrittenPtr uint32) uint32 {
	var level LogLevel
	switch fd {
	case 1:
		level = LogInfo
	case 2:
		level = LogError
	default:
		return errnoBadf
	}
	var sb strings.Builder
	for i := uint32(0); i < iovsLen; i++ {
		iov, ok := vm.mem.Read(iovs+i*8, 8)
		if !ok {
			return errnoFault
		}
		ptr := uint32(iov[0]) | uint32(iov[1])<<8 | uint32(iov[2])<<16 | uint32(iov[3])<<24
		n := uint32(iov[4]) | uint32(iov[5])<<8 | uint32(iov[6])<<16 | uint32(iov[7])<<24
		if n == 0 {
			continue
		}
		b, ok := vm.mem.Read(ptr, n)
		if !ok {
			return errnoFault
		}
		sb.Write(b)
	}
	s := sb.String()
	written := len(s)
	if written > 0 {
		vm.p.log(vm, level, strings.TrimSuffix(s, "\n"))
	}
	if !vm.writeU32(nwrittenPtr, uint32(written)) {
		return errnoFault
	}
	return 0
}

func (p *Plugin) environ() []string {
	env := make([]string, 0, len(p.cfg.Env))
	for k, v := range p.cfg.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}
