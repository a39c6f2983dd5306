package vtab

import (
	"io"
	"net"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// packetField is one column of packets(): its definition and how to read it.
type packetField struct {
	name string
	typ  schema.Type
	doc  string
	get  func(c *packetCursor) schema.Value
}

func nullUnless(ok bool, v schema.Value) schema.Value {
	if !ok {
		return schema.NullV()
	}
	return v
}

func macText(b [6]byte) string { return net.HardwareAddr(b[:]).String() }

// The packets() columns, in order. Fields that a packet does not have (TCP
// fields of a UDP packet, say) are NULL.
var packetFields = []packetField{
	{"file", schema.Text, "capture file the packet came from", func(c *packetCursor) schema.Value { return schema.TextV(c.fileName()) }},
	{"frame", schema.Int, "1-based record number within its file", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.Index)) }},
	{"timestamp", schema.Real, "capture time, seconds since the epoch", func(c *packetCursor) schema.Value { return schema.RealV(c.p.TS) }},
	{"cap_len", schema.Int, "bytes captured", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.CapLen)) }},
	{"wire_len", schema.Int, "bytes on the wire", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.WireLen)) }},
	{"link_type", schema.Int, "link-layer type of the record (pcap LINKTYPE_ value)", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.LinkType)) }},
	{"eth_src", schema.Text, "source MAC of the outer Ethernet header", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasEth, schema.TextV(macText(c.p.SrcMAC)))
	}},
	{"eth_dst", schema.Text, "destination MAC of the outer Ethernet header", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasEth, schema.TextV(macText(c.p.DstMAC)))
	}},
	{"eth_type", schema.Int, "EtherType of the outer Ethernet header", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasEth, schema.IntV(int64(c.p.EthType)))
	}},
	{"vlan_id", schema.Int, "VLAN id of the first 802.1Q tag", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasVLAN, schema.IntV(int64(c.p.VLANID)))
	}},
	{"tunnel", schema.Text, "outermost tunnel the packet was carried in (gre, vxlan, ...)", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.Tunnel != flows.TunnelNone, schema.TextV(c.p.Tunnel.String()))
	}},
	{"ip_version", schema.Int, "4 or 6 (innermost IP header)", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.IPVersion)) }},
	{"src_ip", schema.Text, "source address", func(c *packetCursor) schema.Value {
		return schema.TextV(flows.Addr(c.p.SrcIP, c.p.IPVersion == 6).String())
	}},
	{"dst_ip", schema.Text, "destination address", func(c *packetCursor) schema.Value {
		return schema.TextV(flows.Addr(c.p.DstIP, c.p.IPVersion == 6).String())
	}},
	{"protocol", schema.Int, "transport protocol (after IPv6 extension headers)", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.Proto)) }},
	{"ip_len", schema.Int, "IP total length (IPv6: payload length + 40)", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.IPLen)) }},
	{"ip_hdr_len", schema.Int, "IP header length including IPv6 extension headers", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.IPHdrLen)) }},
	{"ttl", schema.Int, "TTL or hop limit", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.TTL)) }},
	{"tos", schema.Int, "IPv4 type-of-service byte", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.IPVersion == 4, schema.IntV(int64(c.p.TOS)))
	}},
	{"ip_id", schema.Int, "IPv4 identification (IPv6: fragment identification)", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.IPVersion == 4 || c.p.IsFragment, schema.IntV(int64(c.p.IPID)))
	}},
	{"ip_flags", schema.Int, "IPv4 flags: MF=1, DF=2, reserved=4", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.IPVersion == 4, schema.IntV(int64(c.p.IPFlags)))
	}},
	{"frag_offset", schema.Int, "fragment offset in 8-byte units", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.FragOffset)) }},
	{"more_fragments", schema.Bool, "more fragments follow", func(c *packetCursor) schema.Value { return schema.BoolV(c.p.MoreFrags) }},
	{"flow_label", schema.Int, "IPv6 flow label", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.IPVersion == 6, schema.IntV(int64(c.p.FlowLabel)))
	}},
	{"traffic_class", schema.Int, "IPv6 traffic class", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.IPVersion == 6, schema.IntV(int64(c.p.TrafficClass)))
	}},
	{"src_port", schema.Int, "source port (0 without TCP/UDP)", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.SrcPort)) }},
	{"dst_port", schema.Int, "destination port (0 without TCP/UDP)", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.DstPort)) }},
	{"tcp_flags", schema.Int, "TCP flags: FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasTCP, schema.IntV(int64(c.p.TCPFlags)))
	}},
	{"tcp_seq", schema.Int, "TCP sequence number", func(c *packetCursor) schema.Value { return nullUnless(c.p.HasTCP, schema.IntV(int64(c.p.Seq))) }},
	{"tcp_ack", schema.Int, "TCP acknowledgment number", func(c *packetCursor) schema.Value { return nullUnless(c.p.HasTCP, schema.IntV(int64(c.p.Ack))) }},
	{"tcp_window", schema.Int, "TCP window (unscaled)", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasTCP, schema.IntV(int64(c.p.Window)))
	}},
	{"tcp_options", schema.Blob, "raw TCP option bytes", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasTCP, schema.BlobV(c.p.TCPOptions))
	}},
	{"icmp_type", schema.Int, "ICMP or ICMPv6 type", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasICMP || c.p.HasICMPv6, schema.IntV(int64(c.p.ICMPType)))
	}},
	{"icmp_code", schema.Int, "ICMP or ICMPv6 code", func(c *packetCursor) schema.Value {
		return nullUnless(c.p.HasICMP || c.p.HasICMPv6, schema.IntV(int64(c.p.ICMPCode)))
	}},
	{"payload_len", schema.Int, "declared transport payload length", func(c *packetCursor) schema.Value { return schema.IntV(int64(c.p.PayloadLen)) }},
	{"payload", schema.Blob, "captured transport payload bytes", func(c *packetCursor) schema.Value { return schema.BlobV(c.p.Payload) }},
	{"truncated", schema.Bool, "the record was cut short by the snapshot length", func(c *packetCursor) schema.Value { return schema.BoolV(c.p.Truncated) }},
	{"direction", schema.Text, "'fwd' when sent by the flow's initiator, else 'bwd'", func(c *packetCursor) schema.Value {
		if c.flow == nil {
			return schema.NullV()
		}
		if c.fwd {
			return schema.TextV("fwd")
		}
		return schema.TextV("bwd")
	}},
	{"flow_uid", schema.Int, "flow_uid of the packet's flow in flows()", func(c *packetCursor) schema.Value {
		if c.flow == nil {
			return schema.NullV()
		}
		return schema.IntV(int64(c.uid))
	}},
}

