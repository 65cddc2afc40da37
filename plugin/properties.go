package main

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// The connection facts the engine needs, read from Envoy's properties.

// readSource reads the client's address, SNI and connection id from Envoy's properties.
func readSource() authz.Source {
	var s authz.Source
	s.Conn, _ = readConnectionID()
	s.SNI = readSNI()
	s.IP, s.Port = readAddress()
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

// readConnection reads the SNI and the connection id, through the memo.
func (m *sniMemo) readConnection() authz.Source {
	var s authz.Source
	conn, ok := readConnectionID()
	if !ok {
		s.SNI = readSNI()
		return s
	}
	s.Conn = conn
	e := &m[conn%uint64(len(m))]
	if e.set && e.conn == conn {
		s.SNI = e.sni
		return s
	}
	s.SNI = readSNI()
	e.conn, e.sni, e.set = conn, s.SNI, true
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
