package flows

import (
	"math"
	"os"
	"syscall"
)

// mmapSupported says whether OpenFile can map files on this system.
const mmapSupported = true

// mapping is a capture file mapped read-only into memory.
type mapping struct {
	data []byte
	page int
}

// mapFile maps the regular file f of size bytes, or returns nil when the
// file should be streamed instead: it is empty, gzip-compressed (its bytes
// are not the capture's), too large for the address space, or the system
// refuses the mapping.
func mapFile(f *os.File, size int64) *mapping {
	if size <= 0 || uint64(size) > math.MaxInt {
		return nil
	}
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	// Advice only: read-ahead is more aggressive, and pages behind are
	// reclaimed first under memory pressure.
	_ = syscall.Madvise(data, syscall.MADV_SEQUENTIAL)
	return &mapping{data: data, page: os.Getpagesize()}
}

// release drops the pages of data[from:to] from the process, to rounded
// down to a page boundary (from is one), and returns where the released
// range ends. The page cache keeps the pages, and a later access maps them
// in again, so a slice into the range stays readable.
func (m *mapping) release(from, to int) int {
	to &^= m.page - 1
	if to > from {
		_ = syscall.Madvise(m.data[from:to], syscall.MADV_DONTNEED)
		from = to
	}
	return from
}

// Close unmaps the file.
func (m *mapping) Close() error {
	if m.data == nil {
		return nil
	}
	err := syscall.Munmap(m.data)
	m.data = nil
	return err
}
