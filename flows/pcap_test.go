package flows

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// pcapRec is one record for writePcap; wire 0 means len(data).
type pcapRec struct {
	sec, frac uint32
	data      []byte
	wire      int
}

// byteOrder reads and appends in one byte order.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// writePcap builds a classic pcap file.
func writePcap(order byteOrder, magic uint32, link, snap uint32, recs []pcapRec) []byte {
	var b []byte
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, snap)
	b = order.AppendUint32(b, link)
	for _, r := range recs {
		wire := r.wire
		if wire == 0 {
			wire = len(r.data)
		}
		b = order.AppendUint32(b, r.sec)
		b = order.AppendUint32(b, r.frac)
		b = order.AppendUint32(b, uint32(len(r.data)))
		b = order.AppendUint32(b, uint32(wire))
		if magic == 0xa1b2cd34 {
			b = append(b, 0, 0, 0, 1, 8, 0, 0, 0)
		}
		b = append(b, r.data...)
	}
	return b
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads a source to its end, returning copies of the packets and the
// final error (nil at io.EOF).
func readAll(t testing.TB, src Source) ([]Packet, error) {
	t.Helper()
	var out []Packet
	for i := 0; i < 1e6; i++ {
		var p Packet
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		p.Payload = append([]byte(nil), p.Payload...)
		p.TCPOptions = append([]byte(nil), p.TCPOptions...)
		out = append(out, p)
	}
	t.Fatal("source never ended")
	return nil, nil
}

func sampleFrames(t testing.TB) (tcp4, arp, udp6 []byte) {
	tcp4 = ser(t, cat(ls(eth(layers.EthernetTypeIPv4)), inner4())...)
	arp = ser(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: 1, Protocol: 0x0800, HwAddressSize: 6, ProtAddressSize: 4,
		SourceHwAddress: macA, SourceProtAddress: ip4A, DstHwAddress: macB, DstProtAddress: ip4B})
	udp6 = ser(t, cat(ls(eth(layers.EthernetTypeIPv6)), inner6())...)
	return tcp4, arp, udp6
}

func TestPcapVariants(t *testing.T) { forEachReader(t, testPcapVariants) }

func testPcapVariants(t *testing.T) {
	tcp4, arp, udp6 := sampleFrames(t)
	cases := []struct {
		name   string
		order  byteOrder
		magic  uint32
		frac   uint32
		digits int
		recHdr int
	}{
		{"micro le", binary.LittleEndian, 0xa1b2c3d4, 123456, 6, 16},
		{"micro be", binary.BigEndian, 0xa1b2c3d4, 999999, 6, 16},
		{"nano le", binary.LittleEndian, 0xa1b23c4d, 123456789, 9, 16},
		{"nano be", binary.BigEndian, 0xa1b23c4d, 1, 9, 16},
		{"modified", binary.LittleEndian, 0xa1b2cd34, 500000, 6, 24},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs := []pcapRec{
				{1700000000, tc.frac, tcp4, 0},
				{1700000001, 0, arp, 0},
				{1700000002, tc.frac, udp6, 0},
			}
			file := writePcap(tc.order, tc.magic, 1, 65535, recs)
			path := writeTemp(t, "x.pcap", file)
			src, err := OpenFile(path, 3)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			pkts, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != 2 {
				t.Fatalf("got %d packets, want 2", len(pkts))
			}
			off3 := int64(24 + 2*tc.recHdr + len(tcp4) + len(arp))
			wantTS, _ := strconv.ParseFloat(fmt.Sprintf("1700000002.%0*d", tc.digits, tc.frac), 64)
			p := pkts[1]
			got := []any{p.File, p.Index, p.TS, p.TSSec, p.TSNsec, p.CapLen, p.WireLen, p.LinkType, p.Offset, p.IPVersion, p.DstPort}
			want := []any{3, uint64(3), wantTS, int64(1700000002), int64(tc.frac) * int64(math.Pow10(9-tc.digits)), len(udp6), len(udp6), uint16(1), off3, uint8(6), uint16(53)}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("packet 2 = %v, want %v", got, want)
			}
			if pkts[0].Index != 1 || pkts[0].Offset != 24 || pkts[0].DstPort != 80 || string(pkts[0].Payload) != "hello" {
				t.Errorf("packet 1: Index %d Offset %d DstPort %d Payload %q", pkts[0].Index, pkts[0].Offset, pkts[0].DstPort, pkts[0].Payload)
			}
			st := src.Stats()
			wantSt := SourceStats{Records: 3, IPPackets: 2, NonIP: 1, Bytes: int64(len(file)), Size: int64(len(file))}
			if st != wantSt {
				t.Errorf("Stats = %+v, want %+v", st, wantSt)
			}
			var q Packet
			if err := src.Next(&q); !errors.Is(err, io.EOF) {
				t.Errorf("Next after the end = %v, want io.EOF", err)
			}
		})
	}
}

