package gatewaytest

import (
	"net"
	"strings"
	"testing"
)

func TestFreeAddrs(t *testing.T) {
	addrs, err := FreeAddrs(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 3 {
		t.Fatalf("%d addresses, want 3", len(addrs))
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		if !strings.HasPrefix(a, "127.0.0.1:") || seen[a] {
			t.Fatalf("addresses %v: want three different 127.0.0.1:PORT", addrs)
		}
		seen[a] = true
		// Free again once FreeAddrs returns: a server can take it.
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("listen on %s: %v", a, err)
		}
		defer l.Close()
	}
}
