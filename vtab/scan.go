package vtab

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// The flow scan of flows(): one framer goroutine walks the capture's
// records (flows.DeferDecode: framing only) and hands them in chunks to
// decoder goroutines (as many as workers), which decode them and shard the
// packets by host pair (both addresses and the protocol, so every packet of
// a flow, its IP fragments included, goes to the same shard); each worker
// goroutine owns a flow table (an Assembler) for its shard, takes its
// packets chunk by chunk in file order, and computes the planned groups of
// each flow that ends;
// the cursor merges the rows in one canonical order, by flow_uid (the index
// of the flow's first packet). The rows are the same, in the same order,
// whatever the number of workers.
//
// Ordering: a worker reports, with each batch it finishes, a bound below
// which it will produce no more rows (its oldest open flow, or the next
// packet the reader has not read yet); the cursor hands out a finished row
// once every worker's bound is above it. Finished rows wait, as computed
// values, while an earlier flow is still open.

// scanRow is one finished flow: its UID and the values of the columns the
// scan keeps (flowScan.cellAt and colType: the asked-for columns of the planned groups),
// encoded back to back in enc: a row may wait for an earlier flow to end,
// so it is kept small. An integer or boolean cell is a zigzag varint, a real
// one the varint of its float bits byte-reversed (0.0, 1.0, 0.5 take one or
// two bytes), a text or blob cell its length as a varint and its bytes. A
// typical row of every column takes well under a kilobyte instead of 8
// bytes per cell. rowView decodes one row for the cursor.
type scanRow struct {
	uid   uint64
	entry *extractors.CrossEntry // first pass of a cross-flow scan: what the graph takes from the flow
	enc   []byte
	nulls []uint64 // bit i: cell i is NULL (a group that failed)
	// A waiting row whose cells went to the scan's spill file (enc nil):
	// where they are. spillLen is 0 otherwise.
	spillOff int64
	spillLen int
}

// appendCell encodes v, of a column of type typ, onto b.
func appendCell(b []byte, v schema.Value, typ schema.Type) []byte {
	switch typ {
	case schema.Real:
		return binary.AppendUvarint(b, bits.ReverseBytes64(math.Float64bits(v.F)))
	case schema.Text:
		b = binary.AppendUvarint(b, uint64(len(v.S)))
		return append(b, v.S...)
	case schema.Blob:
		b = binary.AppendUvarint(b, uint64(len(v.B)))
		return append(b, v.B...)
	}
	return binary.AppendVarint(b, v.I)
}

// rowView is the decoded current row of a cursor: per cell a word (the
// integer, the float's bits, or offset<<32|length of a text in enc).
type rowView struct {
	words []uint64
	enc   []byte
	nulls []uint64
	ok    bool
}

// decode reads r's cells (of types typ) into v.
func (v *rowView) decode(r *scanRow, typ []schema.Type) {
	if cap(v.words) < len(typ) {
		v.words = make([]uint64, len(typ))
	}
	v.words, v.enc, v.nulls, v.ok = v.words[:len(typ)], r.enc, r.nulls, true
	b, off := r.enc, 0
	for i, t := range typ {
		switch t {
		case schema.Real:
			u, n := binary.Uvarint(b[off:])
			v.words[i] = math.Float64bits(math.Float64frombits(bits.ReverseBytes64(u)))
			off += n
		case schema.Text, schema.Blob:
			l, n := binary.Uvarint(b[off:])
			off += n
			v.words[i] = uint64(off)<<32 | l
			off += int(l)
		default:
			x, n := binary.Varint(b[off:])
			v.words[i] = uint64(x)
			off += n
		}
	}
}

// value returns cell pos of the decoded row, whose column has type typ.
func (v *rowView) value(pos int, typ schema.Type) schema.Value {
	if v.nulls != nil && v.nulls[pos/64]&(1<<(pos%64)) != 0 {
		return schema.NullV()
	}
	w := v.words[pos]
	switch typ {
	case schema.Int:
		return schema.IntV(int64(w))
	case schema.Bool:
		return schema.BoolV(w != 0)
	case schema.Real:
		return schema.RealV(math.Float64frombits(w))
	case schema.Text:
		return schema.TextV(string(v.enc[w>>32 : w>>32+w&0xffffffff]))
	case schema.Blob:
		return schema.BlobV(bytes.Clone(v.enc[w>>32 : w>>32+w&0xffffffff]))
	}
	return schema.NullV()
}

