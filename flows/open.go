package flows

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ExpandPath turns a command-line or SQL argument into capture file names: a
// file, a glob pattern (regular files matched, sorted; as in a shell, a
// wildcard does not match a leading '.') or a directory (its regular files
// whose names do not start with '.', not recursive, sorted).
func ExpandPath(arg string) ([]string, error) {
	if st, err := os.Stat(arg); err == nil {
		if !st.IsDir() {
			return []string{arg}, nil
		}
		ents, err := os.ReadDir(arg)
		if err != nil {
			return nil, fmt.Errorf("flows: %w", err)
		}
		var out []string
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(arg, e.Name())
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			out = append(out, p)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("flows: no capture files match %q", arg)
		}
		sort.Strings(out)
		return out, nil
	}
	if !hasMeta(arg) {
		return nil, fmt.Errorf("flows: capture file %q: %w", arg, os.ErrNotExist)
	}
	m, err := filepath.Glob(arg)
	if err != nil {
		return nil, fmt.Errorf("flows: bad pattern %q: %w", arg, err)
	}
	hidden := strings.HasPrefix(filepath.Base(arg), ".")
	var out []string
	for _, p := range m {
		if !hidden && strings.HasPrefix(filepath.Base(p), ".") {
			continue // like a shell, '*' does not match a leading dot
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("flows: no capture files match %q", arg)
	}
	sort.Strings(out)
	return out, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// OpenFile opens a capture file (classic pcap, pcapng, either possibly
// gzip-compressed), detected by its magic number. fileIndex is stored in the
// File field of every packet. The returned Source owns the file until Close.
//
// A regular, uncompressed file is memory-mapped and decoded in place (no
// read system calls, no copy); pages already read are released as the scan
// passes, so the process's resident memory does not grow with the file. A
// gzip file, a pipe or FIFO, and a file that cannot be mapped are streamed
// through a buffer instead. Setting the environment variable JJSQL_MMAP=0
// streams every file.
func OpenFile(path string, fileIndex int) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	size := int64(-1)
	regular := false
	if st, err := f.Stat(); err == nil {
		size, regular = st.Size(), st.Mode().IsRegular()
	}
	if regular && useMmap {
		if m := mapFile(f, size); m != nil {
			f.Close() // the mapping keeps the file
			src, err := newSourceInput(newMappedInput(m), path, fileIndex, size, m)
			if err != nil {
				m.Close()
				return nil, err
			}
			return src, nil
		}
	}
	src, err := newSource(f, path, fileIndex, size, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// useMmap says whether OpenFile maps regular files (JJSQL_MMAP=0 turns it off).
var useMmap = os.Getenv("JJSQL_MMAP") != "0"

// newSource detects the format of r and returns a Source reading it. closer
// (may be nil) is closed by the Source's Close.
func newSource(r io.Reader, name string, fileIndex int, size int64, closer io.Closer) (Source, error) {
	return newSourceInput(newInput(r), name, fileIndex, size, closer)
}

// newSourceInput detects the format of in and returns a Source reading it.
func newSourceInput(in *input, name string, fileIndex int, size int64, closer io.Closer) (Source, error) {
	head, err := in.peekUpTo(4)
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %w", name, err)
	}
	if len(head) == 0 {
		return nil, &FormatError{File: name, Offset: -1, Err: ErrEmpty}
	}
	var gz *gzip.Reader
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err = gzip.NewReader(in)
		if err != nil {
			return nil, &FormatError{File: name, Offset: 0, Err: ErrNotCapture, Detail: "gzip: " + err.Error()}
		}
		in = newInput(gz)
		head, err = in.peekUpTo(4)
		if err != nil {
			return nil, &FormatError{File: name, Offset: -1, Err: ErrNotCapture, Detail: "gzip: " + err.Error()}
		}
		if len(head) == 0 {
			return nil, &FormatError{File: name, Offset: -1, Err: ErrEmpty}
		}
	}
	base := sourceBase{name: name, file: fileIndex, in: in, closer: closer, gz: gz}
	base.stats.Size = size
	if len(head) == 4 {
		switch {
		case bytes.Equal(head, []byte{0x0a, 0x0d, 0x0d, 0x0a}):
			return newPcapng(base)
		default:
			if _, ok := pcapMagic(head); ok {
				return newPcap(base)
			}
		}
	}
	return nil, &FormatError{File: name, Offset: 0, Err: ErrNotCapture, Detail: "magic " + hex.EncodeToString(head)}
}

