package host

import (
	"time"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// Clocks and Timers: proxy_get_current_time_nanoseconds,
// proxy_set_tick_period_milliseconds (clock_time_get is in wasi_clock.go).
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#clocks
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#timers

func timeFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_current_time_nanoseconds
		proxyFunc("proxy_get_current_time_nanoseconds", proxyGetCurrentTimeNanoseconds, "return_time"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_tick_period_milliseconds
		proxyFunc("proxy_set_tick_period_milliseconds", proxySetTickPeriodMilliseconds, "tick_period"),
	}
}

func proxyGetCurrentTimeNanoseconds(vm *VM, s []uint64) abi.Status {
	return written(vm.writeU64(uint32(s[0]), uint64(vm.p.clock.Now().UnixNano())))
}

// proxySetTickPeriodMilliseconds sets the timer of the calling root context
// on this VM; 0 stops it.
func proxySetTickPeriodMilliseconds(vm *VM, s []uint64) abi.Status {
	vm.setTickPeriod(time.Duration(uint32(s[0])) * time.Millisecond)
	return abi.StatusOK
}
