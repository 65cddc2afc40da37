package wasmbin

import "testing"

func TestSections(t *testing.T) {
	// (module (import "env" "f" (func)) (import "env" "m" (memory 1 2))
	//         (func $g) (export "g" (func $g)))
	mod := []byte{
		0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0, // type section: () -> ()
		2, 19, 2, 3, 'e', 'n', 'v', 1, 'f', 0, 0, 3, 'e', 'n', 'v', 1, 'm', 2, 1, 1, 2,
		3, 2, 1, 0, // function section
		7, 5, 1, 1, 'g', 0, 1, // export section
		10, 4, 1, 2, 0, 0x0b, // code section
	}
	imports, exports, err := Sections(mod)
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) != 2 || imports[0] != (Import{"env", "f", KindFunc}) || imports[1] != (Import{"env", "m", KindMemory}) {
		t.Fatalf("imports %v", imports)
	}
	if len(exports) != 1 || exports[0] != (Export{"g", KindFunc}) {
		t.Fatalf("exports %v", exports)
	}
	for _, bad := range [][]byte{nil, []byte("not wasm"), mod[:20]} {
		if _, _, err := Sections(bad); err == nil {
			t.Fatalf("accepted %v", bad)
		}
	}
}