// sourceBase is what the pcap and pcapng sources share.
type sourceBase struct {
	name   string
	file   int
	in     *input
	closer io.Closer
	gz     *gzip.Reader
	stats  SourceStats
	err    error // sticky error returned by every later Next
	dec    decoder
	// deferred: Next leaves decoding to DecodeFrame (see DeferDecode) and
	// hands out the record's bytes in frame.
	deferred bool
	frame    Frame
}

func (s *sourceBase) Name() string { return s.name }

func (s *sourceBase) Stats() SourceStats {
	st := s.stats
	st.Bytes = s.in.off
	return st
}

func (s *sourceBase) Close() error {
	if s.in.m != nil {
		// The mapping goes away with the closer: no slice of it may be
		// read after this.
		s.in.buf, s.in.start, s.in.end = nil, 0, 0
	}
	var err error
	if s.gz != nil {
		err = s.gz.Close()
	}
	if s.closer != nil {
		if cerr := s.closer.Close(); err == nil {
			err = cerr
		}
		s.closer = nil
	}
	return err
}

// fail records a sticky error.
func (s *sourceBase) fail(err error) error {
	s.err = err
	return err
}

func (s *sourceBase) formatErr(sentinel error, off int64, detail string) error {
	return s.fail(&FormatError{File: s.name, Offset: off, Err: sentinel, Detail: detail})
}

// deliver decodes the record in data (already described in p's capture
// fields) and reports whether it is an IP packet to hand out.
func (s *sourceBase) deliver(p *Packet, link uint16, swapped bool, data []byte) bool {
	if s.deferred {
		s.frame = Frame{Data: data, File: p.File, Index: p.Index, TS: p.TS, TSSec: p.TSSec, TSNsec: p.TSNsec,
			CapLen: p.CapLen, WireLen: p.WireLen, LinkType: link, Offset: p.Offset, swapped: swapped}
		return true
	}
	s.dec.swapped = swapped
	switch s.dec.decode(p, link, data) {
	case resultIP:
		s.stats.IPPackets++
		if p.Malformed {
			s.stats.Malformed++
		}
		return true
	case resultNonIP:
		s.stats.NonIP++
	case resultUnsupported:
		s.stats.Unsupported++
	default:
		s.stats.DecodeErrors++
	}
	return false
}

// Record length bounds: a record larger than maxRecord is impossible; one
// larger than twice the snapshot length is accepted only below looseRecord.
const (
	maxRecord   = 256 << 20
	looseRecord = 256 << 10
)

// A snapshot length of 0 means none was recorded.
func badRecordLen(caplen, snaplen uint64) bool {
	if snaplen == 0 {
		snaplen = maxRecord
	}
	return caplen > maxRecord || (caplen > 2*snaplen && caplen > looseRecord)
}

// input is a buffered reader that hands out slices of its own buffer, so a
// record is read without copying. A slice returned by peek is valid until the
// next call that reads.
//
// A mapped input's buffer is the whole file (m set, r nil): nothing is read
// or copied, and slices stay valid until Close; the pages behind the read
// position are handed back to the system every releaseStep bytes.
type input struct {
	r          io.Reader
	buf        []byte
	start, end int   // unread data is buf[start:end]
	off        int64 // file offset of buf[start]
	err        error // sticky read error (io.EOF at the end)

	m           *mapping // the mapped file, or nil when streaming
	released    int      // buf[:released] was released
	nextRelease int      // release again once start reaches this
	touched     int      // buf[:touched] was read ahead
	keep        int      // bytes behind the read position kept mapped (releaseKeep, or more)
	sink        byte
}

const inputChunk = 256 << 10

// A mapped input releases the pages it has passed every releaseStep bytes,
// keeping the last releaseKeep bytes (the current record) mapped. (Variables
// for the tests.)
var (
	releaseStep = 8 << 20
	releaseKeep = 1 << 20
)

// deferredKeep is how much of a mapped file stays mapped behind the read
// position when its records are decoded elsewhere (DeferDecode): the
// decoders and the consumers of their packets, which may point into the
// mapping, lag behind the framing by the chunks in flight (a few MiB). A
// page released before they read it would be mapped in again and stay
// mapped until the file is closed.
const deferredKeep = 64 << 20

func newInput(r io.Reader) *input {
	return &input{r: r, buf: make([]byte, inputChunk)}
}

