package vtab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jjsql/jjsql/flows"
)

// input reads the packets of every file a path names, one file after the
// other. A file that cannot be opened is skipped with a warning when the path
// names several files, and is an error when it is the only one; a file that
// ends in a damaged record gives a warning, and the packets before the damage
// are delivered.
type input struct {
	env    *Env
	table  string
	files  []string
	fi     int // index of the next file to open
	src    flows.Source
	opened int // files opened successfully
	errs   []error
	stats  flows.SourceStats

	// deferred: the files are framed only (flows.DeferDecode) and the
	// caller decodes (the flows scan); stay says the current file's frames
	// stay valid until it is closed. At the end of a file, next returns
	// errFileEnd and leaves the file open until the caller calls endFile.
	deferred bool
	stay     bool
	ended    error // the current file's end (io.EOF or its damage), for endFile
	// hold, when set, takes each ended file instead of endFile closing it:
	// its frames (and the payloads decoded from them) stay readable until
	// the caller is done with them and closes it.
	hold func(flows.Source)

	// Progress reporting (Env.Progress): the time is read every
	// progressEvery packets only.
	tick  uint32
	last  time.Time
	total int64 // bytes of all files; -1 until first needed
}

const progressEvery = 256

func newInput(env *Env, table, path string) (*input, error) {
	files, err := flows.ExpandPath(path)
	if err != nil {
		return nil, tableErr(table, err)
	}
	in := &input{env: env, table: table, files: files, total: -1}
	if env.Progress != nil {
		in.last = time.Now()
	}
	// Open the first file now, so a query on a single bad file fails with a
	// clear error instead of returning no rows.
	if err := in.openNext(); err != nil {
		return nil, err
	}
	return in, nil
}

// openNext opens the next readable file. It returns an error only when no
// file at all could be opened.
func (in *input) openNext() error {
	for in.fi < len(in.files) {
		name := in.files[in.fi]
		idx := in.fi
		in.fi++
		src, err := flows.OpenFile(name, idx)
		if err != nil {
			if len(in.files) == 1 {
				return tableErr(in.table, err)
			}
			in.errs = append(in.errs, err)
			in.env.warn("%s: skipped %v", in.table, err)
			continue
		}
		in.src = src
		in.opened++
		if in.deferred {
			return in.deferSource()
		}
		return nil
	}
	if in.opened == 0 && len(in.errs) > 0 {
		return fmt.Errorf("%s: no readable capture among %d files (first: %w)", in.table, len(in.files), in.errs[0])
	}
	return nil
}

// deferDecoding switches the input to framing only (see input.deferred),
// from the current file on.
func (in *input) deferDecoding() error {
	in.deferred = true
	if in.src == nil {
		return nil
	}
	return in.deferSource()
}

func (in *input) deferSource() error {
	stay, ok := flows.DeferDecode(in.src)
	if !ok {
		name := in.src.Name()
		in.src.Close()
		in.src = nil
		return fmt.Errorf("%s: %s: internal error: the source cannot be framed", in.table, name)
	}
	in.stay = stay
	return nil
}

// next fills p with the next packet. It returns (false, nil) at the end of
// the current file (the caller flushes per-file state and calls next again),
// and io.EOF when every file is done.
func (in *input) next(p *flows.Packet) (bool, error) {
	if in.src == nil {
		return false, io.EOF
	}
	err := in.src.Next(p)
	if err == nil {
		if in.env.Progress != nil {
			if in.tick++; in.tick%progressEvery == 0 && !in.progress() {
				return false, ErrInterrupted
			}
		}
		return true, nil
	}
	if in.deferred {
		in.ended = err
		return false, errFileEnd
	}
	return false, in.endFile(err, flows.SourceStats{})
}

// errFileEnd is next's signal, with deferred decoding, that the current file
// ended (see endFile).
var errFileEnd = errors.New("vtab: end of file")

// endFile ends the current file, whose Next returned err (io.EOF or its
// damage), adding dec (the decoders' counts of a deferred file) to its
// statistics; it warns of damage and skipped records, closes the file and
// opens the next one. It returns an error only when no file could be opened.
func (in *input) endFile(err error, dec flows.SourceStats) error {
	st := in.src.Stats()
	st.AddDecoded(dec)
	in.addStats(st)
	if !errors.Is(err, io.EOF) {
		in.env.warn("%s: capture ended early: %v (%d packets read before it)", in.table, err, st.IPPackets)
	}
	if st.Unsupported > 0 {
		in.env.warn("%s: %s: %d records of an unsupported link type skipped", in.table, in.src.Name(), st.Unsupported)
	}
	if in.hold != nil {
		in.hold(in.src)
	} else {
		in.src.Close()
	}
	in.src = nil
	return in.openNext()
}

// progress calls Env.Progress when ProgressInterval has passed since the
// last call and reports whether the scan goes on.
func (in *input) progress() bool {
	now := time.Now()
	if now.Sub(in.last) < ProgressInterval {
		return true
	}
	in.last = now
	if in.total < 0 {
		in.total = 0
		for _, name := range in.files {
			if fi, err := os.Stat(name); err == nil {
				in.total += fi.Size()
			}
		}
	}
	st := in.src.Stats()
	done := st.IPPackets
	if in.deferred {
		done = st.Records // the file's packets are decoded elsewhere: its records so far
	}
	return in.env.Progress(uint64(in.stats.Bytes+st.Bytes), uint64(in.total), in.stats.IPPackets+done)
}

func (in *input) addStats(s flows.SourceStats) {
	in.stats.Records += s.Records
	in.stats.IPPackets += s.IPPackets
	in.stats.NonIP += s.NonIP
	in.stats.DecodeErrors += s.DecodeErrors
	in.stats.Unsupported += s.Unsupported
	in.stats.Bytes += s.Bytes
}

func (in *input) close() {
	if in.src != nil {
		in.src.Close()
		in.src = nil
	}
}

// tableError names the table an error of package flows came from, without
// repeating that package's own "flows: " prefix (flows: capture file ...,
// not flows: flows: capture file ...).
type tableError struct {
	table string
	err   error
}

func tableErr(table string, err error) error { return &tableError{table, err} }

func (e *tableError) Error() string {
	return e.table + ": " + strings.TrimPrefix(e.err.Error(), "flows: ")
}

func (e *tableError) Unwrap() error { return e.err }
