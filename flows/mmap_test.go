package flows

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func pageSize() int { return os.Getpagesize() }

// bulkFrame is an Ethernet/IPv4/TCP frame carrying n payload bytes.
func bulkFrame(t testing.TB, n int) []byte {
	return ser(t, eth(layers.EthernetTypeIPv4), ipv4(ip4A, ip4B, layers.IPProtocolTCP), tcpL(),
		gopacket.Payload(bytes.Repeat([]byte{'z'}, n)))
}

// forEachReader runs fn twice: with regular files memory-mapped (the
// default) and with every file streamed through a buffer.
func forEachReader(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	for _, mapped := range []bool{true, false} {
		name := "stream"
		if mapped {
			name = "mmap"
		}
		t.Run(name, func(t *testing.T) {
			defer func(old bool) { useMmap = old }(useMmap)
			useMmap = mapped
			fn(t)
		})
	}
}

// isMapped reports whether src decodes a memory-mapped file.
func isMapped(t *testing.T, src Source) bool {
	t.Helper()
	switch s := src.(type) {
	case *pcapSource:
		return s.in.m != nil
	case *pcapngSource:
		return s.in.m != nil
	}
	t.Fatalf("unexpected source type %T", src)
	return false
}

// openWith opens path with memory mapping on or off.
func openWith(t *testing.T, path string, mapped bool) Source {
	t.Helper()
	defer func(old bool) { useMmap = old }(useMmap)
	useMmap = mapped
	src, err := OpenFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := isMapped(t, src); got != (mapped && mmapSupported) {
		t.Fatalf("%s: mapped = %v, want %v", path, got, mapped && mmapSupported)
	}
	return src
}

func TestOpenFileMapping(t *testing.T) {
	tcp4, arp, udp6 := sampleFrames(t)
	file := writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 65535, []pcapRec{{1, 2, tcp4, 0}, {1, 3, arp, 0}, {1, 4, udp6, 0}})
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(file)
	zw.Close()
	ng := &ngWriter{order: binary.LittleEndian}
	ng.shb(1)
	ng.idb(1, 65535, 6, 0)
	ng.epb(0, 10, tcp4)
	ng.epb(0, 20, udp6)
	cases := []struct {
		name    string
		file    []byte
		mmapOn  bool
		mapped  bool
		packets int
	}{
		{"pcap", file, true, mmapSupported, 2},
		{"pcapng", ng.buf, true, mmapSupported, 2},
		{"gzip pcap", z.Bytes(), true, false, 2},
		{"JJSQL_MMAP=0", file, false, false, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func(old bool) { useMmap = old }(useMmap)
			useMmap = tc.mmapOn
			src, err := OpenFile(writeTemp(t, "f", tc.file), 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := isMapped(t, src); got != tc.mapped {
				t.Errorf("mapped = %v, want %v", got, tc.mapped)
			}
			pkts, err := readAll(t, src)
			if err != nil || len(pkts) != tc.packets {
				t.Errorf("%d packets, err %v; want %d, nil", len(pkts), err, tc.packets)
			}
			if err := src.Close(); err != nil {
				t.Errorf("Close = %v", err)
			}
			// After Close the mapping is gone: Next must not touch it.
			var p Packet
			if err := src.Next(&p); err == nil {
				t.Error("Next after Close returned a packet")
			}
		})
	}
}

// TestMappedMatchesStreamed reads every corpus capture through both readers
// and compares every packet, the final error and the statistics.
func TestMappedMatchesStreamed(t *testing.T) {
	dir := corpusDir(t)
	files := corpusFiles(t, dir)
	mapped := 0
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(dir, rel)
			type result struct {
				pkts  []Packet
				err   error
				stats SourceStats
				open  error
				isMap bool
			}
			read := func(useMap bool) result {
				defer func(old bool) { useMmap = old }(useMmap)
				useMmap = useMap
				src, err := OpenFile(path, 0)
				if err != nil {
					return result{open: err}
				}
				defer src.Close()
				r := result{isMap: isMapped(t, src)}
				r.pkts, r.err = readAll(t, src)
				r.stats = src.Stats()
				return r
			}
			m, s := read(true), read(false)
			if m.isMap {
				mapped++
			}
			if fmt.Sprint(m.open) != fmt.Sprint(s.open) {
				t.Fatalf("open: mmap %v, stream %v", m.open, s.open)
			}
			if fmt.Sprint(m.err) != fmt.Sprint(s.err) {
				t.Errorf("end: mmap %v, stream %v", m.err, s.err)
			}
			if m.stats != s.stats {
				t.Errorf("stats: mmap %+v, stream %+v", m.stats, s.stats)
			}
			if len(m.pkts) != len(s.pkts) {
				t.Fatalf("mmap %d packets, stream %d", len(m.pkts), len(s.pkts))
			}
			for i := range m.pkts {
				if !reflect.DeepEqual(m.pkts[i], s.pkts[i]) {
					t.Fatalf("packet %d differs:\nmmap   %+v\nstream %+v", i, m.pkts[i], s.pkts[i])
				}
			}
		})
	}
	if mmapSupported && mapped == 0 {
		t.Error("no corpus capture was memory-mapped")
	}
}

