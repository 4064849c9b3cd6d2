package main

import (
	"net"
	"strings"
	"testing"
)

// findOwner reads the kernel's socket tables: the line whose local address
// is the client's and remote address the proxy's, IPv4 and IPv6 (::1, and
// 127.0.0.1 mapped into IPv6) alike; nothing else.
func TestFindOwner(t *testing.T) {
	const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:A000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
`
	const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:B000 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 4 1 0 20 4 30 10 -1
   1: 0000000000000000FFFF00000100007F:C000 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1002        0 5 1 0 20 4 30 10 -1
`
	v4 := func(port int) *net.TCPAddr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }
	v6 := func(port int) *net.TCPAddr { return &net.TCPAddr{IP: net.IPv6loopback, Port: port} }
	tests := []struct {
		table          string
		client, server *net.TCPAddr
		uid            int // -1: not found
	}{
		{tcp, v4(0xA000), v4(0x1F90), 1000},
		{tcp, v4(0x1F90), v4(0xA000), 0}, // the other end's line
		{tcp, v4(0xA001), v4(0x1F90), -1},
		{tcp, v4(0xA000), v4(0x1F91), -1},
		{tcp6, v6(0xB000), v6(0x1F90), 1001},
		{tcp6, v4(0xC000), v4(0x1F90), 1002}, // 127.0.0.1 mapped
		{tcp6, v6(0xC000), v6(0x1F90), -1},
		{"garbage\n1: 0100007F:A000 0100007F:1F90 01 x x x notanumber\n", v4(0xA000), v4(0x1F90), -1},
	}
	for _, tt := range tests {
		uid, err := findOwner(strings.NewReader(tt.table), tt.client, tt.server)
		if err != nil {
			uid = -1
		}
		if uid != tt.uid {
			t.Errorf("%v → %v: uid %d (%v), want %d", tt.client, tt.server, uid, err, tt.uid)
		}
	}
}
