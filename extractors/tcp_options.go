package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{
		ID:      "tcp_options",
		Needs:   flows.NeedBase | flows.NeedTCP,
		Compute: computeTCPOptions,
	})
}

// optDir is the TCP option state of one direction.
type optDir struct {
	mssSeen, wsSeen bool
	mss             uint16
	ws              uint8
	sackOK          bool
	tsCount         int64
	tsFirst, tsLast uint32
	ecrFirst        uint32
}

// computeTCPOptions follows SEMANTICS.md, tcp_options, except that
// tcp_sack_blocks_total counts every SACK block (POLICY.md §2; JoyfulJay
// counts one per SACK option).
func computeTCPOptions(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var dirs [2]optDir
	var sackBlocks, optPackets int64
	n := tcpRecCount(f)
	for i := 0; i < n; i++ {
		if !tcpRecIsTCP(f, i) {
			continue
		}
		t := &f.TCP[i]
		d := &dirs[1]
		if f.Base[i].Fwd {
			d = &dirs[0]
		}
		contributed := false
		if t.OptFlags&flows.OptMSS != 0 && !d.mssSeen {
			d.mssSeen, d.mss = true, t.MSS
			contributed = true
		}
		if t.OptFlags&flows.OptWS != 0 && !d.wsSeen {
			d.wsSeen, d.ws = true, t.WS
			contributed = true
		}
		if t.OptFlags&flows.OptSACKOK != 0 {
			d.sackOK = true
			contributed = true
		}
		if t.OptFlags&flows.OptTS != 0 {
			if d.tsCount == 0 {
				d.tsFirst, d.ecrFirst = t.TSVal, t.TSEcr
			}
			d.tsLast = t.TSVal
			d.tsCount++
			contributed = true
		}
		if t.SACKBlocks > 0 {
			sackBlocks += int64(t.SACKBlocks)
			contributed = true
		}
		if contributed {
			optPackets++
		}
	}

	var bitmap int64
	fw, bw := &dirs[0], &dirs[1]
	if fw.mssSeen || bw.mssSeen {
		bitmap |= 0x01
	}
	if fw.wsSeen || bw.wsSeen {
		bitmap |= 0x02
	}
	if fw.sackOK || bw.sackOK {
		bitmap |= 0x04
	}
	if fw.tsCount > 0 || bw.tsCount > 0 {
		bitmap |= 0x08
	}
	out[0] = schema.IntV(int64(fw.mss))
	out[1] = schema.IntV(int64(bw.mss))
	out[2] = schema.IntV(int64(fw.ws))
	out[3] = schema.IntV(int64(bw.ws))
	out[4] = schema.IntV(tcpBoolInt(fw.sackOK))
	out[5] = schema.IntV(tcpBoolInt(bw.sackOK))
	out[6] = schema.IntV(sackBlocks)
	fw.putTS(out[7:12])
	bw.putTS(out[12:17])
	out[17] = schema.IntV(bitmap)
	out[18] = schema.IntV(optPackets)
	return nil
}

// putTS fills present, first, last, diff and first TSecr of one direction.
func (d *optDir) putTS(out []schema.Value) {
	var diff int64
	if d.tsCount >= 2 {
		// last - first, plus 2^32 when negative: the same as the uint32
		// difference.
		diff = int64(d.tsLast - d.tsFirst)
	}
	out[0] = schema.IntV(tcpBoolInt(d.tsCount > 0))
	out[1] = schema.IntV(int64(d.tsFirst))
	out[2] = schema.IntV(int64(d.tsLast))
	out[3] = schema.IntV(diff)
	out[4] = schema.IntV(int64(d.ecrFirst))
}

// tcpBoolInt returns 1 for true and 0 for false.
func tcpBoolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