// pktBatch is the reader's hand-off to one worker.
type pktBatch struct {
	seq   uint64         // the chunk it comes from: a worker takes its batches in seq order
	pkts  []flows.Packet // the worker's packets of the chunk
	now   []float64      // the latest capture time in the chunk up to each packet (see chunkMax)
	max   float64        // the latest capture time of any IP packet of the chunk
	arena []byte         // copies of the payloads of pkts
	pos   uint64         // every packet read after this batch has a UID above pos
	flush bool           // the file ended: flush the flow table after pkts
}

type scanResult struct {
	worker int
	rows   []scanRow
	bound  uint64 // the worker produces no more rows with a UID below this
	done   bool
}

// flowScan is the running scan of one flowCursor.
type flowScan struct {
	t     *FlowsTable
	cfg   flows.Config
	plan  extractors.Plan
	cross *extractors.CrossFlow
	// crossDone is closed when cross.Finish has run (in its own goroutine,
	// while the second pass reads the input); the cross-flow group's
	// values are computed by the cursor, from each row's entry, after it.
	crossDone  chan struct{}
	crossErr   error           // the first pass's error, set before crossDone is closed
	firstDone  chan struct{}   // closed when the first pass has returned
	abort      <-chan struct{} // a first pass: closed when the scan it serves stops
	crossOff   int             // first cell of the cross-flow group in a row (-1: not planned)
	crossGroup *extractors.Group
	crossLen   int
	in         *input
	workers    int

	entries  *extractors.CrossFlow // set for the first pass of a cross-flow scan: rows carry entries, no values
	planned  []*extractors.Group   // groups to compute, in registry order
	colPos   []int                 // registry column -> cell of scanRow, or -1
	crossPos []int                 // registry column -> index in the cross-flow group's values, or -1
	colType  []schema.Type         // per cell: the column's declared type
	cellAt   []int                 // per cell: its index in the planned groups' values (scratch)
	width    int                   // cells per row
	outW     int                   // values the planned groups compute (scratch)

	toWorker []chan *pktBatch
	free     chan *pktBatch
	decodeQ  chan *frameChunk
	chunks   chan *frameChunk // free chunks
	results  chan scanResult
	stop     chan struct{}
	wg       sync.WaitGroup

	// Files whose frames stay in their mapping are closed only once every
	// worker is past their last chunk (workDone), so the workers' packets
	// can point into the mapping instead of into copies of the payloads.
	workDone []atomic.Uint64 // per worker: the seq after the last batch it added
	heldMu   sync.Mutex
	held     []heldFile // ended files not closed yet
	framed   uint64     // seq of the latest chunk (framer goroutine)

	mu    sync.Mutex
	err   error // the reader's error, returned after the rows read before it
	work  flows.WorkStats
	calls []uint64 // per group index

	// merge state (cursor goroutine only)
	bounds     []uint64
	ready      rowHeap
	live       int // workers not done
	crossCalls int // rows whose cross-flow values the cursor computed
	// maxReady is the most finished rows that waited at once for an
	// earlier flow to end (ScanStats.RowsWaiting).
	maxReady int
	waiting  int      // bytes of the waiting rows' cells held in memory
	spill    rowSpill // the waiting rows' cells past spillAt
	closed   bool
}

// waitCross waits for the cross-flow graph once every row is computed,
// asking Env.Progress about every ProgressInterval whether to go on (the
// first pass, running beside this scan, does not ask it): false when it
// says stop. Every file of this scan has ended, so its counts are final.
func (s *flowScan) waitCross() bool {
	progress := s.t.env.Progress
	if progress == nil {
		<-s.crossDone
		return true
	}
	tick := time.NewTicker(ProgressInterval + time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.crossDone:
			return true
		case <-tick.C:
			if !progress(uint64(s.in.stats.Bytes), uint64(max(s.in.total, 0)), s.in.stats.IPPackets) {
				return false
			}
		}
	}
}