func TestPcapGzip(t *testing.T) {
	tcp4, arp, udp6 := sampleFrames(t)
	file := writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 65535, []pcapRec{{1, 2, tcp4, 0}, {1, 3, arp, 0}, {1, 4, udp6, 0}})
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(file)
	zw.Close()
	path := writeTemp(t, "x.pcap.gz", z.Bytes())
	src, err := OpenFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pkts, err := readAll(t, src)
	if err != nil || len(pkts) != 2 || pkts[1].Offset != int64(24+32+len(tcp4)+len(arp)) {
		t.Fatalf("gzip: %d packets, err %v", len(pkts), err)
	}
	if st := src.Stats(); st.Bytes != int64(len(file)) || st.Size != int64(z.Len()) {
		t.Errorf("Stats Bytes %d Size %d, want %d %d", st.Bytes, st.Size, len(file), z.Len())
	}

	// A gzip stream cut short ends with a truncation error after the packets
	// it held.
	cut := writeTemp(t, "cut.pcap.gz", z.Bytes()[:z.Len()-12])
	src2, err := OpenFile(cut, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	_, err = readAll(t, src2)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("cut gzip: err %v, want ErrTruncated", err)
	}
}

func TestPcapErrors(t *testing.T) { forEachReader(t, testPcapErrors) }

