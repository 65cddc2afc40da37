package main

import (
	"strings"

	"github.com/iotauthz/iotauthz/host/testdata/guests/internal/guestmem"
)

//go:wasmexport proxy_on_new_connection
func onNewConnection(ctx uint32) uint32 {
	guestmem.Enter()
	mode, _ := getProperty("l4_mode")
	streams[ctx].l4 = string(mode)
	sni, _ := getProperty("connection\x00requested_server_name")
	src, _ := getProperty("source\x00address")
	logf(2, "new_connection ctx="+u32(ctx)+" mode="+string(mode)+" sni="+string(sni)+" src="+string(src))
	return 0
}

//go:wasmexport proxy_on_downstream_data
func onDownstreamData(ctx, size, eos uint32) uint32 {
	guestmem.Enter()
	s := streams[ctx]
	b, _ := getBuffer(2, 0, size)
	logf(2, "downstream_data ctx="+u32(ctx)+" len="+u32(size)+" eos="+u32(eos)+" data="+string(b))
	switch s.l4 {
	case "accumulate":
		if size < 10 && eos == 0 {
			return 1
		}
		setBuffer(2, 0, 0, "[")
		setBuffer(2, size+1, 0, "]")
		return 0
	case "continue-later":
		if strings.Contains(string(b), "GO") {
			proxyContinueStream(2)
		}
		return 1
	case "close-down":
		if strings.Contains(string(b), "CLOSE") {
			proxyCloseStream(2)
			return 1
		}
	case "close-up":
		if strings.Contains(string(b), "CLOSE") {
			proxyCloseStream(3)
			return 1
		}
	}
	return 0
}

//go:wasmexport proxy_on_upstream_data
func onUpstreamData(ctx, size, eos uint32) uint32 {
	guestmem.Enter()
	b, _ := getBuffer(3, 0, size)
	r := proxyContinueStream(3)
	logf(2, "upstream_data ctx="+u32(ctx)+" len="+u32(size)+" eos="+u32(eos)+" data="+string(b)+" continue_upstream="+u32(r))
	if streams[ctx].l4 == "up-pause" && size < 6 {
		return 1
	}
	return 0
}

//go:wasmexport proxy_on_downstream_connection_close
func onDownstreamClose(ctx, peer uint32) {
	guestmem.Enter()
	logf(2, "downstream_close ctx="+u32(ctx)+" peer="+u32(peer))
}

//go:wasmexport proxy_on_upstream_connection_close
func onUpstreamClose(ctx, peer uint32) {
	guestmem.Enter()
	logf(2, "upstream_close ctx="+u32(ctx)+" peer="+u32(peer))
}
