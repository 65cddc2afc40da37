//go:build !wasm

package proxywasm

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

// buildWasm builds the package main in dir (wasmbuild) into a file; not under -short.
func buildWasm(t *testing.T, dir string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	return wasmbuild.File(t, "./"+dir)
}

const wasmImportsTool = "/work/shared/tools/wasm-imports"

// TestWasm_EnvoyImports builds the example and checks it against Envoy 1.33's imports.
func TestWasm_EnvoyImports(t *testing.T) {
	for _, dir := range []string{"examples/passthrough", "testdata/allcalls"} {
		t.Run(dir, func(t *testing.T) {
			wasm := buildWasm(t, dir)
			if _, err := os.Stat(wasmImportsTool); err != nil {
				t.Skip("wasm-imports tool not available")
			}
			out, err := exec.Command(wasmImportsTool, wasm, "--envoy", "1.33").CombinedOutput()
			if err != nil {
				t.Fatalf("wasm-imports: %v\n%s", err, out)
			}
			for _, bad := range []string{"fd_read", "path_open", "path_filestat_get"} {
				if strings.Contains(string(out), "."+bad+" ") {
					t.Errorf("module imports %s", bad)
				}
			}
		})
	}
}

type sig struct{ params, results string } // one letter per value: i = i32, I = i64

// The ABI v0.2.1 signatures. Exports: every one the binding provides. Imports: the host
// functions the binding may call.
var (
	wantExports = map[string]sig{
		"proxy_abi_version_0_2_1":              {"", ""},
		"proxy_on_memory_allocate":             {"i", "i"},
		"proxy_on_context_create":              {"ii", ""},
		"proxy_on_vm_start":                    {"ii", "i"},
		"proxy_on_configure":                   {"ii", "i"},
		"proxy_on_done":                        {"i", "i"},
		"proxy_on_delete":                      {"i", ""},
		"proxy_on_tick":                        {"i", ""},
		"proxy_on_request_headers":             {"iii", "i"},
		"proxy_on_request_body":                {"iii", "i"},
		"proxy_on_request_trailers":            {"ii", "i"},
		"proxy_on_response_headers":            {"iii", "i"},
		"proxy_on_response_body":               {"iii", "i"},
		"proxy_on_response_trailers":           {"ii", "i"},
		"proxy_on_new_connection":              {"i", "i"},
		"proxy_on_downstream_data":             {"iii", "i"},
		"proxy_on_upstream_data":               {"iii", "i"},
		"proxy_on_downstream_connection_close": {"ii", ""},
		"proxy_on_upstream_connection_close":   {"ii", ""},
		"proxy_on_http_call_response":          {"iiiii", ""},
	}
	wantImports = map[string]sig{
		"proxy_log":                          {"iii", "i"},
		"proxy_get_log_level":                {"i", "i"},
		"proxy_get_current_time_nanoseconds": {"i", "i"},
		"proxy_set_tick_period_milliseconds": {"i", "i"},
		"proxy_set_effective_context":        {"i", "i"},
		"proxy_done":                         {"", "i"},
		"proxy_get_buffer_bytes":             {"iiiii", "i"},
		"proxy_get_buffer_status":            {"iii", "i"},
		"proxy_set_buffer_bytes":             {"iiiii", "i"},
		"proxy_get_header_map_pairs":         {"iii", "i"},
		"proxy_set_header_map_pairs":         {"iii", "i"},
		"proxy_get_header_map_value":         {"iiiii", "i"},
		"proxy_add_header_map_value":         {"iiiii", "i"},
		"proxy_replace_header_map_value":     {"iiiii", "i"},
		"proxy_remove_header_map_value":      {"iii", "i"},
		"proxy_continue_stream":              {"i", "i"},
		"proxy_close_stream":                 {"i", "i"},
		"proxy_get_status":                   {"iii", "i"},
		"proxy_send_local_response":          {"iiiiiiii", "i"},
		"proxy_http_call":                    {"iiiiiiiiii", "i"},
		"proxy_get_shared_data":              {"iiiii", "i"},
		"proxy_set_shared_data":              {"iiiii", "i"},
		"proxy_define_metric":                {"iiii", "i"},
		"proxy_increment_metric":             {"iI", "i"},
		"proxy_record_metric":                {"iI", "i"},
		"proxy_get_metric":                   {"ii", "i"},
		"proxy_get_property":                 {"iiii", "i"},
		"proxy_set_property":                 {"iiii", "i"},
	}
)

func sigOf(d api.FunctionDefinition) sig {
	enc := func(ts []api.ValueType) string {
		var b strings.Builder
		for _, v := range ts {
			switch v {
			case api.ValueTypeI32:
				b.WriteByte('i')
			case api.ValueTypeI64:
				b.WriteByte('I')
			default:
				b.WriteByte('?')
			}
		}
		return b.String()
	}
	return sig{enc(d.ParamTypes()), enc(d.ResultTypes())}
}

// TestWasm_Signatures compiles a module that calls every host function and checks every
// proxy_* export and import against the spec's types (i32 everywhere, i64 for metric values).
func TestWasm_Signatures(t *testing.T) {
	bin, err := os.ReadFile(buildWasm(t, "testdata/allcalls"))
	if err != nil {
		t.Fatal(err)
	}
	cm := wasmbuild.Compile(t, bin)
	exports := cm.ExportedFunctions()
	for name, want := range wantExports {
		d, ok := exports[name]
		if !ok {
			t.Errorf("export %s missing", name)
			continue
		}
		if got := sigOf(d); got != want {
			t.Errorf("export %s: got %+v, want %+v", name, got, want)
		}
	}
	if _, ok := exports["_initialize"]; !ok {
		t.Error("export _initialize missing")
	}
	// No typed callback needs it, and an exported no-op would cost every stream a VM entry.
	if _, ok := exports["proxy_on_log"]; ok {
		t.Error("proxy_on_log is exported")
	}
	seen := 0
	for _, d := range cm.ImportedFunctions() {
		mod, name, _ := d.Import()
		if mod != "env" {
			continue
		}
		want, ok := wantImports[name]
		if !ok {
			t.Errorf("unexpected import env.%s", name)
			continue
		}
		seen++
		if got := sigOf(d); got != want {
			t.Errorf("import %s: got %+v, want %+v", name, got, want)
		}
	}
	if seen != len(wantImports) {
		t.Errorf("allcalls imports %d of the %d host functions", seen, len(wantImports))
	}
}
