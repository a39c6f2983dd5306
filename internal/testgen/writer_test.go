package testgen

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

func writerFrames() []Frame {
	t := time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC)
	return []Frame{
		{TS: t, Data: bytes.Repeat([]byte{0xab}, 60), LinkType: layers.LinkTypeEthernet},
		{TS: t.Add(1500 * time.Millisecond), Data: bytes.Repeat([]byte{0x45}, 41), LinkType: layers.LinkTypeRaw, Iface: 1},
		{TS: t.Add(3 * time.Second), Data: bytes.Repeat([]byte{0xcd}, 1514), LinkType: layers.LinkTypeEthernet},
	}
}

func TestPcapWriter(t *testing.T) {
	tests := []struct {
		name   string
		o      PcapOptions
		header string // hex of the 24-byte file header
		resol  int
	}{
		{"micro little endian", PcapOptions{}, "d4c3b2a1" + "0200" + "0400" + "00000000" + "00000000" + "00000400" + "01000000", 6},
		{"nano little endian", PcapOptions{Nanos: true}, "4d3cb2a1" + "0200" + "0400" + "00000000" + "00000000" + "00000400" + "01000000", 9},
		{"micro big endian", PcapOptions{BigEndian: true}, "a1b2c3d4" + "0002" + "0004" + "00000000" + "00000000" + "00040000" + "00000001", 6},
		{"nano big endian raw snaplen 30", PcapOptions{Nanos: true, BigEndian: true, LinkType: layers.LinkTypeRaw, SnapLen: 30},
			"a1b23c4d" + "0002" + "0004" + "00000000" + "00000000" + "0000001e" + "00000065", 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var frames []Frame
			for _, f := range writerFrames() {
				if f.LinkType == tc.o.LinkType || (tc.o.LinkType == 0 && f.LinkType == layers.LinkTypeEthernet) {
					frames = append(frames, f)
				}
			}
			var buf bytes.Buffer
			w, err := NewPcapWriter(&buf, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range frames {
				if err := w.WriteFrame(f); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(buf.Bytes()[:24]); got != tc.header {
				t.Errorf("header = %s, want %s", got, tc.header)
			}
			f, err := readCapture(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if f.ng || f.bigEndian != tc.o.BigEndian || f.ifaces[0].resol != tc.resol {
				t.Errorf("read back ng=%v bigEndian=%v resol=%d", f.ng, f.bigEndian, f.ifaces[0].resol)
			}
			if len(f.records) != len(frames) {
				t.Fatalf("%d records, want %d", len(f.records), len(frames))
			}
			snap := int(tc.o.SnapLen)
			if snap == 0 {
				snap = 262144
			}
			for i, r := range f.records {
				want := frames[i].TS.Truncate(time.Duration(pow10(9 - tc.resol)))
				if !r.ts.Equal(want) {
					t.Errorf("record %d time %s, want %s", i, r.ts.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
				}
				wantData := frames[i].Data[:min(snap, len(frames[i].Data))]
				if !bytes.Equal(r.data, wantData) || r.origLen != len(frames[i].Data) {
					t.Errorf("record %d: %d bytes of %d, want %d of %d", i, len(r.data), r.origLen, len(wantData), len(frames[i].Data))
				}
			}
		})
	}
}

func pow10(n int) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

func TestPcapWriterRejectsOtherLinkType(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, PcapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(writerFrames()[1]); err == nil {
		t.Error("a raw IP frame in an Ethernet pcap: no error")
	}
}

func TestPcapNGWriter(t *testing.T) {
	twoIfaces := []NGInterface{
		{LinkType: layers.LinkTypeEthernet, TSResol: 6, Name: "eth0"},
		{LinkType: layers.LinkTypeRaw, TSResol: 9, Name: "tun0"},
	}
	tests := []struct {
		name string
		o    PcapNGOptions
	}{
		{"default interface", PcapNGOptions{}},
		{"little endian two interfaces", PcapNGOptions{Interfaces: twoIfaces, Application: "testgen"}},
		{"big endian two interfaces", PcapNGOptions{BigEndian: true, Interfaces: twoIfaces}},
		{"nanosecond snaplen", PcapNGOptions{Interfaces: []NGInterface{{TSResol: 9, SnapLen: 64}}}},
		{"millisecond", PcapNGOptions{BigEndian: true, Interfaces: []NGInterface{{TSResol: 3}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ifaces := tc.o.Interfaces
			if len(ifaces) == 0 {
				ifaces = []NGInterface{{}}
			}
			var frames []Frame
			for _, f := range writerFrames() {
				if f.Iface < len(ifaces) {
					frames = append(frames, f)
				}
			}
			var buf bytes.Buffer
			w, err := NewPcapNGWriter(&buf, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range frames {
				if err := w.WriteFrame(f); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			f, err := readCapture(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !f.ng || f.bigEndian != tc.o.BigEndian || len(f.ifaces) != len(ifaces) {
				t.Fatalf("read back ng=%v bigEndian=%v %d interfaces", f.ng, f.bigEndian, len(f.ifaces))
			}
			for i, in := range ifaces {
				want := capIface{link: in.LinkType, resol: int(in.TSResol), name: in.Name}
				if want.link == 0 {
					want.link = layers.LinkTypeEthernet
				}
				if want.resol == 0 {
					want.resol = 6
				}
				if f.ifaces[i] != want {
					t.Errorf("interface %d = %+v, want %+v", i, f.ifaces[i], want)
				}
			}
			if len(f.records) != len(frames) {
				t.Fatalf("%d records, want %d", len(f.records), len(frames))
			}
			for i, r := range f.records {
				in := f.ifaces[r.iface]
				want := frames[i].TS.Truncate(time.Duration(pow10(9 - in.resol)))
				if r.iface != frames[i].Iface || !r.ts.Equal(want) {
					t.Errorf("record %d: interface %d time %s, want %d %s", i, r.iface, r.ts.Format(time.RFC3339Nano), frames[i].Iface, want.Format(time.RFC3339Nano))
				}
				snap := len(frames[i].Data)
				if s := ifaces[r.iface].SnapLen; s != 0 {
					snap = min(snap, int(s))
				}
				if !bytes.Equal(r.data, frames[i].Data[:snap]) || r.origLen != len(frames[i].Data) {
					t.Errorf("record %d: %d bytes of %d, want %d of %d", i, len(r.data), r.origLen, snap, len(frames[i].Data))
				}
			}
		})
	}
}

func TestPcapNGWriterErrors(t *testing.T) {
	if _, err := NewPcapNGWriter(&bytes.Buffer{}, PcapNGOptions{Interfaces: []NGInterface{{TSResol: 10}}}); err == nil {
		t.Error("if_tsresol 10: no error")
	}
	w, err := NewPcapNGWriter(&bytes.Buffer{}, PcapNGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fr := writerFrames()
	if err := w.WriteFrame(fr[1]); err == nil {
		t.Error("frame for interface 1 of 1: no error")
	}
	fr[0].LinkType = layers.LinkTypeRaw
	if err := w.WriteFrame(fr[0]); err == nil {
		t.Error("raw frame on an Ethernet interface: no error")
	}
}
