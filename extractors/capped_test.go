package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// cappedConnection is a TCP connection of n data segments whose FINs and
// RST come last, so that a small record cap drops them.
func cappedConnection(n int) []flows.Packet {
	c, s := "10.0.0.1:4000", "10.0.0.2:443"
	pkts := []flows.Packet{
		tcpPktA(0, c, s, 60, 0, flows.SYN),
		tcpPktA(0.01, s, c, 60, 0, flows.SYN|flows.ACK),
		tcpPktA(0.02, c, s, 52, 0, flows.ACK),
	}
	for i := 0; i < n; i++ {
		ts := 0.03 + float64(i)*0.001
		pkts = append(pkts, tcpPktA(ts, c, s, 52+100+i%7, 100+i%7, flows.PSH|flows.ACK))
		if i%2 == 1 {
			pkts = append(pkts, tcpPktA(ts+0.0005, s, c, 52, 0, flows.ACK))
		}
	}
	end := 0.03 + float64(n)*0.001
	return append(pkts,
		tcpPktA(end, c, s, 52, 0, flows.FIN|flows.ACK),
		tcpPktA(end+0.01, s, c, 52, 0, flows.FIN|flows.ACK),
		tcpPktA(end+0.02, c, s, 40, 0, flows.RST))
}

// TestCappedRecordsExactTotals assembles one connection with and without a
// record cap that drops most of its packets: flow_meta and the connection
// group, which read the flow's totals, give the same values.
func TestCappedRecordsExactTotals(t *testing.T) {
	cfg := flows.DefaultConfig()
	cfg.MaxPacketRecords = 0
	full := assembleOne(t, cappedConnection(300), cfg, flows.NeedBase|flows.NeedSum)
	cfg.MaxPacketRecords = 50
	capped := assembleOne(t, cappedConnection(300), cfg, flows.NeedBase|flows.NeedSum)
	if len(capped.Base) != 50 || capped.Dropped.Packets != full.Packets-50 || len(full.Base) != full.Packets {
		t.Fatalf("capped: %d records, %d dropped; full: %d records of %d packets",
			len(capped.Base), capped.Dropped.Packets, len(full.Base), full.Packets)
	}
	want, got := computeA(t, "flow_meta", full, &cfg), computeA(t, "flow_meta", capped, &cfg)
	for _, col := range []string{"total_packets", "packets_fwd", "packets_bwd", "total_bytes", "bytes_fwd", "bytes_bwd",
		"payload_bytes_fwd", "payload_bytes_bwd", "payload_bytes_total", "bytes_ratio", "bytes_per_second",
		"avg_packet_size", "duration", "flow_stat"} {
		if !got[col].Equal(want[col]) {
			t.Errorf("flow_meta %s: capped %v, uncapped %v", col, got[col], want[col])
		}
	}
	if v := want["flow_stat"]; v.I != 0x5f {
		t.Errorf("flow_stat %v, want 0x5f (SYN, SYN+ACK, both FINs, RST, complete)", v)
	}
	rows := func(f *flows.Flow) map[string]schema.Value { return crossValues(t, cfg, []*flows.Flow{f})[0] }
	cw, cg := rows(full), rows(capped)
	for col, v := range cw {
		if !cg[col].Equal(v) {
			t.Errorf("connection %s: capped %v, uncapped %v", col, cg[col], v)
		}
	}
}
