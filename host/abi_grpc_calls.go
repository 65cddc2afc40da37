package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// gRPC calls: not provided; every call answers Unimplemented (12), so a
// module sees at once that it cannot reach a gRPC service here.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#grpc-calls

func grpcCallFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_grpc_call
		proxyFunc("proxy_grpc_call", unimplemented, "grpc_service_data", "grpc_service_size",
			"service_name_data", "service_name_size", "method_name_data", "method_name_size",
			"initial_metadata_data", "initial_metadata_size", "grpc_message_data", "grpc_message_size",
			"timeout_milliseconds", "return_call_id"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_grpc_stream
		proxyFunc("proxy_grpc_stream", unimplemented, "grpc_service_data", "grpc_service_size",
			"service_name_data", "service_name_size", "method_name_data", "method_name_size",
			"initial_metadata_data", "initial_metadata_size", "return_stream_id"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_grpc_send
		proxyFunc("proxy_grpc_send", unimplemented, "stream_id", "message_data", "message_size", "end_stream"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_grpc_cancel
		proxyFunc("proxy_grpc_cancel", unimplemented, "call_or_stream_id"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_grpc_close
		proxyFunc("proxy_grpc_close", unimplemented, "call_or_stream_id"),
	}
}

// unimplemented answers Unimplemented (12).
func unimplemented(*VM, []uint64) abi.Status { return abi.StatusUnimplemented }