// errAborted ends a first pass whose scan stopped before it was done.
var errAborted = errors.New("flows: first pass aborted")

// heldFile is an ended file still open, and the seq of its last chunk.
type heldFile struct {
	src  flows.Source
	last uint64
}

// hold keeps an ended file open until the workers are past its last chunk
// (input.hold; the framer goroutine).
func (s *flowScan) hold(src flows.Source) {
	s.heldMu.Lock()
	s.held = append(s.held, heldFile{src: src, last: s.framed})
	s.heldMu.Unlock()
}

// closePassed closes the held files every worker is past. The framer calls
// it for each chunk, and the cursor for each batch of rows (the framer may
// be done long before the workers).
func (s *flowScan) closePassed() {
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	if len(s.held) == 0 {
		return
	}
	done := uint64(math.MaxUint64)
	for w := range s.workDone {
		done = min(done, s.workDone[w].Load())
	}
	k := 0
	for ; k < len(s.held) && s.held[k].last < done; k++ {
		s.held[k].src.Close()
		s.held[k] = heldFile{}
	}
	s.held = s.held[k:]
}

// scanWorkers returns how many flow tables a scan with cfg runs: one per
// core (Env.Workers overrides), and one when an option depends on the
// global order of packets (max_concurrent_flows eviction, sampling).
func scanWorkers(env *Env, cfg *flows.Config) int {
	if cfg.MaxConcurrentFlows > 0 || cfg.SamplingRate < 1 {
		return 1
	}
	n := env.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(1, min(n, 64))
}

func newFlowScan(t *FlowsTable, o options, plan extractors.Plan, cross *extractors.CrossFlow, in *input) *flowScan {
	return newFlowScanWith(t, o, plan, cross, nil, in, nil)
}

// newFlowScanWith is newFlowScan with the first pass of a cross-flow scan
// (first, run beside this scan before cross.Finish; nil when cross was
// filled beforehand), or is that first pass when entries is set: each row
// then carries the flow's entries.Entry.
func newFlowScanWith(t *FlowsTable, o options, plan extractors.Plan, cross *extractors.CrossFlow, first func(abort <-chan struct{}) error, in *input, entries *extractors.CrossFlow) *flowScan {
	cfg := o.cfg
	extractors.Configure(&cfg)
	s := &flowScan{t: t, cfg: cfg, plan: plan, cross: cross, in: in, workers: scanWorkers(t.env, &o.cfg), entries: entries, crossOff: -1}
	gs := extractors.Groups()
	s.calls = make([]uint64, len(gs))
	s.colPos = make([]int, t.nFeat)
	s.crossPos = make([]int, t.nFeat)
	for i := range s.colPos {
		s.colPos[i], s.crossPos[i] = -1, -1
	}
	for _, g := range gs {
		if !plan.Run[g.Index()] {
			continue
		}
		s.planned = append(s.planned, g)
		if g.CrossFlow() {
			s.crossOff, s.crossLen, s.crossGroup = s.outW, len(g.Features), g
		}
		for j, f := range g.Features {
			fi := g.Offset() + j
			switch {
			case g.CrossFlow():
				s.crossPos[fi] = j
			case plan.Used == nil || plan.Used[fi]:
				s.colPos[fi] = s.width
				s.colType = append(s.colType, f.Type)
				s.cellAt = append(s.cellAt, s.outW+j)
				s.width++
			}
		}
		s.outW += len(g.Features)
	}
	n := s.workers
	s.workDone = make([]atomic.Uint64, n)
	s.in.hold = s.hold
	s.toWorker = make([]chan *pktBatch, n)
	// Chunks in flight: 4 per decoder and 4 more, so that neither the
	// framer nor a decoder waits for one in the steady state; each holds a
	// batch per worker until the worker is done with it (the batch list
	// holds enough for that, and for the batches waiting at the workers).
	nc := 4*n + 4
	s.chunks = make(chan *frameChunk, nc)
	for range nc {
		s.chunks <- &frameChunk{}
	}
	s.decodeQ = make(chan *frameChunk, n)
	nb := n * (nc + 2*n)
	s.free = make(chan *pktBatch, nb)
	for range nb {
		s.free <- &pktBatch{}
	}
	s.results = make(chan scanResult, 2*n)
	s.stop = make(chan struct{})
	if cross != nil {
		s.crossDone = make(chan struct{})
		s.firstDone = make(chan struct{})
		go func() {
			if first != nil {
				err := first(s.stop)
				close(s.firstDone)
				if err != nil {
					s.crossErr = err
					close(s.crossDone)
					return
				}
			} else {
				close(s.firstDone)
			}
			cross.Finish()
			close(s.crossDone)
		}()
	}
	s.bounds = make([]uint64, n)
	s.live = n
	for w := range n {
		s.toWorker[w] = make(chan *pktBatch, nb/n)
		s.wg.Add(1)
		go s.runWorker(w)
	}
	var decoders sync.WaitGroup
	for range n {
		s.wg.Add(1)
		decoders.Add(1)
		go s.decode(&decoders)
	}
	go func() {
		// The workers' channels close once every decoder has left.
		decoders.Wait()
		for _, c := range s.toWorker {
			close(c)
		}
	}()
	s.wg.Add(1)
	go s.read()
	return s
}

