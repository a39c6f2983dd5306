package vtab

import (
	"errors"
	"io"
	"sync"

	"github.com/jjsql/jjsql/flows"
)

// Framing apart from decoding: one goroutine walks the records of a scan's
// input (flows.DeferDecode: framing only, cheap and sequential) and hands
// them in chunks to decoder goroutines. Used by the flows() scan and by
// packets() when rows need no flow table.

// decodeFrame is flows.DecodeFrame (a variable so that a test can make it
// fail).
var decodeFrame = flows.DecodeFrame

// chunkFrames is how many records make a chunk.
const chunkFrames = 1024

// frameChunk is a run of records of one file, in order, for a decoder.
// What the decoder fills (a flows scan's per-worker batches, a packets
// batch) is taken when the chunk is made, in chunk order: the chunk a
// consumer waits for can then always be decoded.
type frameChunk struct {
	seq    uint64
	frames []flows.Frame
	arena  []byte // copies of the frames' bytes when the file's frames do not stay
	stay   bool   // the frames point into their file (input.stay), not into arena
	pos    uint64 // UID of the last record framed before the chunk was handed on
	flush  bool   // the file ends after these records
	file   *fileDecodes

	out []*pktBatch  // flows scan: one batch per worker
	pb  *packetBatch // packets scan
}

// fileDecodes tracks the chunks of one file not yet decoded: the file stays
// open (its frames may point into its mapping) until they are, and their
// decoding counts go into its statistics.
type fileDecodes struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	stats flows.SourceStats
}

// decoded adds a decoder's counts for a chunk of the file and marks the
// chunk decoded.
func (fd *fileDecodes) decoded(st flows.SourceStats) {
	fd.mu.Lock()
	fd.stats.AddDecoded(st)
	fd.mu.Unlock()
	fd.wg.Done()
}

// frameInput frames every record of in. get returns an empty chunk (nil:
// the scan stopped) for which it has called file.wg.Add(1); put hands a
// chunk on (false: the scan stopped). Every file ends with a chunk whose
// flush is set (possibly empty); the file is ended (input.endFile, with the
// decoders' counts) once its chunks are decoded. frameInput returns nil at
// the end of the input or when the scan stopped, else the error that ended
// it (the records before it were handed on).
func frameInput(in *input, get func(seq uint64, file *fileDecodes) *frameChunk, put func(*frameChunk) bool) error {
	if err := in.deferDecoding(); err != nil {
		return err
	}
	var (
		seq  uint64
		last uint64 // UID of the last record framed, in any chunk
		ch   *frameChunk
	)
	file := new(fileDecodes)
	send := func(flush bool) bool {
		if ch == nil {
			if ch = get(seq, file); ch == nil {
				return false
			}
		}
		ch.pos, ch.flush = last, flush
		if !put(ch) {
			return false
		}
		seq++
		ch = nil
		return true
	}
	var p flows.Packet
	for {
		ok, err := in.next(&p)
		if ok {
			if ch == nil {
				if ch = get(seq, file); ch == nil {
					return nil
				}
			}
			fr := flows.LastFrame(in.src)
			last = uint64(fr.File)<<40 | fr.Index
			ch.frames = append(ch.frames, *fr)
			ch.stay = in.stay
			if !in.stay {
				f := &ch.frames[len(ch.frames)-1]
				off := len(ch.arena)
				ch.arena = append(ch.arena, f.Data...)
				f.Data = ch.arena[off:len(ch.arena):len(ch.arena)]
			}
			if len(ch.frames) >= chunkFrames && !send(false) {
				return nil
			}
			continue
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil // every file was ended before
		case !errors.Is(err, errFileEnd):
			return err
		}
		// The end of a file: once its chunks are decoded, it is closed (its
		// frames may point into its mapping) and the next one opened.
		if !send(true) {
			return nil
		}
		file.wg.Wait()
		if err := in.endFile(in.ended, file.stats); err != nil {
			return err
		}
		file = new(fileDecodes)
	}
}
