package main

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"strings"
	"unsafe"

	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// readSource reads the client's address, SNI and connection id from Envoy's properties.
func readSource() source {
	s := readConnection()
	s.ip, s.port = readAddress()
	return s
}

// readConnection reads the SNI and the connection id.
func readConnection() source {
	var s source
	s.conn, _ = readConnectionID()
	s.sni = readSNI()
	return s
}

func readConnectionID() (uint64, bool) {
	if v, err := proxywasm.GetProperty([]string{"connection", "id"}); err == nil && len(v) == 8 {
		return binary.LittleEndian.Uint64(v), true
	}
	return 0, false
}

func readSNI() string {
	if v, err := proxywasm.GetProperty([]string{"connection", "requested_server_name"}); err == nil {
		return strings.ToLower(string(v))
	}
	return ""
}

// sniMemo remembers the SNI of recent downstream connections, by connection id: every request
// of a keep-alive connection would otherwise read the same property again. Envoy's connection
// ids are unique for the life of the process, so an entry can never be read for another
// connection; a slot is simply overwritten by a later connection that maps to it.
type sniMemo [64]struct {
	conn uint64
	sni  string
	set  bool
}

// readConnection is readConnection through the memo.
func (m *sniMemo) readConnection() source {
	var s source
	conn, ok := readConnectionID()
	if !ok {
		s.sni = readSNI()
		return s
	}
	s.conn = conn
	e := &m[conn%uint64(len(m))]
	if e.set && e.conn == conn {
		s.sni = e.sni
		return s
	}
	s.sni = readSNI()
	e.conn, e.sni, e.set = conn, s.sni, true
	return s
}

// readAddress reads the client's address.
func readAddress() (string, int) {
	if v, err := proxywasm.GetProperty([]string{"source", "address"}); err == nil {
		return splitHostPort(string(v))
	}
	return "", 0
}

// splitHostPort splits "ip:port" and "[v6]:port".
func splitHostPort(a string) (string, int) {
	i := strings.LastIndexByte(a, ':')
	if i < 0 || strings.Count(a, ":") > 1 && !strings.HasPrefix(a, "[") {
		return a, 0
	}
	port, _ := strconv.Atoi(a[i+1:])
	return strings.TrimSuffix(strings.TrimPrefix(a[:i], "["), "]"), port
}

// newUUID is a random version 4 UUID for trace ids and connection ids. The Go runtime seeds
// math/rand/v2 from WASI random_get (Envoy: RAND_bytes).
func newUUID() string {
	return authorizer.NewUUID(func(b []byte) {
		for i := 0; i < len(b); i += 8 {
			var w [8]byte
			binary.LittleEndian.PutUint64(w[:], rand.Uint64())
			copy(b[i:], w[:])
		}
	})
}

// unsafeString views b as a string without copying; b must not change while it is used.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// unsafeBytes views s as bytes without copying; the result must not be modified.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
