package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// Logging: proxy_log, proxy_get_log_level (fd_write is in wasi_fs.go).
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#logging

func loggingFuncs(abiVersion string) []hostFunc {
	// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_log
	log := proxyFunc("proxy_log", proxyLog, "log_level", "message_data", "message_size")
	// Envoy allows proxy_log during _initialize and proxy_on_memory_allocate.
	log.allowStart, log.allowMalloc = true, true
	fs := []hostFunc{log}
	if abiVersion == "0.2.1" {
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_log_level
		fs = append(fs, proxyFunc("proxy_get_log_level", proxyGetLogLevel, "return_log_level"))
	}
	return fs
}

func proxyLog(vm *VM, s []uint64) abi.Status {
	level := uint32(s[0])
	if level > uint32(LogCritical) {
		return abi.StatusBadArgument
	}
	msg, good := vm.readStringArg(s, 1)
	if !good {
		return abi.StatusInvalidMemoryAccess
	}
	vm.p.log(vm, LogLevel(level), msg)
	return abi.StatusOK
}

func proxyGetLogLevel(vm *VM, s []uint64) abi.Status {
	return written(vm.writeU32(uint32(s[0]), uint32(vm.p.cfg.LogLevel)))
}
