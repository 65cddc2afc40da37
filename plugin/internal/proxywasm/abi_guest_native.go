//go:build !wasm

package proxywasm

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm/internal/hostabi"

// Native builds hand the exported callbacks to the test host.
func init() {
	hostabi.Guest = hostabi.Exports{
		MemoryAllocate:              proxyOnMemoryAllocate,
		OnContextCreate:             proxyOnContextCreate,
		OnVMStart:                   proxyOnVMStart,
		OnConfigure:                 proxyOnConfigure,
		OnDone:                      proxyOnDone,
		OnDelete:                    proxyOnDelete,
		OnTick:                      proxyOnTick,
		OnNewConnection:             proxyOnNewConnection,
		OnDownstreamData:            proxyOnDownstreamData,
		OnDownstreamConnectionClose: proxyOnDownstreamConnectionClose,
		OnUpstreamData:              proxyOnUpstreamData,
		OnUpstreamConnectionClose:   proxyOnUpstreamConnectionClose,
		OnRequestHeaders:            proxyOnRequestHeaders,
		OnRequestBody:               proxyOnRequestBody,
		OnRequestTrailers:           proxyOnRequestTrailers,
		OnResponseHeaders:           proxyOnResponseHeaders,
		OnResponseBody:              proxyOnResponseBody,
		OnResponseTrailers:          proxyOnResponseTrailers,
		OnHttpCallResponse:          proxyOnHttpCallResponse,
		Reset:                       resetState,
		LiveAllocations:             liveAllocations,
	}
}