// shard returns the worker of p: a hash of its two addresses (in either
// order) and its protocol.
func (s *flowScan) shard(p *flows.Packet) int {
	if s.workers == 1 {
		return 0
	}
	a := binary.LittleEndian.Uint64(p.SrcIP[0:8]) ^ binary.LittleEndian.Uint64(p.SrcIP[8:16])
	b := binary.LittleEndian.Uint64(p.DstIP[0:8]) ^ binary.LittleEndian.Uint64(p.DstIP[8:16])
	h := (a ^ b ^ uint64(p.Proto)) * 0x9e3779b97f4a7c15
	return int((h >> 32) % uint64(s.workers))
}

// batch takes an empty batch from the free list, waiting for a worker to
// return one; nil when the scan is stopped. The scan owns a fixed number of
// batches (enough for every channel and goroutine to hold one), so the
// reader never allocates one per batch and memory stays bounded.
func (s *flowScan) batch() *pktBatch {
	select {
	case b := <-s.free:
		b.pkts, b.now, b.arena, b.flush = b.pkts[:0], b.now[:0], b.arena[:0], false
		return b
	case <-s.stop:
		return nil
	}
}

// keepsPayload reports whether the planned groups read payload bytes.
func (s *flowScan) keepsPayload() bool {
	return s.plan.Needs&(flows.NeedPayload|flows.NeedHeads|flows.NeedSample|flows.NeedHeadCount) != 0
}

// read is the framer goroutine (frameInput): chunks go to the decoders.
func (s *flowScan) read() {
	defer s.wg.Done()
	defer close(s.decodeQ)
	defer func() {
		// A panic while reading (a bug in a decoder) ends the scan with an
		// error naming it, instead of ending the process.
		if r := recover(); r != nil {
			s.fail(fmt.Errorf("flows: internal error while reading: %v", r))
		}
	}()
	err := frameInput(s.in, s.chunk, func(ch *frameChunk) bool {
		select {
		case s.decodeQ <- ch:
			return true
		case <-s.stop:
			return false
		}
	})
	if err != nil {
		s.fail(err)
	}
}

// fail records the scan's error (returned after the rows read before it).
func (s *flowScan) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// chunk takes an empty chunk with a batch for every worker, nil when the
// scan is stopped; it counts as one of file's chunks to decode.
func (s *flowScan) chunk(seq uint64, file *fileDecodes) *frameChunk {
	var ch *frameChunk
	select {
	case ch = <-s.chunks:
	case <-s.stop:
		return nil
	}
	ch.seq, ch.frames, ch.arena, ch.flush, ch.file, ch.stay = seq, ch.frames[:0], ch.arena[:0], false, file, false
	s.framed = seq
	s.closePassed()
	ch.out = ch.out[:0]
	for range s.workers {
		b := s.batch()
		if b == nil {
			return nil
		}
		b.seq = seq
		ch.out = append(ch.out, b)
	}
	file.wg.Add(1)
	return ch
}

