package vtab

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"

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
		if !c.inFlow {
			return schema.NullV()
		}
		if c.fwd {
			return schema.TextV("fwd")
		}
		return schema.TextV("bwd")
	}},
	{"flow_uid", schema.Int, "flow_uid of the packet's flow in flows()", func(c *packetCursor) schema.Value {
		if !c.inFlow {
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
	keep := used == nil
	for i := range packetFields {
		if i < len(used) && used[i] {
			keep = true
		}
	}
	c := &packetCursor{t: t, o: o, in: in, assemble: assemble, keep: keep, sampler: flows.NewSampler(o.cfg),
		p: new(flows.Packet), stop: make(chan struct{}), done: make(chan struct{})}
	if assemble {
		c.asm = flows.NewAssembler(o.cfg, 0)
	}
	if t.env.Workers == 1 || (t.env.Workers <= 0 && runtime.GOMAXPROCS(0) == 1) {
		// One core: reading ahead on another goroutine would only add
		// hand-offs.
		c.sync = true
		close(c.done)
		return c, nil
	}
	if !assemble && o.cfg.SamplingRate >= 1 {
		// No flow table and no sampling: the rows do not depend on the
		// packets before them, so records are framed on one goroutine and
		// decoded on several (frameInput), and the cursor takes the
		// batches in record order.
		n := scanWorkers(t.env, &o.cfg)
		nb := 4*n + 4
		c.ch, c.free = make(chan *packetBatch, nb), make(chan *packetBatch, nb)
		c.chunks, c.decodeQ = make(chan *frameChunk, nb), make(chan *frameChunk, n)
		for range nb {
			c.free <- &packetBatch{}
			c.chunks <- &frameChunk{}
		}
		c.pending = map[uint64]*packetBatch{}
		var wg sync.WaitGroup
		wg.Add(n + 1)
		go c.frame(&wg)
		for range n {
			go c.decode(&wg)
		}
		go func() {
			wg.Wait()
			close(c.ch)
			close(c.done)
		}()
		return c, nil
	}
	c.ch, c.free = make(chan *packetBatch, packetBatches-2), make(chan *packetBatch, packetBatches)
	for range packetBatches {
		c.free <- &packetBatch{}
	}
	go c.produce()
	return c, nil
}

// frame is the framer goroutine of a parallel packets scan.
func (c *packetCursor) frame(wg *sync.WaitGroup) {
	defer wg.Done()
	defer close(c.decodeQ)
	defer c.recoverAs("reading")
	err := frameInput(c.in, func(seq uint64, file *fileDecodes) *frameChunk {
		var ch *frameChunk
		select {
		case ch = <-c.chunks:
		case <-c.stop:
			return nil
		}
		select {
		case ch.pb = <-c.free:
		case <-c.stop:
			return nil
		}
		ch.pb.reset()
		ch.pb.seq = seq
		ch.seq, ch.frames, ch.arena, ch.flush, ch.file = seq, ch.frames[:0], ch.arena[:0], false, file
		file.wg.Add(1)
		return ch
	}, func(ch *frameChunk) bool {
		select {
		case c.decodeQ <- ch:
			return true
		case <-c.stop:
			return false
		}
	})
	if err != nil {
		c.fail(err)
	}
}

// decode is a decoder goroutine of a parallel packets scan.
func (c *packetCursor) decode(wg *sync.WaitGroup) {
	defer wg.Done()
	var p flows.Packet
	for ch := range c.decodeQ {
		b := ch.pb
		st := c.decodeChunk(ch, b, &p)
		b.seal()
		ch.pb = nil
		ch.file.decoded(st)
		c.chunks <- ch // never blocks: the list holds every chunk
		c.ch <- b      // never blocks: the channel holds every batch
	}
}

// decodeChunk decodes ch's records into b. A panic (a bug in a decoder)
// fails the scan; the batch still goes on with the rows before it, so the
// cursor does not wait for it forever.
func (c *packetCursor) decodeChunk(ch *frameChunk, b *packetBatch, p *flows.Packet) (st flows.SourceStats) {
	i := 0
	defer func() {
		if r := recover(); r != nil {
			c.fail(fmt.Errorf("packets: internal error while decoding record %d of file %d: %v", ch.frames[i].Index, ch.frames[i].File, r))
		}
	}()
	for ; i < len(ch.frames); i++ {
		if decodeFrame(&ch.frames[i], p, &st) {
			c.add(b, p, 0, false, false)
		}
	}
	return st
}

func (c *packetCursor) recoverAs(what string) {
	if r := recover(); r != nil {
		c.fail(fmt.Errorf("packets: internal error while %s: %v", what, r))
	}
}

// fail records the scan's error (returned after the rows before it).
func (c *packetCursor) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// add puts p (of flow uid, when inFlow) in b as a row.
func (c *packetCursor) add(b *packetBatch, p *flows.Packet, uid uint64, fwd, inFlow bool) {
	b.n++
	if !c.keep {
		return
	}
	q := *p
	q.Payload, q.TCPOptions = nil, nil
	b.spans = append(b.spans, c.copyBytes(b, p.Payload), c.copyBytes(b, p.TCPOptions))
	b.pkts = append(b.pkts, q)
	if !inFlow {
		uid = noFlow
	}
	b.uid = append(b.uid, uid)
	b.fwd = append(b.fwd, fwd)
}

func (b *packetBatch) reset() {
	b.n, b.pkts, b.uid, b.fwd, b.arena, b.spans = 0, b.pkts[:0], b.uid[:0], b.fwd[:0], b.arena[:0], b.spans[:0]
}

// The packets of a packets() scan are read, decoded (and given their flow)
// by a producer goroutine, a batch at a time, while the cursor hands the
// rows of the previous batch to the engine: on two cores the engine's
// stepping and the decoding overlap. A query that reads no packet column
// (count(*)) gets batches of row counts only.
const (
	packetBatchRows = 1024
	packetBatches   = 6
)

// packetBatch is one hand-off from the producer to the cursor.
type packetBatch struct {
	seq   uint64 // batches are taken in seq order
	n     int    // rows
	pkts  []flows.Packet
	uid   []uint64
	fwd   []bool
	arena []byte // copies of the packets' payload and TCP options
	spans []span // per packet: its payload and its TCP options in arena
}

type packetCursor struct {
	t        *PacketsTable
	o        options
	in       *input
	assemble bool
	keep     bool // packet columns are read: batches hold the packets
	asm      *flows.Assembler
	sampler  *flows.Sampler // without the flow table, the same packets are sampled

	// cursor side
	p      *flows.Packet // the current row's packet
	uid    uint64
	fwd    bool
	inFlow bool
	cur    *packetBatch
	i      int
	rowid  int64
	closed bool
	warned bool

	ch      chan *packetBatch
	free    chan *packetBatch
	stop    chan struct{}
	done    chan struct{} // closed when the producer (or framer and decoders) have left
	mu      sync.Mutex
	err     error // the producer's error, read after ch is closed
	zero    flows.Packet
	sync    bool                    // one core: Next reads the rows itself, no goroutine
	own     flows.Packet            // the current row with sync
	next    uint64                  // seq of the next batch to take
	pending map[uint64]*packetBatch // batches decoded ahead of next (parallel scan)
	chunks  chan *frameChunk        // free chunks (parallel scan)
	decodeQ chan *frameChunk
}

func (c *packetCursor) fileName() string {
	if c.p.File >= 0 && c.p.File < len(c.in.files) {
		return c.in.files[c.p.File]
	}
	return ""
}

// read1 reads the next row: a packet the sampler keeps, with its flow
// when the scan assembles flows. At the end of each file the flow table (or
// sampler) starts afresh. ok is false at the end of the input (err nil) or
// on an error.
func (c *packetCursor) read1(p *flows.Packet) (ok bool, uid uint64, fwd, inFlow bool, err error) {
	for {
		ok, err := c.in.next(p)
		if ok {
			if c.assemble {
				// The assembler gives a non-first fragment its datagram's
				// ports; the packets table shows the headers as they are.
				sp, dp, pl := p.SrcPort, p.DstPort, p.PayloadLen
				f, fw := c.asm.Add(p)
				p.SrcPort, p.DstPort, p.PayloadLen = sp, dp, pl
				if f == nil {
					continue // sampled out
				}
				uid, fwd = f.UID, fw
				for f := c.asm.Pop(); f != nil; f = c.asm.Pop() {
					c.asm.Release(f)
				}
				return true, uid, fwd, true, nil
			}
			if !c.sampler.Keep() {
				continue
			}
			return true, 0, false, false, nil
		}
		if c.assemble {
			c.asm = flows.NewAssembler(c.o.cfg, 0)
		} else {
			c.sampler = flows.NewSampler(c.o.cfg)
		}
		if err == io.EOF {
			return false, 0, false, false, nil
		}
		if err != nil {
			return false, 0, false, false, err
		}
	}
}

// produce is the producer goroutine: the rows of the scan, in batches.
func (c *packetCursor) produce() {
	defer close(c.done)
	defer close(c.ch)
	defer c.recoverAs("reading")
	var (
		p   flows.Packet
		seq uint64
	)
	for {
		var b *packetBatch
		select {
		case b = <-c.free:
		case <-c.stop:
			return
		}
		b.reset()
		b.seq = seq
		seq++
		var (
			ok  = true
			err error
		)
		for ok && b.n < packetBatchRows {
			var uid uint64
			var fwd, inFlow bool
			if ok, uid, fwd, inFlow, err = c.read1(&p); ok {
				c.add(b, &p, uid, fwd, inFlow)
			}
		}
		b.seal()
		select {
		case c.ch <- b:
		case <-c.stop:
			return
		}
		if !ok {
			if err != nil {
				c.fail(err)
			}
			return
		}
	}
}

// noFlow marks a batch row without a flow (its uid).
const noFlow = ^uint64(0)

// copyBytes copies src into b's arena and returns where (off -1: src is
// nil). The rows' slices are set once the batch is full (seal): the arena
// may move while it grows.
func (c *packetCursor) copyBytes(b *packetBatch, src []byte) span {
	if src == nil {
		return span{off: -1}
	}
	off := len(b.arena)
	b.arena = append(b.arena, src...)
	return span{off: int32(off), n: int32(len(src))}
}

// span is a slice of a batch's arena.
type span struct{ off, n int32 }

func (sp span) in(arena []byte) []byte {
	if sp.off < 0 {
		return nil
	}
	return arena[sp.off : sp.off+sp.n : sp.off+sp.n]
}

// seal points the batch's packets at their copies in the arena.
func (b *packetBatch) seal() {
	for i := range b.pkts {
		b.pkts[i].Payload = b.spans[2*i].in(b.arena)
		b.pkts[i].TCPOptions = b.spans[2*i+1].in(b.arena)
	}
}

// Next implements Cursor.
func (c *packetCursor) Next() (bool, error) {
	if c.sync {
		ok, uid, fwd, inFlow, err := c.read1(&c.own)
		if !ok {
			c.p = &c.zero
			return false, err
		}
		c.p, c.uid, c.fwd, c.inFlow = &c.own, uid, fwd, inFlow
		c.rowid++
		return true, nil
	}
	c.i++
	for c.cur == nil || c.i >= c.cur.n {
		if c.cur != nil {
			c.free <- c.cur // never blocks: the list holds every batch
			c.cur = nil
		}
		b, ok := c.pending[c.next]
		if ok {
			delete(c.pending, c.next)
		} else if b, ok = <-c.ch; !ok {
			c.p = &c.zero
			c.mu.Lock()
			defer c.mu.Unlock()
			return false, c.err
		} else if b.seq != c.next {
			c.pending[b.seq] = b // decoded ahead of its turn
			continue
		}
		c.next++
		c.cur, c.i = b, 0
	}
	if c.keep {
		c.p = &c.cur.pkts[c.i]
		c.uid, c.fwd = c.cur.uid[c.i], c.cur.fwd[c.i]
		c.inFlow = c.uid != noFlow
	} else {
		c.p = &c.zero
	}
	c.rowid++
	return true, nil
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
	close(c.stop)
	<-c.done // the producer has left: its input and flow table are ours
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