func testPcapErrors(t *testing.T) {
	tcp4, arp, _ := sampleFrames(t)
	good := writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 65535, []pcapRec{{1, 0, tcp4, 0}, {2, 0, arp, 0}, {3, 0, tcp4, 0}})
	rec3 := int64(24 + 32 + len(tcp4) + len(arp))
	cases := []struct {
		name     string
		data     []byte
		openErr  error  // expected error of OpenFile
		detail   string // substring of the error's Detail
		nextErr  error  // expected final error of Next
		offset   int64
		received int
	}{
		{"empty", nil, ErrEmpty, "", nil, 0, 0},
		{"text", []byte("hello world, this is text\n"), ErrNotCapture, "68656c6c", nil, 0, 0},
		{"tiny", []byte("ab"), ErrNotCapture, "6162", nil, 0, 0},
		{"short file header", good[:10], ErrTruncated, "", nil, 0, 0},
		{"unknown link type", writePcap(binary.LittleEndian, 0xa1b2c3d4, 147, 65535, nil), ErrUnknownLinkType, "link type 147", nil, 0, 0},
		{"header only", good[:24], nil, "", nil, 0, 0},
		{"cut in record data", good[:len(good)-5], nil, "", ErrTruncated, rec3, 1},
		{"cut in record header", good[:rec3+7], nil, "", ErrTruncated, rec3, 1},
		{"huge record", writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 0xffffffff, []pcapRec{{1, 0, tcp4, 0}})[:24+8], nil, "", nil, 0, 0},
		{"record above twice snaplen", func() []byte {
			b := writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 100, []pcapRec{{1, 0, tcp4, 0}, {1, 0, tcp4, 0}})
			binary.LittleEndian.PutUint32(b[24+16+len(tcp4)+8:], 300000)
			return b
		}(), nil, "", ErrBadBlock, int64(24 + 16 + len(tcp4)), 1},
		{"record above 256 MiB", func() []byte {
			b := writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 0xffffffff, []pcapRec{{1, 0, tcp4, 0}})
			binary.LittleEndian.PutUint32(b[24+8:], 300<<20)
			return b
		}(), nil, "", ErrBadBlock, 24, 0},
	}
	// "huge record": a record header cut after 8 bytes is a truncation.
	cases[8].nextErr, cases[8].offset = ErrTruncated, 24
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "f.pcap", tc.data)
			src, err := OpenFile(path, 0)
			if tc.openErr != nil {
				var fe *FormatError
				if !errors.Is(err, tc.openErr) || !errors.As(err, &fe) || !strings.Contains(fe.Detail, tc.detail) || fe.File != path {
					t.Fatalf("OpenFile = %v, want %v with detail %q naming the file", err, tc.openErr, tc.detail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			pkts, err := readAll(t, src)
			if len(pkts) != tc.received {
				t.Errorf("received %d packets, want %d", len(pkts), tc.received)
			}
			if tc.nextErr == nil {
				if err != nil {
					t.Errorf("Next = %v, want io.EOF", err)
				}
				return
			}
			var fe *FormatError
			if !errors.Is(err, tc.nextErr) || !errors.As(err, &fe) || fe.Offset != tc.offset {
				t.Fatalf("Next = %v, want %v at offset %d", err, tc.nextErr, tc.offset)
			}
			var p Packet
			if again := src.Next(&p); again != err {
				t.Errorf("Next after the error = %v, want the same error", again)
			}
		})
	}
}

func TestPcapCountsDecodeErrors(t *testing.T) { forEachReader(t, testPcapCountsDecodeErrors) }

func testPcapCountsDecodeErrors(t *testing.T) {
	tcp4, arp, _ := sampleFrames(t)
	bad := append([]byte(nil), tcp4...)
	bad[14] = 0x43 // IHL 3
	file := writePcap(binary.BigEndian, 0xa1b2c3d4, 1, 65535, []pcapRec{{1, 0, bad, 0}, {1, 0, arp, 0}, {1, 0, tcp4, 0}})
	src, err := OpenFile(writeTemp(t, "f.pcap", file), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pkts, err := readAll(t, src)
	if err != nil || len(pkts) != 1 || pkts[0].Index != 3 {
		t.Fatalf("got %d packets, err %v", len(pkts), err)
	}
	if st := src.Stats(); st.Records != 3 || st.DecodeErrors != 1 || st.NonIP != 1 || st.IPPackets != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestPcapNullByteOrder(t *testing.T) { forEachReader(t, testPcapNullByteOrder) }

func testPcapNullByteOrder(t *testing.T) {
	raw := ser(t, inner4()...)
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			frame := append(order.AppendUint32(nil, 2), raw...)
			file := writePcap(order, 0xa1b2c3d4, 0, 65535, []pcapRec{{1, 0, frame, 0}})
			src, err := OpenFile(writeTemp(t, "f.pcap", file), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			pkts, err := readAll(t, src)
			if err != nil || len(pkts) != 1 || pkts[0].LinkType != 0 || pkts[0].DstPort != 80 {
				t.Fatalf("got %d packets, err %v", len(pkts), err)
			}
		})
	}
}