// decode is a decoder goroutine: it decodes the records of each chunk,
// puts each packet in the batch of its worker (shard) and sends every
// worker its batch of the chunk (empty ones too: a worker takes every
// chunk, in order).
func (s *flowScan) decode(decoders *sync.WaitGroup) {
	defer s.wg.Done()
	defer decoders.Done()
	payload := s.keepsPayload()
	var p flows.Packet
	stopped := false
	for ch := range s.decodeQ {
		// Once the scan is stopped, the chunks still queued are only
		// marked decoded: the framer may be waiting for a file's chunks
		// before it can see the stop.
		var st flows.SourceStats
		var clock float64
		if !stopped {
			st, clock = s.decodeChunk(ch, payload, &p)
		}
		out := ch.out
		for _, b := range out {
			b.max, b.pos, b.flush = clock, ch.pos, ch.flush
		}
		ch.out = nil
		ch.file.decoded(st)
		s.chunks <- ch // never blocks: the free list holds every chunk
		for w, b := range out {
			if stopped {
				break
			}
			select {
			case s.toWorker[w] <- b:
			case <-s.stop:
				stopped = true
			}
		}
	}
}

// decodeChunk decodes ch's records into its workers' batches and returns
// the decoding counts and the latest capture time of its IP packets. A
// panic (a bug in a decoder) fails the scan with an error naming the
// record; the chunk still goes on with the packets decoded before it, so
// that every worker gets its batch and the scan ends instead of waiting.
func (s *flowScan) decodeChunk(ch *frameChunk, payload bool, p *flows.Packet) (st flows.SourceStats, clock float64) {
	clock = math.Inf(-1)
	i := 0
	defer func() {
		if r := recover(); r != nil {
			s.fail(fmt.Errorf("flows: internal error while decoding record %d of file %d: %v", ch.frames[i].Index, ch.frames[i].File, r))
		}
	}()
	for ; i < len(ch.frames); i++ {
		if !decodeFrame(&ch.frames[i], p, &st) {
			continue
		}
		clock = max(clock, p.TS)
		b := ch.out[s.shard(p)]
		q := *p
		q.TCPOptions = nil
		if payload && len(p.Payload) > 0 && ch.stay {
			// The payload stays in the file's mapping until every worker
			// is past the file (flowScan.hold).
		} else if payload && len(p.Payload) > 0 {
			off := len(b.arena)
			b.arena = append(b.arena, p.Payload...)
			q.Payload = b.arena[off:len(b.arena):len(b.arena)]
		} else {
			q.Payload = nil
		}
		b.pkts = append(b.pkts, q)
		b.now = append(b.now, clock)
	}
	return st, clock
}

// runWorker is worker w's goroutine.
func (s *flowScan) runWorker(w int) {
	defer s.wg.Done()
	asm := flows.NewAssembler(s.cfg, s.plan.Needs)
	calls := make([]uint64, len(s.calls))
	scratch := make([]schema.Value, s.outW)
	var enc []byte
	var done flows.WorkStats // of the flow tables of earlier files
	defer func() {
		s.mu.Lock()
		addWork(&s.work, done)
		addWork(&s.work, asm.Work)
		for i, c := range calls {
			s.calls[i] += c
		}
		s.mu.Unlock()
	}()
	// Batches arrive in the order their chunks were decoded; they are
	// taken in chunk order (seq). The input's clock at a packet is the
	// latest capture time of the file so far: that of the chunks before
	// (clock) or of the chunk up to the packet.
	pending := map[uint64]*pktBatch{}
	var next uint64
	clock := math.Inf(-1)
	for in := range s.toWorker[w] {
		pending[in.seq] = in
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			flush := b.flush // b goes back to the free list in work1
			if !s.work1(w, b, asm, &clock, calls, scratch, &enc, &done) {
				return
			}
			s.workDone[w].Store(next)
			if flush {
				// The next file gets a fresh flow table, as one assembler
				// per file would.
				asm = flows.NewAssembler(s.cfg, s.plan.Needs)
			}
		}
	}
	select {
	case s.results <- scanResult{worker: w, bound: math.MaxUint64, done: true}:
	case <-s.stop:
	}
}

