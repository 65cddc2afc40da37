package host

import (
	"strings"
)

// WASI fd_* and path_*: fd 1 and 2 are the log (fd_write at info and error
// level); there is no file system, so the rest answer as proxy-wasm-cpp-host's
// stubs answer.
//
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/exports.cc
// See https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md

func isStdio(fd uint64) bool { return uint32(fd) == 1 || uint32(fd) == 2 }

// stdioOr answers ok for fds 1 and 2, bad for any other.
func stdioOr(ok, bad uint32) func(vm *VM, s []uint64) {
	return func(_ *VM, s []uint64) {
		if isStdio(s[0]) {
			s[0] = uint64(ok)
		} else {
			s[0] = uint64(bad)
		}
	}
}

func fsFuncs() map[string]wasiFunc {
	w := func(n int, names []string, fn func(vm *VM, s []uint64)) wasiFunc {
		p, r := sig32(n)
		return wasiFunc{p, r, names, fn}
	}
	ret := types(i32)
	return map[string]wasiFunc{
		"fd_write":              w(4, []string{"fd", "iovs", "iovs_len", "result.nwritten"}, errnoFunc(fdWrite)),
		"fd_pwrite":             {types(i32, i32, i32, i64, i32), ret, []string{"fd", "iovs", "iovs_len", "offset", "result.nwritten"}, errnoFunc(fdPwrite)},
		"fd_read":               w(4, []string{"fd", "iovs", "iovs_len", "result.nread"}, answer(errnoNosys)),
		"fd_pread":              {types(i32, i32, i32, i64, i32), ret, []string{"fd", "iovs", "iovs_len", "offset", "result.nread"}, answer(errnoNosys)},
		"fd_seek":               {types(i32, i64, i32, i32), ret, []string{"fd", "offset", "whence", "result.newoffset"}, errnoFunc(fdSeek)},
		"fd_close":              w(1, []string{"fd"}, errnoFunc(fdClose)),
		"fd_fdstat_get":         w(2, []string{"fd", "result.stat"}, errnoFunc(fdFdstatGet)),
		"fd_fdstat_set_flags":   w(2, []string{"fd", "flags"}, answer(errnoNosys)),
		"fd_prestat_get":        w(2, []string{"fd", "result.prestat"}, answer(errnoBadf)),
		"fd_prestat_dir_name":   w(3, []string{"fd", "path", "path_len"}, answer(errnoNosys)),
		"fd_fdstat_set_rights":  {types(i32, i64, i64), ret, []string{"fd", "fs_rights_base", "fs_rights_inheriting"}, stdioOr(0, errnoBadf)},
		"fd_advise":             {types(i32, i64, i64, i32), ret, []string{"fd", "offset", "len", "advice"}, answer(errnoSuccess)},
		"fd_allocate":           {types(i32, i64, i64), ret, []string{"fd", "offset", "len"}, stdioOr(0, errnoBadf)},
		"fd_datasync":           w(1, []string{"fd"}, stdioOr(0, errnoBadf)),
		"fd_sync":               w(1, []string{"fd"}, stdioOr(0, errnoBadf)),
		"fd_filestat_set_size":  {types(i32, i64), ret, []string{"fd", "size"}, stdioOr(0, errnoBadf)},
		"fd_filestat_set_times": {types(i32, i64, i64, i32), ret, []string{"fd", "atim", "mtim", "fst_flags"}, stdioOr(0, errnoBadf)},
		"fd_filestat_get":       w(2, []string{"fd", "result.buf"}, answer(errnoBadf)),
		"fd_readdir":            {types(i32, i32, i32, i64, i32), ret, []string{"fd", "buf", "buf_len", "cookie", "result.bufused"}, errnoFunc(fdReaddir)},
		"fd_renumber":           w(2, []string{"fd", "to"}, errnoFunc(fdRenumber)),
		"fd_tell":               w(2, []string{"fd", "result.offset"}, errnoFunc(fdTell)),
		"path_open": {types(i32, i32, i32, i32, i32, i64, i64, i32, i32), ret,
			[]string{"fd", "dirflags", "path", "path_len", "oflags", "fs_rights_base", "fs_rights_inheriting", "fdflags", "result.opened_fd"},
			answer(errnoNoent)},
		"path_create_directory":   w(3, []string{"fd", "path", "path_len"}, answer(errnoNotsup)),
		"path_filestat_get":       w(5, []string{"fd", "flags", "path", "path_len", "result.buf"}, answer(errnoNotsup)),
		"path_filestat_set_times": {types(i32, i32, i32, i32, i64, i64, i32), ret, []string{"fd", "flags", "path", "path_len", "atim", "mtim", "fst_flags"}, answer(errnoNotsup)},
		"path_link":               w(7, []string{"old_fd", "old_flags", "old_path", "old_path_len", "new_fd", "new_path", "new_path_len"}, answer(errnoNotsup)),
		"path_readlink":           w(6, []string{"fd", "path", "path_len", "buf", "buf_len", "result.bufused"}, errnoFunc(pathReadlink)),
		"path_remove_directory":   w(3, []string{"fd", "path", "path_len"}, answer(errnoNotsup)),
		"path_rename":             w(6, []string{"fd", "old_path", "old_path_len", "new_fd", "new_path", "new_path_len"}, answer(errnoNotsup)),
		"path_symlink":            w(5, []string{"old_path", "old_path_len", "fd", "new_path", "new_path_len"}, answer(errnoNotsup)),
		"path_unlink_file":        w(3, []string{"fd", "path", "path_len"}, answer(errnoNotsup)),
	}
}

