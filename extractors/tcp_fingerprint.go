package extractors

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{
		ID:      "tcp_fingerprint",
		Needs:   flows.NeedBase | flows.NeedTCP | flows.NeedIP,
		Compute: computeTCPFingerprint,
	})
}

// tcpSynParams are the fingerprinted fields of one SYN or SYN/ACK. Absent
// options are 0 (JoyfulJay's "or 0").
type tcpSynParams struct {
	found  bool
	window uint16
	ttl    uint8
	mss    uint16
	ws     uint8
	sack   bool
	ts     bool
}

// computeTCPFingerprint follows SEMANTICS.md, tcp_fingerprint: parameters of
// the first initiator SYN (without ACK) and of the first responder SYN/ACK,
// a short hash over them, JoyfulJay's OS hint table, and an uptime estimate
// from the first TSval of each direction at an assumed 100 Hz.
func computeTCPFingerprint(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var fwd, bwd tcpSynParams
	var tsFwd, tsBwd uint32
	var tsFwdSeen, tsBwdSeen bool
	n := tcpRecCount(f)
	for i := 0; i < n; i++ {
		if !tcpRecIsTCP(f, i) {
			continue
		}
		b, t := &f.Base[i], &f.TCP[i]
		syn, ack := b.Flags&flows.SYN != 0, b.Flags&flows.ACK != 0
		switch {
		case b.Fwd && syn && !ack && !fwd.found:
			fwd = tcpSynParamsOf(f, i)
		case !b.Fwd && syn && ack && !bwd.found:
			bwd = tcpSynParamsOf(f, i)
		}
		if t.OptFlags&flows.OptTS != 0 {
			if b.Fwd && !tsFwdSeen {
				tsFwd, tsFwdSeen = t.TSVal, true
			} else if !b.Fwd && !tsBwdSeen {
				tsBwd, tsBwdSeen = t.TSVal, true
			}
		}
	}
	out[0] = schema.TextV(fwd.fingerprint())
	out[1] = schema.TextV(bwd.fingerprint())
	out[2] = schema.TextV(fwd.osHint())
	out[3] = schema.TextV(bwd.osHint())
	out[4] = schema.RealV(tcpUptimeHours(tsFwd))
	out[5] = schema.RealV(tcpUptimeHours(tsBwd))
	fwd.putRaw(out[6:10])
	bwd.putRaw(out[10:14])
	return nil
}

func tcpSynParamsOf(f *flows.Flow, i int) tcpSynParams {
	t := &f.TCP[i]
	p := tcpSynParams{found: true, window: t.Window}
	if i < len(f.IP) {
		p.ttl = f.IP[i].TTL
	}
	if t.OptFlags&flows.OptMSS != 0 {
		p.mss = t.MSS
	}
	if t.OptFlags&flows.OptWS != 0 {
		p.ws = t.WS
	}
	p.sack = t.OptFlags&flows.OptSACKOK != 0
	p.ts = t.OptFlags&flows.OptTS != 0
	return p
}

// fingerprint returns "t<win>_<mss>_<ws>_<h>" where h is the first 12 hex
// digits of md5("<win>_<ttl>_<mss>_<ws>_<opts>"), opts = 1*SACK-permitted +
// 2*Timestamps; "" when there is no such SYN.
func (p *tcpSynParams) fingerprint() string {
	if !p.found {
		return ""
	}
	var opts int64
	if p.sack {
		opts |= 1
	}
	if p.ts {
		opts |= 2
	}
	var buf [64]byte
	s := strconv.AppendUint(buf[:0], uint64(p.window), 10)
	s = append(s, '_')
	s = strconv.AppendUint(s, uint64(p.ttl), 10)
	s = append(s, '_')
	s = strconv.AppendUint(s, uint64(p.mss), 10)
	s = append(s, '_')
	s = strconv.AppendUint(s, uint64(p.ws), 10)
	s = append(s, '_')
	s = strconv.AppendInt(s, opts, 10)
	sum := md5.Sum(s)

	r := append(buf[:0], 't')
	r = strconv.AppendUint(r, uint64(p.window), 10)
	r = append(r, '_')
	r = strconv.AppendUint(r, uint64(p.mss), 10)
	r = append(r, '_')
	r = strconv.AppendUint(r, uint64(p.ws), 10)
	r = append(r, '_')
	r = hex.AppendEncode(r, sum[:6])
	return string(r)
}

// osHint applies JoyfulJay's table: the initial TTL is 64, 128 or 255 (the
// smallest not below the observed TTL), then the window decides. "macos"
// (64 and 65535) is unreachable because "linux" matches first; it is kept
// out rather than written as dead code.
func (p *tcpSynParams) osHint() string {
	if !p.found {
		return "unknown"
	}
	initTTL := 255
	switch {
	case p.ttl <= 64:
		initTTL = 64
	case p.ttl <= 128:
		initTTL = 128
	}
	switch initTTL {
	case 64:
		switch p.window {
		case 29200, 65535:
			return "linux"
		case 5840:
			return "linux-old"
		}
	case 128:
		switch p.window {
		case 65535, 8192:
			return "windows"
		case 65520:
			return "windows-10"
		}
	case 255:
		return "bsd"
	}
	return "unknown"
}

// putRaw fills window, TTL, MSS and window scale (all 0 without a SYN).
func (p *tcpSynParams) putRaw(out []schema.Value) {
	out[0] = schema.IntV(int64(p.window))
	out[1] = schema.IntV(int64(p.ttl))
	out[2] = schema.IntV(int64(p.mss))
	out[3] = schema.IntV(int64(p.ws))
}

// tcpUptimeHours converts a TSval to hours at 100 Hz: (tsval / 100) / 3600,
// divided in that order as JoyfulJay does; 0 for a missing or zero TSval.
func tcpUptimeHours(tsval uint32) float64 {
	if tsval == 0 {
		return 0
	}
	return float64(tsval) / 100 / 3600
}
