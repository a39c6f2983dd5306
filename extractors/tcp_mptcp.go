package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{
		ID:      "tcp_mptcp",
		Needs:   flows.NeedBase | flows.NeedTCP,
		Compute: computeTCPMPTCP,
	})
}

// mptcpCapable is the MPTCP option subtype MP_CAPABLE (RFC 8684 §3.1).
const mptcpCapable = 0

// mptcp_stat bits.
const (
	mptcpStatDetected = 0x01
	mptcpStatFwd      = 0x02
	mptcpStatBwd      = 0x04
	mptcpStatBoth     = 0x08
)

// computeTCPMPTCP reads the real MPTCP options (kind 30) of each segment,
// where JoyfulJay always reports 0 (POLICY.md §2):
//
//   - mptcp_detected: some TCP segment carries an MPTCP option.
//   - mptcp_capable_fwd / _bwd: a SYN-flagged segment of that direction
//     carries an MP_CAPABLE option (subtype 0). The initiator's SYN and the
//     responder's SYN/ACK announce MPTCP; a SYN with MP_JOIN opens an extra
//     subflow and is not a capability announcement.
//   - mptcp_option_count: segments carrying at least one MPTCP option.
//   - mptcp_stat: 0x01 detected, 0x02 fwd capable, 0x04 bwd capable,
//     0x08 both capable.
//   - is_mptcp: both directions MP_CAPABLE.
func computeTCPMPTCP(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var capFwd, capBwd bool
	var packets int64
	n := tcpRecCount(f)
	for i := 0; i < n; i++ {
		if !tcpRecIsTCP(f, i) {
			continue
		}
		t := &f.TCP[i]
		if t.MPTCPCount == 0 {
			continue
		}
		packets++
		b := &f.Base[i]
		if b.Flags&flows.SYN != 0 && t.MPTCPSub&(1<<mptcpCapable) != 0 {
			if b.Fwd {
				capFwd = true
			} else {
				capBwd = true
			}
		}
	}
	var stat int64
	if packets > 0 {
		stat |= mptcpStatDetected
	}
	if capFwd {
		stat |= mptcpStatFwd
	}
	if capBwd {
		stat |= mptcpStatBwd
	}
	if capFwd && capBwd {
		stat |= mptcpStatBoth
	}
	out[0] = schema.IntV(tcpBoolInt(packets > 0))
	out[1] = schema.IntV(tcpBoolInt(capFwd))
	out[2] = schema.IntV(tcpBoolInt(capBwd))
	out[3] = schema.IntV(packets)
	out[4] = schema.IntV(stat)
	out[5] = schema.IntV(tcpBoolInt(capFwd && capBwd))
	return nil
}