// work1 runs worker w's batch b through its flow table asm and sends the
// rows of the flows that ended; false when the scan is stopped.
func (s *flowScan) work1(w int, b *pktBatch, asm *flows.Assembler, clock *float64, calls []uint64, scratch []schema.Value, enc *[]byte, done *flows.WorkStats) bool {
	// A batch's payloads live in its arena or in the file's mapping: what
	// a payload-reading flow keeps (stream reassembly, datagrams, samples)
	// are copies made by the assembler, so the batch can be reused.
	for i := range b.pkts {
		asm.AddAt(&b.pkts[i], max(*clock, b.now[i]))
	}
	*clock = max(*clock, b.max)
	if b.flush {
		asm.Flush()
	}
	var rows []scanRow
	for f := asm.Pop(); f != nil; f = asm.Pop() {
		rows = append(rows, s.compute(f, calls, scratch, enc))
		asm.Release(f)
	}
	bound := b.pos + 1
	if uid, open := asm.OldestOpen(); open && uid < bound {
		bound = uid
	}
	if b.flush {
		addWork(done, asm.Work)
		asm.Work = flows.WorkStats{}
		*clock = math.Inf(-1)
	}
	s.free <- b // never blocks: the free list holds every batch
	select {
	case s.results <- scanResult{worker: w, rows: rows, bound: bound}:
	case <-s.stop:
		return false
	}
	return true
}

// compute returns the row of flow f: the planned groups' values, computed
// into scratch (one per worker) and packed.
func (s *flowScan) compute(f *flows.Flow, calls []uint64, scratch []schema.Value, encBuf *[]byte) scanRow {
	r := scanRow{uid: f.UID}
	if s.entries != nil {
		e := s.entries.Entry(f)
		r.entry = &e
		return r
	}
	off := 0
	for _, g := range s.planned {
		out := scratch[off : off+len(g.Features)]
		off += len(g.Features)
		if g.CrossFlow() {
			// Computed by the cursor once the graph is finished (crossRow).
			e := s.cross.Entry(f)
			r.entry = &e
			continue // no cell of the row holds its values
		}
		calls[g.Index()]++
		if err := s.computeGroup(g, f, out); err != nil {
			for j := range out {
				out[j] = schema.NullV()
			}
			s.t.env.warn("flows: group %s failed on flow %d: %v", g.ID, f.UID, err)
		}
	}
	enc := (*encBuf)[:0]
	for i, at := range s.cellAt {
		v, typ := scratch[at], s.colType[i]
		if v.Kind == schema.Null || (v.Kind != typ && !(v.Kind == schema.Int && typ == schema.Bool)) {
			// NULL, or a value of another type than declared (never
			// expected: extractors' tests check the kinds) kept as NULL.
			if r.nulls == nil {
				r.nulls = make([]uint64, (s.width+63)/64)
			}
			r.nulls[i/64] |= 1 << (i % 64)
			v = schema.Zero(typ)
		}
		enc = appendCell(enc, v, typ)
	}
	r.enc = bytes.Clone(enc)
	*encBuf = enc
	return r
}

// computeGroup runs one group on f. A panic in a group (a bug) becomes
// that group's error: its cells are NULL and a warning names the flow, the
// scan goes on.
func (s *flowScan) computeGroup(g *extractors.Group, f *flows.Flow, out []schema.Value) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	if g.ComputeCross != nil {
		return g.ComputeCross(f, &s.cfg, s.cross, out)
	}
	return g.Compute(f, &s.cfg, out)
}