func newMappedInput(m *mapping) *input {
	return &input{buf: m.data, end: len(m.data), err: io.EOF, m: m, nextRelease: releaseStep}
}

// fill tries to make n bytes available; it returns the number available,
// which is less than n only at the end of the input or on a read error. The
// buffer grows at most by doubling once it is full of data actually read, so
// a hostile length costs memory only in proportion to the input.
func (in *input) fill(n int) int {
	if in.end-in.start >= n || in.m != nil {
		return in.end - in.start
	}
	if in.start > 0 && in.start+n > len(in.buf) {
		in.end = copy(in.buf, in.buf[in.start:in.end])
		in.start = 0
	}
	for zero := 0; in.end-in.start < n && in.err == nil; {
		if in.end == len(in.buf) {
			// Full (and compacted): grow towards n.
			nb := make([]byte, min(2*len(in.buf), in.start+n))
			in.end = copy(nb, in.buf[in.start:in.end])
			in.start = 0
			in.buf = nb
		}
		m, err := in.r.Read(in.buf[in.end:])
		in.end += m
		switch {
		case err != nil:
			in.err = err
		case m > 0:
			zero = 0
		default:
			if zero++; zero >= 100 {
				in.err = io.ErrNoProgress
			}
		}
	}
	return in.end - in.start
}

// peek returns the next n bytes without consuming them, or nil if fewer
// remain.
func (in *input) peek(n int) []byte {
	if in.end-in.start < n && in.fill(n) < n {
		return nil
	}
	return in.buf[in.start : in.start+n]
}

// peekUpTo returns up to n bytes; a read error other than EOF is returned.
func (in *input) peekUpTo(n int) ([]byte, error) {
	m := in.fill(n)
	if m > n {
		m = n
	}
	if m < n && in.err != nil && !errors.Is(in.err, io.EOF) {
		return nil, in.err
	}
	return in.buf[in.start : in.start+m], nil
}

// advance consumes n buffered bytes.
func (in *input) advance(n int) {
	in.start += n
	in.off += int64(n)
	if in.m != nil {
		in.readAhead()
	}
}

// readAheadBytes is how far ahead of the read position a mapped input
// touches the file. Reading one byte of every cache line there brings the
// coming records into the CPU cache with many loads in flight, instead of
// one cache miss per record header when the decoder gets there (which costs
// about a third of the decoding time on a large capture).
const readAheadBytes = 8 << 10

// readAhead touches the cache lines up to readAheadBytes past the read
// position, and releases the passed pages every releaseStep bytes.
func (in *input) readAhead() {
	to := min(in.start+readAheadBytes, len(in.buf))
	t := max(in.touched, in.start&^63)
	var x byte
	for ; t < to; t += 64 {
		x += in.buf[t]
	}
	in.touched = t
	in.sink += x
	if in.start >= in.nextRelease {
		in.release()
	}
}

// release hands the mapped pages before the read position (but the last
// releaseKeep bytes) back to the system.
func (in *input) release() {
	in.nextRelease = in.start + releaseStep
	if to := in.start - max(in.keep, releaseKeep); to > in.released {
		in.released = in.m.release(in.released, to)
	}
}

// skip discards n bytes, reading through them in chunks; it returns false if
// the input ended first.
func (in *input) skip(n int64) bool {
	for n > 0 {
		step := int64(len(in.buf))
		if n < step {
			step = n
		}
		got := in.fill(int(step))
		if got == 0 {
			return false
		}
		if int64(got) > step {
			got = int(step)
		}
		in.advance(got)
		n -= int64(got)
	}
	return true
}

// atEOF reports whether no byte remains.
func (in *input) atEOF() bool { return in.fill(1) == 0 }

// readErr is the read error that ended the input, if it was not a clean EOF.
func (in *input) readErr() error {
	if in.err == nil || errors.Is(in.err, io.EOF) {
		return nil
	}
	return in.err
}

// Read makes input an io.Reader (used to feed gzip after detection).
func (in *input) Read(p []byte) (int, error) {
	if in.end == in.start {
		if in.err != nil {
			return 0, in.err
		}
		if len(p) >= len(in.buf) {
			n, err := in.r.Read(p)
			in.off += int64(n)
			if err != nil {
				in.err = err
			}
			return n, err
		}
		in.fill(1)
		if in.end == in.start {
			return 0, in.err
		}
	}
	n := copy(p, in.buf[in.start:in.end])
	in.advance(n)
	return n, nil
}
