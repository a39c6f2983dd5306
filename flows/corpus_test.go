package flows

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// corpusDir returns the shared capture corpus, skipping the test when it is
// missing (failing under CI).
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus %s missing", dir)
		}
		t.Skipf("corpus %s missing", dir)
	}
	return dir
}

var captureExts = []string{".pcap", ".pcapng", ".cap", ".trace", ".ntar", ".gz"}

// corpusFiles lists the capture files under dir, relative to it, sorted.
func corpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == "tshark" {
				return filepath.SkipDir
			}
			return nil
		}
		for _, ext := range captureExts {
			if strings.HasSuffix(e.Name(), ext) {
				rel, _ := filepath.Rel(dir, path)
				out = append(out, rel)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// captureSummary is what a whole read of one capture produced.
type captureSummary struct {
	openErr   error
	endErr    error // nil at a clean end
	packets   int   // IP packets delivered
	l4Packets int   // TCP/UDP packets, a fragmented datagram once
	l4Payload int64 // their declared payload
	first     Packet
	stats     SourceStats
}

type tsharkFragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
}

type tsharkFrag struct {
	first, last, counted bool
	l4, udp              bool
	udpPayload, tcpHdr   int
	end                  int // bytes of the reassembled IP payload
}

func summarize(path string) captureSummary {
	var s captureSummary
	src, err := OpenFile(path, 0)
	if err != nil {
		s.openErr = err
		return s
	}
	defer src.Close()
	var p Packet
	frags := map[tsharkFragKey]*tsharkFrag{}
	for {
		err := src.Next(&p)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.endErr = err
			}
			break
		}
		if s.packets == 0 {
			s.first = p
			s.first.Payload, s.first.TCPOptions = nil, nil
		}
		s.packets++
		if p.IsFragment {
			// tshark counts a fragmented datagram once, when it is
			// reassembled: count it when its first and last fragments were seen.
			k := tsharkFragKey{p.SrcIP, p.DstIP, p.IPID, p.Proto}
			st := frags[k]
			if st == nil {
				st = &tsharkFrag{}
				frags[k] = st
			}
			if p.FragOffset == 0 {
				st.first = true
				st.l4 = p.HasTCP || p.HasUDP
				st.udp = p.HasUDP
				st.udpPayload = p.PayloadLen
				st.tcpHdr = p.TCPHdrLen
			}
			if !p.MoreFrags {
				st.last = true
				st.end = int(p.FragOffset)*8 + p.IPLen - p.IPHdrLen
			}
			if st.first && st.last && !st.counted {
				st.counted = true
				if st.l4 {
					s.l4Packets++
					if st.udp {
						s.l4Payload += int64(st.udpPayload)
					} else {
						s.l4Payload += int64(st.end - st.tcpHdr)
					}
				}
			}
			continue
		}
		if p.HasTCP || p.HasUDP {
			s.l4Packets++
			s.l4Payload += int64(p.PayloadLen)
		} else if !p.HasICMP && !p.HasICMPv6 {
			switch p.Tunnel {
			case TunnelVXLAN, TunnelGENEVE, TunnelGTPU, TunnelTeredo:
				// tshark sees the outer UDP header of a tunnelled packet
				// without an inner transport and keys it on the inner IP.
				s.l4Packets++
			}
		}
	}
	s.stats = src.Stats()
	return s
}

func TestCorpusReadAll(t *testing.T) {
	dir := corpusDir(t)
	files := corpusFiles(t, dir)
	if len(files) == 0 {
		t.Fatalf("no captures under %s", dir)
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			start := time.Now()
			s := summarize(filepath.Join(dir, rel))
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("reading took %v", d)
			}
			if s.openErr != nil {
				var fe *FormatError
				if !errors.As(s.openErr, &fe) {
					t.Errorf("open error %v is not a *FormatError", s.openErr)
				}
				return
			}
			if s.endErr != nil {
				var fe *FormatError
				if !errors.As(s.endErr, &fe) {
					t.Errorf("read error %v is not a *FormatError", s.endErr)
				}
			}
			st := s.stats
			if got := st.IPPackets + st.NonIP + st.DecodeErrors + st.Unsupported; got != st.Records {
				t.Errorf("stats %+v: categories sum to %d, want Records %d", st, got, st.Records)
			}
			if int(st.IPPackets) != s.packets {
				t.Errorf("IPPackets = %d, delivered %d", st.IPPackets, s.packets)
			}
		})
	}
}

// tsharkTotals sums the packets and payload_bytes columns of a tshark oracle
// file; ok is false when the file does not exist.
func tsharkTotals(t *testing.T, path string) (packets int, payload int64, ok bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var pi, bi = -1, -1
	for line := 0; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 0 {
			for i, c := range cols {
				switch c {
				case "packets":
					pi = i
				case "payload_bytes":
					bi = i
				}
			}
			if pi < 0 || bi < 0 {
				t.Fatalf("%s: no packets/payload_bytes columns", path)
			}
			continue
		}
		if len(cols) <= pi || len(cols) <= bi {
			continue
		}
		n, err1 := strconv.Atoi(cols[pi])
		b, err2 := strconv.ParseInt(cols[bi], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s:%d: bad counts %q %q", path, line+1, cols[pi], cols[bi])
		}
		packets += n
		payload += b
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return packets, payload, true
}