// crossValues returns the cross-flow group's values of row r (computed on
// first use per row into vals), waiting for the graph the first time.
func (s *flowScan) crossValues(r *scanRow, vals []schema.Value, have *bool) []schema.Value {
	if *have {
		return vals
	}
	*have = true
	<-s.crossDone
	g := s.crossGroup
	s.crossCalls++
	if err := s.cross.Values(r.entry, vals); err != nil {
		for j := range vals {
			vals[j] = schema.NullV()
		}
		s.t.env.warn("flows: group %s failed on flow %d: %v", g.ID, r.uid, err)
	}
	return vals
}

// next returns the next row in UID order; ok is false at the end.
func (s *flowScan) next() (scanRow, bool, error) {
	for {
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		if errors.Is(err, ErrInterrupted) {
			return scanRow{}, false, err
		}
		// While the graph of a cross-flow scan is being finished, the rows'
		// other groups are computed ahead (their values wait, packed).
		finishing := false
		if s.crossDone != nil {
			select {
			case <-s.crossDone:
			default:
				finishing = true
			}
		}
		if s.crossDone != nil && !finishing && s.crossErr != nil {
			return scanRow{}, false, s.crossErr
		}
		if !finishing && len(s.ready) > 0 && s.ready[0].uid < s.minBound() {
			r := heap.Pop(&s.ready).(scanRow)
			if r.spillLen > 0 {
				if err := s.spill.get(&r); err != nil {
					return scanRow{}, false, err
				}
			} else {
				s.waiting -= len(r.enc)
			}
			return r, true, nil
		}
		if s.live == 0 {
			if finishing {
				if !s.waitCross() {
					return scanRow{}, false, ErrInterrupted
				}
				continue
			}
			s.wg.Wait()
			s.mu.Lock()
			err := s.err
			s.mu.Unlock()
			return scanRow{}, false, err
		}
		var r scanResult
		if finishing {
			select {
			case r = <-s.results:
			case <-s.crossDone:
				continue
			}
		} else if s.abort != nil {
			select {
			case r = <-s.results:
			case <-s.abort:
				return scanRow{}, false, errAborted
			}
		} else {
			r = <-s.results
		}
		s.closePassed()
		for _, row := range r.rows {
			if len(row.enc) > 0 && s.waiting+len(row.enc) > spillAt && s.spill.put(&row, s.t.env.warn) {
				heap.Push(&s.ready, row)
				continue
			}
			s.waiting += len(row.enc)
			heap.Push(&s.ready, row)
		}
		s.maxReady = max(s.maxReady, len(s.ready))
		s.bounds[r.worker] = r.bound
		if r.done {
			s.live--
		}
	}
}

func (s *flowScan) minBound() uint64 {
	m := uint64(math.MaxUint64)
	for _, b := range s.bounds {
		m = min(m, b)
	}
	if s.live == 0 {
		return math.MaxUint64
	}
	return m
}

// close stops the goroutines and waits for them.
func (s *flowScan) close() {
	if s.closed {
		return
	}
	s.closed = true
	// A graph still being finished is left to its goroutine: it touches
	// only the cross-flow state, which nothing else uses after this.
	// Every goroutine sends under a select on stop, and the reader closes
	// the workers' channels when it leaves, so all of them return.
	close(s.stop)
	s.wg.Wait()
	if s.firstDone != nil {
		<-s.firstDone // a first pass still running sees the stop and returns
	}
	s.heldMu.Lock()
	for _, h := range s.held {
		h.src.Close()
	}
	s.held = nil
	s.heldMu.Unlock()
	s.spill.close()
}

func addWork(dst *flows.WorkStats, w flows.WorkStats) {
	dst.Packets += w.Packets
	dst.Records += w.Records
	dst.BytesKept += w.BytesKept
	dst.Flows += w.Flows
}

// rowHeap orders finished rows by UID.
type rowHeap []scanRow

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return h[i].uid < h[j].uid }
func (h rowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)        { *h = append(*h, x.(scanRow)) }
func (h *rowHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}
