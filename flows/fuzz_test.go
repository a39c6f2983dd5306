package flows

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// fuzzFrames returns generated frames of several link types and
// encapsulations.
func fuzzFrames(f *testing.F) []struct {
	link  uint16
	frame []byte
} {
	e4 := ls(eth(layers.EthernetTypeIPv4))
	out4 := ipv4(ip4C, ip4D, layers.IPProtocolUDP)
	tcp := tcpL()
	tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{5, 0xb4}},
		{OptionType: layers.TCPOptionKindSACK, OptionData: make([]byte, 8)}, {OptionType: 30, OptionData: []byte{0x10, 0}}}
	frames := []struct {
		link  uint16
		frame []byte
	}{
		{LinkEthernet, ser(f, cat(e4, inner4())...)},
		{LinkEthernet, ser(f, eth(layers.EthernetTypeIPv4), ipv4(ip4A, ip4B, layers.IPProtocolTCP), tcp, hello)},
		{LinkEthernet, ser(f, cat(ls(eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 3, Type: layers.EthernetTypeIPv6}), inner6())...)},
		{LinkEthernet, ser(f, cat(e4, ls(out4, &layers.UDP{SrcPort: 1, DstPort: 4789}, &layers.VXLAN{ValidIDFlag: true}, eth(layers.EthernetTypeIPv4)), inner4())...)},
		{LinkEthernet, ser(f, cat(e4, ls(ipv4(ip4C, ip4D, layers.IPProtocolGRE), &layers.GRE{SeqPresent: true, Protocol: layers.EthernetTypeERSPAN},
			&layers.ERSPANII{Version: 1}, eth(layers.EthernetTypeIPv4)), inner4())...)},
		{LinkEthernet, ser(f, cat(e4, ls(ipv4(ip4C, ip4D, layers.IPProtocolUDP), &layers.UDP{SrcPort: 2152, DstPort: 2152},
			&layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 0xff, GTPExtensionHeaders: []layers.GTPExtensionHeader{{Type: 0x85, Content: []byte{0, 1}}}}), inner6())...)},
		{LinkEthernet, ser(f, cat(e4, ls(ipv4(ip4C, ip4D, layers.IPProtocolUDP), &layers.UDP{SrcPort: 6081, DstPort: 6081},
			&layers.Geneve{Protocol: layers.EthernetTypeIPv4}), inner4())...)},
		{LinkEthernet, ser(f, cat(ls(eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{StackBottom: true}), inner4())...)},
		{LinkRaw, ser(f, ipv6(ip6A, ip6B, layers.IPProtocolIPv6Fragment),
			&layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, MoreFragments: true, Identification: 1}, udpL(), gopacket.Payload("abc"))},
		{LinkRaw, ser(f, cat(ls(ipv4(ip4C, ip4D, layers.IPProtocolIPv6)), inner6())...)},
		{LinkRaw, ser(f, ipv4(ip4A, ip4B, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)})},
		{LinkNull, append([]byte{2, 0, 0, 0}, ser(f, inner4()...)...)},
		{LinkLinuxSLL, append([]byte{0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0x08, 0x00}, ser(f, inner4()...)...)},
		{LinkLinuxSLL2, append([]byte{0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}, ser(f, inner6()...)...)},
		{LinkPPP, append([]byte{0xff, 0x03, 0x00, 0x21}, ser(f, inner4()...)...)},
		{LinkIEEE80211, dot11Frame(0x88, 0x83, []byte{0, 0}, append([]byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ser(f, inner4()...)...))},
		{LinkRadiotap, append([]byte{0, 0, 8, 0, 0, 0, 0, 0}, dot11Frame(0x08, 0x01, nil, append([]byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ser(f, inner4()...)...))...)},
	}
	return frames
}

func FuzzDecode(f *testing.F) {
	for _, fr := range fuzzFrames(f) {
		f.Add(fr.link, fr.frame)
	}
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		var d decoder
		d.swapped = len(data) > 0 && data[0]&1 != 0
		p := &Packet{CapLen: len(data), WireLen: len(data) + int(link%7)}
		r := d.decode(p, link, data)
		if r != resultIP {
			return
		}
		if p.IPVersion != 4 && p.IPVersion != 6 {
			t.Fatalf("IP packet with version %d", p.IPVersion)
		}
		if p.PayloadLen < 0 || p.IPHdrLen < 0 {
			t.Fatalf("negative lengths: PayloadLen %d IPHdrLen %d", p.PayloadLen, p.IPHdrLen)
		}
		for _, s := range [][]byte{p.Payload, p.TCPOptions} {
			if len(s) > 0 && !within(s, data) {
				t.Fatalf("slice of %d bytes does not point into the frame", len(s))
			}
		}
	})
}

// within reports whether s lies inside buf.
func within(s, buf []byte) bool {
	if len(buf) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= start && p+uintptr(len(s)) <= start+uintptr(len(buf))
}

func fuzzFiles(f *testing.F) [][]byte {
	frames := fuzzFrames(f)
	var recs []pcapRec
	for i, fr := range frames {
		if fr.link == LinkEthernet {
			recs = append(recs, pcapRec{uint32(i), uint32(i * 1000), fr.frame, 0})
		}
	}
	pcapLE := writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 65535, recs)
	pcapBE := writePcap(binary.BigEndian, 0xa1b23c4d, 1, 200, recs[:2])
	w := &ngWriter{order: binary.LittleEndian}
	w.shb(1)
	w.idb(1, 0, 9, 5)
	w.idb(101, 100, 0x80|10, 0)
	for i, fr := range frames {
		switch fr.link {
		case LinkEthernet:
			w.epb(0, uint64(i), fr.frame)
		case LinkRaw:
			w.epb(1, uint64(i), fr.frame)
		}
	}
	w.spb(frames[0].frame)
	w.pb(1, 9, frames[8].frame)
	w.block(0x99, []byte("xyz"))
	wb := &ngWriter{order: binary.BigEndian}
	wb.shb(1)
	wb.idb(0, 0, -1, 0)
	wb.epb(0, 1, frames[11].frame)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(pcapBE)
	zw.Close()
	return [][]byte{pcapLE, pcapBE, w.buf, wb.buf, z.Bytes(), []byte("text")}
}

func FuzzReader(f *testing.F) {
	for _, b := range fuzzFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := newSource(bytes.NewReader(data), "fuzz", 0, int64(len(data)), nil)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("open error %v is not a *FormatError", err)
			}
			return
		}
		var p Packet
		for i := 0; ; i++ {
			err := src.Next(&p)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("Next error %v is not a *FormatError", err)
				}
				if again := src.Next(&p); again != err {
					t.Fatalf("Next after %v = %v", err, again)
				}
				break
			}
			if i > len(data) {
				t.Fatalf("more packets than input bytes")
			}
		}
		st := src.Stats()
		if st.IPPackets+st.NonIP+st.DecodeErrors+st.Unsupported != st.Records {
			t.Fatalf("stats do not add up: %+v", st)
		}
	})
}
