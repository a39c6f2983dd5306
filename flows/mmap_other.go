//go:build !linux

package flows

import "os"

// mmapSupported says whether OpenFile can map files on this system.
const mmapSupported = false

// mapping is not available on this system: captures are always streamed.
type mapping struct{ data []byte }

func mapFile(*os.File, int64) *mapping { return nil }

func (m *mapping) release(from, to int) int { return from }

func (m *mapping) Close() error { return nil }
