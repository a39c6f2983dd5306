package dns

import "testing"

// FuzzParse runs every reader of the package on arbitrary messages: none may
// panic or read out of range, and their results must agree.
func FuzzParse(f *testing.F) {
	q := header(0xBEEF, 0x8180, 1, 2, 0, 1).name("www", "example", "com").u16(1).u16(1)
	f.Add([]byte(q.ptr(12).rr(5, 3600, 0xC0, 16).ptr(16).rr(1, 60, 192, 0, 2, 1).raw(0).rr(41, 0)))
	f.Add([]byte(header(1, 0x0100, 1, 0, 0, 0).raw(2, 0xC3, 0xA9).name("fr").u16(28).u16(1)))
	f.Add([]byte(header(1, 0x8180, 1, 1, 0, 0).ptr(12)))
	f.Add([]byte(header(1, 0x8180, 1, 1, 0, 0).raw(1, 'x').ptr(12).u16(5).u16(1)))
	f.Add([]byte(header(1, 0x8180, 1, 1, 0, 0).raw(0x41, 0x80, 0xFF)))
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := Parse(msg)
		if int(m.ANCount) < m.Answers {
			t.Fatalf("Parse read %d answers of %d", m.Answers, m.ANCount)
		}
		if err == nil && len(msg) < HeaderLen {
			t.Fatal("Parse accepted a message shorter than the header")
		}
		if m.Answers > 0 && m.MinTTL > m.MaxTTL {
			t.Fatalf("MinTTL %d > MaxTTL %d", m.MinTTL, m.MaxTTL)
		}
		LegacyQuestion(msg)
		for off := HeaderLen; off < len(msg) && off < HeaderLen+64; off++ {
			name, end, err := ReadName(msg, off)
			if err != nil {
				continue
			}
			if end <= off || end > len(msg) || name == "" {
				t.Fatalf("ReadName(%d) = %q, %d", off, name, end)
			}
			if skip, err := SkipName(msg, off); err != nil || skip != end {
				t.Fatalf("SkipName(%d) = %d, %v; ReadName ends at %d", off, skip, err, end)
			}
		}
	})
}