// PacketsTable is packets(path, options...): one row per IP packet.
type PacketsTable struct {
	env     *Env
	cols    []ColumnDef
	argBase int
	flowCol []bool // columns that need flow assembly
}

// NewPacketsTable returns the packets table of env.
func NewPacketsTable(env *Env) *PacketsTable {
	t := &PacketsTable{env: env}
	for _, f := range packetFields {
		t.cols = append(t.cols, ColumnDef{Name: f.name, Type: f.typ, Kind: KindField, Doc: f.doc})
		t.flowCol = append(t.flowCol, f.name == "direction" || f.name == "flow_uid")
	}
	t.argBase = len(t.cols)
	t.cols = append(t.cols, argColumns()...)
	return t
}

// Name implements Table.
func (t *PacketsTable) Name() string { return "packets" }

// Columns implements Table.
func (t *PacketsTable) Columns() []ColumnDef { return t.cols }

// Open implements Table.
func (t *PacketsTable) Open(argVals []schema.Value, used []bool) (Cursor, error) {
	o, err := resolve(t.env, "packets", argVals)
	if err != nil {
		return nil, err
	}
	assemble := used == nil
	for i, need := range t.flowCol {
		if need && i < len(used) && used[i] {
			assemble = true
		}
	}
	in, err := newInput(t.env, "packets", o.path)
	if err != nil {
		return nil, err
	}
	c := &packetCursor{t: t, o: o, in: in, assemble: assemble, sampler: flows.NewSampler(o.cfg)}
	if assemble {
		c.asm = flows.NewAssembler(o.cfg, 0)
	}
	return c, nil
}

type packetCursor struct {
	t        *PacketsTable
	o        options
	in       *input
	assemble bool
	asm      *flows.Assembler
	sampler  *flows.Sampler // without the flow table, the same packets are sampled
	p        flows.Packet
	flow     *flows.Flow
	fwd      bool
	uid      uint64
	rowid    int64
	closed   bool
	warned   bool
}

func (c *packetCursor) fileName() string {
	if c.p.File >= 0 && c.p.File < len(c.in.files) {
		return c.in.files[c.p.File]
	}
	return ""
}

// Next implements Cursor.
func (c *packetCursor) Next() (bool, error) {
	for {
		ok, err := c.in.next(&c.p)
		if ok {
			if c.assemble {
				// The assembler gives a non-first fragment its datagram's
				// ports; the packets table shows the headers as they are.
				sp, dp, pl := c.p.SrcPort, c.p.DstPort, c.p.PayloadLen
				c.flow, c.fwd = c.asm.Add(&c.p)
				c.p.SrcPort, c.p.DstPort, c.p.PayloadLen = sp, dp, pl
				if c.flow == nil {
					continue // sampled out
				}
				c.uid = c.flow.UID
				for f := c.asm.Pop(); f != nil; f = c.asm.Pop() {
					c.asm.Release(f)
				}
			} else if !c.sampler.Keep() {
				continue
			}
			c.rowid++
			return true, nil
		}
		if c.assemble {
			c.asm = flows.NewAssembler(c.o.cfg, 0)
		} else {
			c.sampler = flows.NewSampler(c.o.cfg)
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// Column implements Cursor.
func (c *packetCursor) Column(i int) schema.Value {
	if i < len(packetFields) {
		if c.t.flowCol[i] && !c.assemble && !c.warned {
			c.warned = true
			c.t.env.warn("packets: column %s was not planned for this scan", packetFields[i].name)
		}
		return packetFields[i].get(c)
	}
	if j := i - c.t.argBase; j >= 0 && j < len(args) {
		return args[j].get(&c.o)
	}
	return schema.NullV()
}

// Rowid implements Cursor.
func (c *packetCursor) Rowid() int64 { return c.rowid }

// Close implements Cursor.
func (c *packetCursor) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.in.close()
	if c.t.env.OnScanEnd != nil {
		st := ScanStats{Table: "packets", Rows: uint64(c.rowid), Packets: c.in.stats.IPPackets, Assembled: c.assemble}
		if c.asm != nil {
			st.Work = c.asm.Work
		}
		c.t.env.OnScanEnd(st)
	}
	return nil
}