// TestMappedRelease reads a file with a small release step and checks that
// the pages behind the read position were handed back, in page-aligned
// steps, while every packet still decodes as the streamed reader decodes it.
func TestMappedRelease(t *testing.T) {
	if !mmapSupported {
		t.Skip("no memory mapping on this system")
	}
	defer func(s, k int) { releaseStep, releaseKeep = s, k }(releaseStep, releaseKeep)
	releaseStep, releaseKeep = 64<<10, 16<<10
	frame := append([]byte(nil), bulkFrame(t, 1000)...)
	file := pcapOf(frame, 2000)
	path := writeTemp(t, "big.pcap", file)
	src := openWith(t, path, true)
	defer src.Close()
	in := src.(*pcapSource).in
	var p Packet
	n, lastReleased := 0, 0
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if in.released < lastReleased || in.released%pageSize() != 0 {
			t.Fatalf("released %d after %d (page %d)", in.released, lastReleased, pageSize())
		}
		lastReleased = in.released
		if in.start-in.released > releaseStep+releaseKeep+pageSize() {
			t.Fatalf("packet %d: %d bytes behind the read position still mapped", n, in.start-in.released)
		}
		if !bytes.Equal(p.Payload, frame[len(frame)-len(p.Payload):]) || len(p.Payload) == 0 {
			t.Fatalf("packet %d: payload differs from the frame's", n)
		}
	}
	if n != 2000 {
		t.Errorf("%d packets, want 2000", n)
	}
	if lastReleased < len(file)-releaseStep-releaseKeep-pageSize() {
		t.Errorf("released %d of %d bytes", lastReleased, len(file))
	}
}

// TestRetainedDataDoesNotAliasInput checks that nothing a flow keeps points
// into the reader's memory (the mapping is gone after Close; a streamed
// buffer is overwritten by the next record).
func TestRetainedDataDoesNotAliasInput(t *testing.T) {
	dir := corpusDir(t)
	forEachReader(t, func(t *testing.T) {
		kept := [2]int{}
		for _, name := range []string{"test_ethernet.pcap", "test_dns.pcap"} {
			path := filepath.Join(dir, "gopacket", name)
			src, err := OpenFile(path, 0)
			if err != nil {
				t.Skipf("%s: %v", path, err)
			}
			var in *input
			switch s := src.(type) {
			case *pcapSource:
				in = s.in
			case *pcapngSource:
				in = s.in
			}
			lo := uintptr(unsafe.Pointer(unsafe.SliceData(in.buf)))
			hi := lo + uintptr(len(in.buf))
			inside := func(b []byte) bool {
				if cap(b) == 0 {
					return false
				}
				p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
				return p < hi && p+uintptr(cap(b)) > lo
			}
			a := NewAssembler(DefaultConfig(), NeedBase|NeedTCP|NeedPayload|NeedHeads|NeedSample)
			var p Packet
			for src.Next(&p) == nil {
				a.Add(&p)
			}
			a.Flush()
			var fl []*Flow
			for f := a.Pop(); f != nil; f = a.Pop() {
				fl = append(fl, f)
			}
			src.Close()
			for _, f := range fl {
				for d := 0; d < 2; d++ {
					bufs := [][]byte{f.Sample[d], f.App.Stream[d].Data}
					for _, g := range f.App.Stream[d].pending() {
						bufs = append(bufs, g.data)
					}
					for _, dg := range f.App.Datagrams[d] {
						bufs = append(bufs, dg.Data)
						kept[1] += len(dg.Data)
					}
					for _, b := range bufs {
						if inside(b) {
							t.Fatalf("%s: flow %d keeps a slice of the reader's buffer", name, f.UID)
						}
						kept[0] += len(b)
						_ = bytes.IndexByte(b, 1) // readable after Close
					}
				}
			}
		}
		if kept[0] == 0 || kept[1] == 0 {
			t.Fatalf("kept %d payload bytes, %d of datagrams: the test checks too little", kept[0], kept[1])
		}
	})
}