func TestExpandPath(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.pcap", "a.pcap", ".hidden.pcap", "c.pcapng"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	j := func(n ...string) []string {
		var out []string
		for _, x := range n {
			out = append(out, filepath.Join(dir, x))
		}
		return out
	}
	cases := []struct {
		name string
		arg  string
		want []string
		err  string
	}{
		{"file", filepath.Join(dir, "b.pcap"), j("b.pcap"), ""},
		{"glob", filepath.Join(dir, "*.pcap"), j("a.pcap", "b.pcap"), ""},
		{"directory", dir, j("a.pcap", "b.pcap", "c.pcapng"), ""},
		{"no match", filepath.Join(dir, "*.cap"), nil, "flows: no capture files match"},
		{"missing", filepath.Join(dir, "nope.pcap"), nil, "nope.pcap"},
		{"empty directory", filepath.Join(dir, "sub"), nil, "flows: no capture files match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExpandPath(tc.arg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("ExpandPath(%q) error = %v, want one containing %q", tc.arg, err, tc.err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ExpandPath(%q) = %v, %v; want %v", tc.arg, got, err, tc.want)
			}
		})
	}
}

func TestDecimalTimestamp(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	check := func(sec int64, frac uint64, digits int) {
		t.Helper()
		s := fmt.Sprintf("%d.%0*d", sec, digits, frac)
		if digits == 0 {
			s = fmt.Sprintf("%d", sec)
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, gs, gns := decimalTS(sec, frac, digits)
		if got != want {
			t.Errorf("decimalTS(%d, %d, %d) = %v, want %v (%s)", sec, frac, digits, got, want, s)
		}
		var wantNs int64
		if digits <= 9 {
			wantNs = int64(frac) * int64(math.Pow10(9-digits))
		} else if digits-9 < 20 {
			wantNs = int64(frac / pow10u[digits-9])
		}
		if gs != sec || gns != wantNs {
			t.Errorf("decimalTS(%d, %d, %d) seconds = %d.%09d, want %d.%09d", sec, frac, digits, gs, gns, sec, wantNs)
		}
	}
	for i := 0; i < 200000; i++ {
		sec := int64(rng.Uint32())
		if i%3 == 0 {
			sec = int64(rng.Int63n(1 << 34))
		}
		digits := []int{6, 9, 6, 9, 3, 0, 1, 12, 15, 19}[i%10]
		var frac uint64
		if digits > 0 {
			frac = uint64(rng.Int63()) % pow10u[digits]
		}
		check(sec, frac, digits)
	}
	for _, c := range []struct {
		sec    int64
		frac   uint64
		digits int
	}{
		{0, 0, 6}, {0, 1, 9}, {1, 999999, 6}, {4294967295, 999999999, 9}, {1700000000, 5, 9},
		{1234567890, 123456, 6}, {1, 5, 1}, {9007199254, 740993, 6},
	} {
		check(c.sec, c.frac, c.digits)
	}
	// A fraction of a second or more carries into the seconds.
	if ts, s, ns := decimalTS(10, 1500000, 6); ts != 11.5 || s != 11 || ns != 500000000 {
		t.Errorf("decimalTS(10, 1500000, 6) = %v %d %d, want 11.5 11 500000000", ts, s, ns)
	}
	// Negative seconds (a negative if_tsoffset).
	if ts, s, ns := decimalTS(-2, 300000, 6); ts != -1.7 || s != -2 || ns != 300000000 {
		t.Errorf("decimalTS(-2, 300000, 6) = %v %d %d, want -1.7 -2 300000000", ts, s, ns)
	}
	// Very fine resolutions.
	want, _ := strconv.ParseFloat("0."+strings.Repeat("0", 5)+"18446744073709551615", 64)
	if ts, _, _ := decimalTS(0, math.MaxUint64, 25); ts != want {
		t.Errorf("decimalTS(0, max, 25) = %v, want %v", ts, want)
	}
}

func TestBinaryTimestamp(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 50000; i++ {
		exp := []int{0, 10, 20, 30, 32, 40, 63, 64, 70}[i%9]
		units := rng.Uint64()
		offset := []int64{0, 0, 1, 1700000000, -5}[i%5]
		r := new(big.Rat).SetFrac(new(big.Int).SetUint64(units), new(big.Int).Lsh(big.NewInt(1), uint(exp)))
		r.Add(r, new(big.Rat).SetInt64(offset))
		want, _ := r.Float64()
		got, s, ns := binaryTS(offset, units, exp)
		if offset >= 0 && got != want {
			t.Errorf("binaryTS(%d, %d, %d) = %v, want %v", offset, units, exp, got, want)
		}
		if offset < 0 && math.Abs(got-want) > math.Abs(want)*1e-15 {
			t.Errorf("binaryTS(%d, %d, %d) = %v, want about %v", offset, units, exp, got, want)
		}
		// Whole seconds and truncated nanoseconds.
		whole := new(big.Int).Rsh(new(big.Int).SetUint64(units), uint(exp))
		rem := new(big.Int).Sub(new(big.Int).SetUint64(units), new(big.Int).Lsh(whole, uint(exp)))
		nsec := new(big.Int).Rsh(rem.Mul(rem, big.NewInt(1e9)), uint(exp))
		if s != offset+whole.Int64() || ns != nsec.Int64() {
			t.Errorf("binaryTS(%d, %d, %d) seconds = %d.%09d, want %d.%09d", offset, units, exp, s, ns, offset+whole.Int64(), nsec.Int64())
		}
	}
}

func TestTimestampAllocs(t *testing.T) {
	var sink float64
	n := testing.AllocsPerRun(100, func() {
		ts, _, _ := decimalTS(4294967295, 999999999, 9) // takes the strconv path
		sink += ts
		ts, _, _ = binaryTS(1700000000, 123456789, 30)
		sink += ts
	})
	if n != 0 {
		t.Errorf("timestamp conversion allocates %v times per call", n)
	}
	_ = sink
}

// pcapOf returns a pcap of n copies of frame.
func pcapOf(frame []byte, n int) []byte {
	recs := make([]pcapRec, n)
	for i := range recs {
		recs[i] = pcapRec{uint32(1700000000 + i), uint32(i % 1000000), frame, 0}
	}
	return writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 65535, recs)
}

