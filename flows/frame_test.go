package flows

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestDeferDecodeSamePackets reads every capture of the corpus (pcap and
// pcapng, both byte orders, odd link types, gzip, damaged files) twice:
// with Next decoding, and framed (DeferDecode) then decoded by DecodeFrame.
// Both must give the same packets, the same error and the same counts.
func TestDeferDecodeSamePackets(t *testing.T) {
	dir := corpusDir(t)
	files := corpusFiles(t, dir)
	if len(files) < 100 {
		t.Fatalf("%d corpus captures, want at least 100", len(files))
	}
	var paths []string
	for _, rel := range files {
		paths = append(paths, filepath.Join(dir, rel))
	}
	// Gzip-compressed captures are streamed (their frames do not stay).
	for _, name := range []string{"sample.pcap", "sample.pcapng"} {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
		paths = append(paths, writeTemp(t, name+".gz", buf.Bytes()))
	}
	var mapped, streamed int
	for _, path := range paths {
		rel := path
		want, wantStats, wantErr, ok := readDecoded(t, path, false)
		if !ok {
			continue // not a capture file: OpenFile's error, tested elsewhere
		}
		got, gotStats, gotErr, stay := readDecoded(t, path, true)
		if len(got) != len(want) {
			t.Errorf("%s: %d packets framed and decoded, %d from Next", rel, len(got), len(want))
			continue
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: packet %d differs:\n framed %+v\n   Next %+v", rel, i, got[i], want[i])
				break
			}
		}
		if gotStats != wantStats {
			t.Errorf("%s: stats %+v framed, %+v from Next", rel, gotStats, wantStats)
		}
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Errorf("%s: error %v framed, %v from Next", rel, gotErr, wantErr)
		}
		if stay {
			mapped++
		} else {
			streamed++
		}
	}
	if mapped == 0 || streamed == 0 {
		t.Errorf("%d mapped and %d streamed captures read, want both kinds", mapped, streamed)
	}
}

// readDecoded returns the packets of the capture at path (payload and
// options copied), the source's statistics and the error that ended it;
// with framed, through DeferDecode and DecodeFrame. ok is false when the
// file does not open; framed, it reports whether the frames stay valid
// (a mapped file).
func readDecoded(t *testing.T, path string, framed bool) (pkts []Packet, st SourceStats, end error, ok bool) {
	t.Helper()
	src, err := OpenFile(path, 3)
	if err != nil {
		return nil, st, nil, false
	}
	defer src.Close()
	stay := true
	if framed {
		var can bool
		if stay, can = DeferDecode(src); !can {
			t.Fatalf("%s: DeferDecode refused a capture file", path)
		}
	}
	var dec SourceStats
	var held []Frame // with stay, frames are decoded after the file is read through
	for {
		var p Packet
		err := src.Next(&p)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				end = err
			}
			break
		}
		if framed {
			fr := *LastFrame(src)
			if stay {
				held = append(held, fr)
				continue
			}
			if !DecodeFrame(&fr, &p, &dec) {
				continue
			}
		}
		p.Payload = append([]byte(nil), p.Payload...)
		p.TCPOptions = append([]byte(nil), p.TCPOptions...)
		pkts = append(pkts, p)
	}
	for i := range held {
		var p Packet
		if DecodeFrame(&held[i], &p, &dec) {
			p.Payload = append([]byte(nil), p.Payload...)
			p.TCPOptions = append([]byte(nil), p.TCPOptions...)
			pkts = append(pkts, p)
		}
	}
	st = src.Stats()
	st.AddDecoded(dec)
	return pkts, st, end, !framed || stay
}
