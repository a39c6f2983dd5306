package extractors

import (
	"fmt"
	"testing"
)

func TestMAC(t *testing.T) {
	const (
		a     = "00:1A:2B:3C:4D:5E"
		b     = "f0:de:f1:00:00:01"
		bcast = "ff:ff:ff:ff:ff:ff"
	)
	v4 := func(fwd bool) cPkt { return cV4(fwd, 64, 0, 2, 1) }
	manySrc := func() []cPkt {
		var ps []cPkt
		for i := 0; i < 10; i++ {
			ps = append(ps, cEth(v4(true), fmt.Sprintf("02:00:00:00:00:%02x", i), b))
		}
		return ps
	}
	tests := []struct {
		name string
		pkts []cPkt
		want map[string]any
	}{
		{
			name: "bidirectional untagged",
			pkts: []cPkt{cEth(v4(true), a, b), cEth(v4(false), b, a), cEth(v4(true), a, b)},
			want: map[string]any{
				"mac_src": "00:1a:2b:3c:4d:5e", "mac_dst": "f0:de:f1:00:00:01", "mac_eth_type": 0x0800,
				"mac_vlan_id": 0, "mac_vlan_count": 0, "mac_unique_src_count": 2, "mac_unique_dst_count": 2,
				"mac_stat": 0x0f, "mac_broadcast_count": 0, "mac_multicast_count": 0,
			},
		},
		{
			name: "vlan reports the smallest id",
			pkts: []cPkt{
				cVLAN(cEth(v4(true), a, b), 300),
				cVLAN(cEth(v4(true), a, b), 20),
				cVLAN(cEth(v4(true), a, b), 300),
			},
			want: map[string]any{
				"mac_eth_type": 0x8100, "mac_vlan_id": 20, "mac_vlan_count": 2,
				"mac_unique_src_count": 1, "mac_unique_dst_count": 1, "mac_stat": 0x13,
			},
		},
		{
			name: "vlan id 0 counts",
			pkts: []cPkt{cEth(v4(true), a, b), cVLAN(cEth(v4(false), b, a), 5), cVLAN(cEth(v4(true), a, b), 0)},
			want: map[string]any{
				"mac_eth_type": 0x0800, "mac_vlan_id": 0, "mac_vlan_count": 2, "mac_stat": 0x1f,
			},
		},
		{
			name: "broadcast and multicast",
			pkts: []cPkt{
				cEth(v4(true), a, bcast),
				cEth(v4(true), a, "01:00:5e:00:00:fb"),
				cEth(v4(true), a, "33:33:00:00:00:01"),
				cEth(v4(true), a, "02:00:00:00:00:01"), // locally administered unicast
				cEth(v4(true), a, bcast),
			},
			want: map[string]any{
				"mac_dst": bcast, "mac_unique_src_count": 1, "mac_unique_dst_count": 4,
				"mac_stat": 0x0b, "mac_broadcast_count": 2, "mac_multicast_count": 2,
			},
		},
		{
			name: "no ethernet",
			pkts: []cPkt{v4(true), v4(false)},
			want: map[string]any{
				"mac_src": "", "mac_dst": "", "mac_eth_type": 0, "mac_vlan_id": 0, "mac_vlan_count": 0,
				"mac_unique_src_count": 0, "mac_unique_dst_count": 0, "mac_stat": 0,
				"mac_broadcast_count": 0, "mac_multicast_count": 0,
			},
		},
		{
			name: "first packet without ethernet",
			pkts: []cPkt{v4(true), cEth(v4(false), b, bcast)},
			want: map[string]any{
				"mac_src": "", "mac_dst": "", "mac_eth_type": 0,
				"mac_unique_src_count": 1, "mac_unique_dst_count": 1, "mac_stat": 0,
				"mac_broadcast_count": 1,
			},
		},
		{
			name: "many source macs",
			pkts: manySrc(),
			want: map[string]any{
				"mac_src": "02:00:00:00:00:00", "mac_unique_src_count": 10, "mac_unique_dst_count": 1, "mac_stat": 0x07,
			},
		},
		{
			name: "empty flow",
			pkts: nil,
			want: map[string]any{"mac_src": "", "mac_eth_type": 0, "mac_stat": 0, "mac_unique_src_count": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cCheck(t, cCompute(t, "mac", cFlow(tc.pkts...)), tc.want)
		})
	}
}

func TestFormatMAC(t *testing.T) {
	for _, s := range []string{"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "0a:1b:2c:3d:4e:5f"} {
		if got := formatMAC(cMAC(s)); got != s {
			t.Errorf("formatMAC(%q) = %q, want %q", s, got, s)
		}
	}
}

func TestFieldSet(t *testing.T) {
	tests := []struct {
		name string
		in   []uint16
		want int
	}{
		{"empty", nil, 0},
		{"duplicates inline", []uint16{3, 3, 1, 3, 1}, 2},
		{"exactly inline capacity", []uint16{1, 2, 3, 4, 5, 6, 7, 8, 8, 1}, 8},
		{"spills to map", []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 9, 10}, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s fieldSet[uint16]
			for _, v := range tc.in {
				s.add(v)
			}
			if got := s.len(); got != tc.want {
				t.Errorf("len after %v = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}
