package host

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// The tests keep the guests' machine code on disk, so that the -race run
// (where wazero's compiler is slow) reuses what the plain run compiled.
func init() {
	if c, err := wazero.NewCompilationCacheWithDir(filepath.Join(os.TempDir(), "iotauthz-host-test-wazero")); err == nil {
		compilationCache = c
	}
}

func TestWASI_ProfileLists(t *testing.T) {
	for _, tc := range []struct {
		profile Profile
		n       int
	}{{Envoy133, 18}, {Envoy139, 45}} {
		mods := wasiModules(tc.profile)
		if len(mods) != 2 || mods[0].name != "wasi_snapshot_preview1" || mods[1].name != "wasi_unstable" {
			t.Fatalf("modules %v", mods)
		}
		for _, m := range mods {
			if len(m.funcs) != tc.n {
				t.Fatalf("%s %s: %d functions, want %d", tc.profile, m.name, len(m.funcs), tc.n)
			}
			for _, f := range m.funcs {
				if f.fn == nil || len(f.paramNames) != len(f.params) {
					t.Fatalf("%s.%s incomplete", m.name, f.name)
				}
			}
		}
	}
	// Envoy 1.33 forbids poll_oneoff and sched_yield at start; 1.39 allows
	// poll_oneoff. Inside malloc only 1.39 allows poll_oneoff.
	check := func(p Profile, name string, start, malloc bool) {
		t.Helper()
		for _, f := range wasiModules(p)[0].funcs {
			if f.name == name {
				if f.allowStart != start || f.allowMalloc != malloc {
					t.Fatalf("%s %s: start %v malloc %v", p, name, f.allowStart, f.allowMalloc)
				}
				return
			}
		}
		t.Fatalf("%s: %s missing", p, name)
	}
	check(Envoy133, "poll_oneoff", false, false)
	check(Envoy139, "poll_oneoff", true, true)
	check(Envoy133, "sched_yield", false, false)
	check(Envoy139, "sched_yield", false, false)
	check(Envoy133, "fd_write", true, true)
	check(Envoy133, "clock_time_get", true, true)
	check(Envoy133, "fd_close", false, false)
	check(Envoy139, "path_filestat_get", true, false)
}

func TestPairs_RoundTrip(t *testing.T) {
	in := [][2]string{{":path", "/"}, {"k", ""}, {"", "v"}}
	b := abi.AppendPairs(nil, in)
	if len(b) != abi.PairsSize(in) {
		t.Fatalf("size %d != %d", len(b), abi.PairsSize(in))
	}
	out, ok := abi.ParsePairs(b)
	if !ok || len(out) != 3 || out[0] != in[0] || out[1] != in[1] || out[2] != in[2] {
		t.Fatalf("%v %v", out, ok)
	}
	for _, bad := range [][]byte{{1}, {1, 0, 0, 0}, append(abi.AppendPairs(nil, in)[:20:20], 9)} {
		if _, ok := abi.ParsePairs(bad); ok {
			t.Fatalf("accepted %v", bad)
		}
	}
	if p, ok := abi.ParsePairs([]byte{0}); !ok || len(p) != 0 {
		t.Fatal("a single zero byte is an empty map")
	}
}

func TestHeaders_PseudoFirst(t *testing.T) {
	h := Headers{{":method", "GET"}, {"a", "1"}}
	h = h.add(":Path", "/")
	h = h.add("B", "2")
	want := Headers{{":method", "GET"}, {":path", "/"}, {"a", "1"}, {"b", "2"}}
	for i := range want {
		if h[i] != want[i] {
			t.Fatalf("%v", h)
		}
	}
	if h.byteSize() != uint32(len(":methodGET:path/a1b2")) {
		t.Fatal(h.byteSize())
	}
}