func fdWrite(vm *VM, s []uint64) uint32 {
	return vm.wasiWrite(uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3]))
}

func fdPwrite(vm *VM, s []uint64) uint32 {
	return vm.wasiWrite(uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[4]))
}

func fdSeek(vm *VM, _ []uint64) uint32 {
	vm.p.log(vm, LogTrace, "wasi_unstable fd_seek")
	return errnoSuccess
}

func fdClose(vm *VM, _ []uint64) uint32 {
	vm.p.log(vm, LogTrace, "wasi_unstable fd_close")
	return errnoSuccess
}

// fdFdstatGet describes fds 1 and 2: filetype and flags zero,
// fs_rights_base FD_WRITE (64), inheriting 0.
func fdFdstatGet(vm *VM, s []uint64) uint32 { return vm.stdioResult(s, 0, 64, 0) }

func fdReaddir(vm *VM, s []uint64) uint32 {
	if !vm.writeU32(uint32(s[4]), 0) {
		return errnoFault
	}
	return errnoNotdir
}

func fdRenumber(_ *VM, s []uint64) uint32 {
	if !isStdio(s[0]) || !isStdio(s[1]) {
		return errnoBadf
	}
	return errnoNotsup
}

// fdTell: fds 1 and 2 are at offset 0.
func fdTell(vm *VM, s []uint64) uint32 { return vm.stdioResult(s, 0) }

// stdioResult answers a call on fd s[0] that returns a struct of u64 fields
// at s[1]: EBADF unless the fd is 1 or 2, else the fields vals written in
// order, EFAULT if they fall outside the guest's memory.
func (vm *VM) stdioResult(s []uint64, vals ...uint64) uint32 {
	if !isStdio(s[0]) {
		return errnoBadf
	}
	ptr := uint32(s[1])
	for i, v := range vals {
		if !vm.writeU64(ptr+uint32(8*i), v) {
			return errnoFault
		}
	}
	return errnoSuccess
}

func pathReadlink(vm *VM, s []uint64) uint32 {
	if !vm.writeU32(uint32(s[5]), 0) {
		return errnoFault
	}
	return errnoNotsup
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
	return errnoSuccess
}
