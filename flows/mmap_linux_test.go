package flows

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// mappedRSS returns the resident kilobytes of the mapping that starts at
// addr, from /proc/self/smaps.
func mappedRSS(t *testing.T, addr uintptr) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	want := fmt.Sprintf("%x-", addr)
	found := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, want) {
			found = true
			continue
		}
		if found && strings.HasPrefix(line, "Rss:") {
			kb, err := strconv.Atoi(strings.Fields(line)[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("mapping at %x not in /proc/self/smaps", addr)
	return 0
}

// TestMappedResidentBounded reads a 17 MiB capture with a 256 KiB release
// step and checks, in /proc/self/smaps, that the mapping's resident pages
// stay near the step instead of growing with the file.
func TestMappedResidentBounded(t *testing.T) {
	defer func(s, k int) { releaseStep, releaseKeep = s, k }(releaseStep, releaseKeep)
	releaseStep, releaseKeep = 256<<10, 64<<10
	file := pcapOf(bulkFrame(t, 1400), 12000)
	src := openWith(t, writeTemp(t, "big.pcap", file), true)
	defer src.Close()
	in := src.(*pcapSource).in
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(in.buf)))
	var p Packet
	peak := 0
	for i := 0; ; i++ {
		if err := src.Next(&p); err != nil {
			break
		}
		if i%500 == 0 {
			peak = max(peak, mappedRSS(t, addr))
		}
	}
	// The kernel maps a file in folios of up to 2 MiB (measured here: the
	// whole 17 MiB file ends up resident without the releases).
	limit := (releaseStep + releaseKeep + 4<<20) >> 10
	if len(file) < 16<<20 || peak > limit {
		t.Errorf("file %d KiB: mapping peaked at %d KiB resident, want at most %d KiB", len(file)>>10, peak, limit)
	}
}

// TestFIFOIsStreamed opens a named pipe: it cannot be mapped and is read
// through the buffer.
func TestFIFOIsStreamed(t *testing.T) {
	tcp4, arp, udp6 := sampleFrames(t)
	file := writePcap(binary.LittleEndian, 0xa1b2c3d4, 1, 65535, []pcapRec{{1, 2, tcp4, 0}, {1, 3, arp, 0}, {1, 4, udp6, 0}})
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(file)
		w.Close()
	}()
	src, err := OpenFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if isMapped(t, src) {
		t.Error("a FIFO was mapped")
	}
	pkts, err := readAll(t, src)
	if err != nil || len(pkts) != 2 {
		t.Errorf("%d packets, err %v; want 2, nil", len(pkts), err)
	}
}