func TestPcapNextAllocs(t *testing.T) {
	tcp4, _, _ := sampleFrames(t)
	file := pcapOf(tcp4, 5000)
	path := writeTemp(t, "f.pcap", file)
	forEachReader(t, func(t *testing.T) {
		src, err := OpenFile(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var p Packet
		for i := 0; i < 100; i++ { // warm up
			if err := src.Next(&p); err != nil {
				t.Fatal(err)
			}
		}
		n := testing.AllocsPerRun(1000, func() {
			if err := src.Next(&p); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("Next allocates %v times per packet", n)
		}
	})
}

func BenchmarkReadPcap(b *testing.B) {
	tcp4, _, _ := sampleFrames(b)
	const perFile = 10000
	file := pcapOf(tcp4, perFile)
	path := writeTemp(b, "bench.pcap", file)
	for _, mapped := range []bool{false, true} {
		name := "stream"
		if mapped {
			name = "mmap"
		}
		b.Run(name, func(b *testing.B) {
			defer func(old bool) { useMmap = old }(useMmap)
			useMmap = mapped
			b.ReportAllocs()
			b.SetBytes(int64(len(file)) / perFile)
			var p Packet
			var src Source
			for i := 0; i < b.N; i++ {
				if i%perFile == 0 {
					if src != nil {
						src.Close()
					}
					var err error
					if src, err = OpenFile(path, 0); err != nil {
						b.Fatal(err)
					}
				}
				if err := src.Next(&p); err != nil {
					b.Fatal(err)
				}
			}
			src.Close()
		})
	}
}

func TestOpenFileNotAFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenFile(dir, 0); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("OpenFile(directory) = %v, want an error naming it", err)
	}
	missing := filepath.Join(dir, "missing.pcap")
	if _, err := OpenFile(missing, 0); err == nil || !strings.Contains(err.Error(), "missing.pcap") {
		t.Errorf("OpenFile(missing) = %v, want an error naming it", err)
	}
}