// TestCorpusTshark compares the TCP/UDP packet and payload totals of every
// capture with tshark's per-flow report.
func TestCorpusTshark(t *testing.T) {
	dir := corpusDir(t)
	if _, err := os.Stat(filepath.Join(dir, "tshark")); err != nil {
		t.Skip("no tshark oracle in this corpus")
	}
	files := corpusFiles(t, dir)
	var compared, agreePackets, agreeBoth int
	for _, rel := range files {
		wantN, wantB, ok := tsharkTotals(t, filepath.Join(dir, "tshark", rel+".tsv"))
		if !ok {
			continue
		}
		compared++
		s := summarize(filepath.Join(dir, rel))
		switch {
		case s.l4Packets == wantN && s.l4Payload == wantB:
			agreePackets++
			agreeBoth++
		case s.l4Packets == wantN:
			agreePackets++
			t.Logf("%s: payload %d, tshark %d (packets %d agree)", rel, s.l4Payload, wantB, wantN)
		default:
			t.Logf("%s: packets %d payload %d, tshark %d %d (open %v, end %v)", rel, s.l4Packets, s.l4Payload, wantN, wantB, s.openErr, s.endErr)
		}
	}
	if compared == 0 {
		t.Fatal("no tshark oracle files found")
	}
	ratio := float64(agreePackets) / float64(compared)
	t.Logf("tshark agreement: packets %d/%d (%.1f%%), packets and payload %d/%d (%.1f%%)",
		agreePackets, compared, 100*ratio, agreeBoth, compared, 100*float64(agreeBoth)/float64(compared))
	if ratio < 0.97 {
		t.Errorf("packet totals agree for %.1f%% of captures, want >= 97%%", 100*ratio)
	}
}

// TestCorpusKnownFiles checks packet counts and the first packet of a few
// captures against what gopacket (pcapgo readers, layers decoding) reports
// for them.
func TestCorpusKnownFiles(t *testing.T) {
	dir := corpusDir(t)
	cases := []struct {
		file      string
		link      uint16
		records   uint64
		packets   int
		index     uint64
		sec, nsec int64
		caplen    int
		src, dst  string // address:port
	}{
		{"gopacket/test_ethernet.pcap", 1, 10, 10, 1, 1513204139, 656584000, 74, "10.1.1.2:44644", "10.1.1.1:80"},
		{"gopacket/test_loopback.pcap", 0, 24, 24, 1, 1357492952, 275121000, 560, "::1:58799", "::1:8080"},
		{"gopacket/test_dns.pcap", 1, 10, 10, 1, 1413306485, 708342000, 82, "109.194.160.4:57766", "95.211.92.14:53"},
		{"joyfuljay/sample.pcap", 1, 18, 18, 1, 1704067200, 0, 54, "192.168.1.100:54321", "93.184.216.34:443"},
		{"ndpi/pcap/KakaoTalk_chat.pcap", 113, 347, 347, 1, 1430069021, 959113000, 76, "10.24.82.188:38448", "10.188.1.1:53"},
		{"ndpi/pcap/dlt_ppp.pcap", 9, 1, 1, 1, 1, 31048000, 1230, "193.167.0.252:44083", "193.167.100.100:443"},
		{"ndpi/pcap/codm.pcap", 101, 13, 13, 1, 1714945575, 38105000, 60, "10.215.173.1:45028", "49.51.177.25:8013"},
		{"ja4/pcap/ipv6.pcapng", 0, 9, 9, 1, 1593980608, 621087000, 88, "2001:4998:ef83:14:8000::100d:64034", "2606:4700::6811:d209:443"},
		{"wireshark/RawPacketIPv6Tunnel-UK6x.cap", 12, 81, 81, 1, 1147551795, 526632000, 80, "2001:618:400::5199:cc70:35995", "2001:618:1:8000::5:80"},
		{"pcapng/be_test001.pcapng", 1, 4, 4, 1, 0, 0, 314, "0.0.0.0:68", "255.255.255.255:67"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s not in this corpus", tc.file)
			}
			s := summarize(path)
			if s.openErr != nil || s.endErr != nil {
				t.Fatalf("open %v, end %v", s.openErr, s.endErr)
			}
			if s.stats.Records != tc.records || s.packets != tc.packets {
				t.Errorf("records %d, packets %d; want %d, %d", s.stats.Records, s.packets, tc.records, tc.packets)
			}
			p := &s.first
			v6 := p.IPVersion == 6
			got := []any{p.LinkType, p.Index, p.TSSec, p.TSNsec, p.CapLen,
				Addr(p.SrcIP, v6).String() + ":" + strconv.Itoa(int(p.SrcPort)), Addr(p.DstIP, v6).String() + ":" + strconv.Itoa(int(p.DstPort))}
			want := []any{tc.link, tc.index, tc.sec, tc.nsec, tc.caplen, tc.src, tc.dst}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("first packet %v, want %v", got, want)
					break
				}
			}
		})
	}
}
