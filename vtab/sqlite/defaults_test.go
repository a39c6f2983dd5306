//go:build sqlite_vtable

package sqlite

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/internal/testgen"
)

// minimalCapture writes a capture of two one-packet flows: a TCP SYN with
// only an MSS option and no payload, and an ICMP echo request with 32
// bytes of data. It returns the file's path.
func minimalCapture(t *testing.T) string {
	t.Helper()
	eth := func(src, dst byte) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, src}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, dst},
			EthernetType: layers.EthernetTypeIPv4}
	}
	ip := func(src, dst byte, proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 64, Id: 0x1234, Protocol: proto,
			SrcIP: net.IP{10, 0, 0, src}, DstIP: net.IP{10, 0, 0, dst}}
	}
	ipSyn := ip(1, 2, layers.IPProtocolTCP)
	syn := &layers.TCP{SrcPort: 40000, DstPort: 8080, Seq: 1000, SYN: true, Window: 65535,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}}
	if err := syn.SetNetworkLayerForChecksum(ipSyn); err != nil {
		t.Fatal(err)
	}
	synFrame, err := testgen.Serialize(eth(1, 2), ipSyn, syn)
	if err != nil {
		t.Fatal(err)
	}
	echoFrame, err := testgen.Serialize(eth(3, 4), ip(3, 4, layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 7, Seq: 1},
		gopacket.Payload(bytes.Repeat([]byte("abcd"), 8)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := testgen.NewPcapWriter(&b, testgen.PcapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC)
	for i, data := range [][]byte{synFrame, echoFrame} {
		if err := w.WriteFrame(testgen.Frame{TS: start.Add(time.Duration(i) * time.Second), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "minimal.pcap")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Columns that describe the one packet a minimal flow has, so they are not
// at their default. The lists follow JoyfulJay's reference rows of the same
// kind of flow (one TCP SYN without payload: 1999 flows of the corpus; one
// ICMP echo message: 10 flows): every other column of those rows holds its
// default. Columns of groups that are not registered are not read.
var (
	flowPresent = []string{
		"src_ip", "dst_ip", "dst_port_class", "dst_port_class_num", "protocol", "start_time", "end_time",
		"total_packets", "packets_fwd", "total_bytes", "bytes_fwd", "packets_ratio", "bytes_ratio",
		"packets_per_second", "bytes_per_second", "avg_packet_size", "time_first", "time_last", "num_hdrs",
		"hdr_desc", "flow_id",
		"pkt_len_min", "pkt_len_max", "pkt_len_mean", "pkt_len_median", "pkt_len_p25", "pkt_len_p75",
		"pkt_len_p90", "pkt_len_fwd_min", "pkt_len_fwd_max", "pkt_len_fwd_mean", "pkt_len_fwd_median",
		"dominant_pkt_size", "dominant_pkt_ratio", "pkt_asymmetry", "byte_asymmetry",
		"is_constant_size", "dominant_size_mode", "dominant_size_ratio", "unique_size_count", "padding_score",
		"tor_confidence",
		"mac_src", "mac_dst", "mac_eth_type", "mac_unique_src_count", "mac_unique_dst_count", "mac_stat",
		"ip_ttl_fwd_min", "ip_ttl_fwd_max", "ip_ttl_fwd_mean", "ip_ttl_fwd_initial_est", "ip_tos_unique_count",
		"ipv4_packet_count",
		// Every flow is an edge of the connection graph; betweenness and
		// clustering are 0.0 with two nodes.
		"conn_src_unique_dsts", "conn_dst_unique_srcs", "conn_src_dst_flows", "conn_src_port_flows",
		"conn_src_total_flows", "conn_dst_total_flows", "conn_src_total_packets", "conn_src_total_bytes",
		"conn_dst_total_packets", "conn_dst_total_bytes", "conn_src_unique_ports", "conn_src_out_degree",
		"conn_dst_in_degree", "conn_src_community", "conn_dst_community", "conn_same_community",
	}
	synPresent = slices.Concat(flowPresent, []string{
		"src_port", "dst_port", "flow_stat", "header_only_ratio",
		"tcp_is_tcp", "tcp_syn_count", "tcp_syn_ratio", "tcp_initiator_syn", "tcp_fstat", "tcp_flags_agg", "tcp_flags_fwd",
		"tcp_isn_fwd", "tcp_ack_fwd_count",
		"tcp_init_win_fwd", "tcp_win_fwd_min", "tcp_win_fwd_max", "tcp_win_fwd_mean", "tcp_scaled_win_fwd_max",
		"tcp_mss_fwd", "tcp_options_bitmap", "tcp_options_pkt_count",
		"tcp_fp_fwd", "tcp_fp_fwd_window", "tcp_fp_fwd_ttl", "tcp_fp_fwd_mss", "tcp_os_hint_fwd", // TTL 64: linux
	})
	echoPresent = slices.Concat(flowPresent, []string{
		"payload_bytes_fwd", "payload_bytes_total",
		"payload_len_min", "payload_len_max", "payload_len_mean", "payload_len_fwd_mean",
		"packets_with_payload", "packets_with_payload_fwd", "l7_bytes_fwd", "l7_bytes_total", "l7_pkt_min_fwd", "l7_pkt_max_fwd",
		"icmp_packet_count", "icmp_echo_request_count", "icmp_unique_type_codes", "icmp_dominant_type",
		"icmp_dominant_type_count", "icmp_unique_ids", "icmp_seq_min", "icmp_seq_max", "icmp_stat", "icmp_ratio", "is_icmp_only",
	})
)

// TestMinimalFlowDefaults computes every registered group on two one-packet
// flows and checks that each column whose input is absent holds the
// registered default (features.default_value), and that the columns
// describing the packet do not.
func TestMinimalFlowDefaults(t *testing.T) {
	db, _ := openDB(t)
	def := map[string]any{}
	rows, err := db.Query("SELECT name, default_value FROM features")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		var v any
		if err := rows.Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		def[n] = v
	}
	rows.Close()

	known := map[string]bool{}
	for _, c := range extractors.Columns() {
		known[c.Name] = true
	}
	for _, list := range [][]string{synPresent, echoPresent} {
		for _, c := range list {
			if !known[c] {
				t.Fatalf("present list names %s, not a column", c)
			}
		}
	}

	p := minimalCapture(t)
	for _, tc := range []struct {
		name    string
		where   string
		present []string
	}{
		{"tcp syn", "protocol = 6", synPresent},
		{"icmp echo request", "protocol = 1", echoPresent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := db.Query("SELECT * FROM flows(?) WHERE "+tc.where, p)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if !rows.Next() {
				t.Fatal("no flow")
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if rows.Next() {
				t.Fatal("more than one flow")
			}
			checked := 0
			for i, c := range cols {
				if c == "flow_uid" {
					continue
				}
				d, ok := def[c]
				if !ok {
					t.Fatalf("column %s not in the features table", c)
				}
				isDefault := sqlEqual(vals[i], d)
				switch present := slices.Contains(tc.present, c); {
				case present && isDefault:
					t.Errorf("%s = %v, the default, on a flow that has its input", c, vals[i])
				case !present && !isDefault:
					t.Errorf("%s = %v (%T), want the default %v (%T)", c, vals[i], vals[i], d, d)
				}
				checked++
			}
			if checked < 300 {
				t.Errorf("only %d columns checked", checked)
			}
		})
	}
}

// sqlEqual compares two values scanned by database/sql.
func sqlEqual(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		a = string(x)
	}
	switch x := b.(type) {
	case []byte:
		b = string(x)
	}
	return a == b
}
