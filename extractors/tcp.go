package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "tcp", Needs: flows.NeedBase, Compute: computeTCP})
}

// tcp_fstat bits.
const (
	tcpFstatInitSYN    = 0x01 // SYN without ACK from the initiator
	tcpFstatRespSYNACK = 0x02 // SYN+ACK from the responder
	tcpFstatMoreACKs   = 0x04 // more ACKs than SYN+ACKs (not a real 3-way check)
	tcpFstatFINFwd     = 0x08 // FIN from the initiator
	tcpFstatFINBwd     = 0x10 // FIN from the responder
	tcpFstatRST        = 0x20 // any RST
	tcpFstatData       = 0x40 // any packet with payload
	tcpFstatAnomaly    = 0x80 // tcp_flags_anomaly
)

// computeTCP fills the tcp group from the TCP flags of a TCP flow (flow
// protocol 6); every other flow gets the defaults (false, 0, 0.0).
func computeTCP(f *flows.Flow, cfg *flows.Config, out []schema.Value) error {
	var syn, synack, fin, rst, ack, psh, urg, ece, cwr, data, ackOnly int64
	var initSYN, respSYNACK, finFwd, finBwd, anomaly bool
	var agg, aggFwd, aggBwd uint8
	isTCP := f.Proto == 6
	// With identical endpoints every packet is the initiator's and, by
	// JoyfulJay's address-and-port test, also the responder's.
	selfFlow := f.InitIP == f.RespIP && f.InitPort == f.RespPort
	if isTCP {
		for i := range f.Base {
			b := &f.Base[i]
			if !b.HasFlags {
				continue
			}
			fl := b.Flags
			fromResp := !b.Fwd || selfFlow
			if fl&flows.SYN != 0 {
				if fl&flows.ACK != 0 {
					synack++
					respSYNACK = respSYNACK || fromResp
				} else {
					syn++
					initSYN = initSYN || b.Fwd
				}
			}
			if fl&flows.FIN != 0 {
				fin++
				if b.Fwd {
					finFwd = true
				} else {
					finBwd = true
				}
			}
			if fl&flows.RST != 0 {
				rst++
			}
			if fl&flows.ACK != 0 {
				ack++
				if b.Payload == 0 && fl&(flows.SYN|flows.FIN|flows.RST) == 0 {
					ackOnly++
				}
			}
			if fl&flows.PSH != 0 {
				psh++
			}
			if fl&flows.URG != 0 {
				urg++
			}
			if fl&flows.ECE != 0 {
				ece++
			}
			if fl&flows.CWR != 0 {
				cwr++
			}
			if b.Payload > 0 {
				data++
			}
			anomaly = anomaly || tcpFlagsAnomalous(fl)
			agg |= fl
			if b.Fwd {
				aggFwd |= fl
			} else {
				aggBwd |= fl
			}
		}
	}

	var fstat int64
	for _, c := range []struct {
		on  bool
		bit int64
	}{
		{initSYN, tcpFstatInitSYN},
		{respSYNACK, tcpFstatRespSYNACK},
		{ack > synack, tcpFstatMoreACKs},
		{finFwd, tcpFstatFINFwd},
		{finBwd, tcpFstatFINBwd},
		{rst > 0, tcpFstatRST},
		{data > 0, tcpFstatData},
		{anomaly, tcpFstatAnomaly},
	} {
		if c.on {
			fstat |= c.bit
		}
	}
	total := float64(len(f.Base))
	if !isTCP {
		total = 0 // ratios stay 0
	}

	w := out[:0]
	w = append(w,
		schema.BoolV(isTCP),
		schema.IntV(syn),
		schema.IntV(synack),
		schema.IntV(fin),
		schema.IntV(rst),
		schema.IntV(ack),
		schema.IntV(psh),
		schema.IntV(urg),
		schema.IntV(ece),
		schema.IntV(cwr),
		schema.BoolV(initSYN && respSYNACK),
		schema.BoolV(finFwd && finBwd),
		schema.BoolV(rst > 0),
		schema.RealV(divOrZero(float64(syn+synack), total)),
		schema.RealV(divOrZero(float64(fin), total)),
		schema.RealV(divOrZero(float64(rst), total)),
		schema.RealV(divOrZero(float64(psh), total)),
		schema.IntV(data),
		schema.IntV(ackOnly),
		schema.BoolV(anomaly),
		schema.BoolV(initSYN),
		schema.BoolV(respSYNACK),
		schema.IntV(fstat),
		schema.IntV(int64(agg)),
		schema.IntV(int64(aggFwd)),
		schema.IntV(int64(aggBwd)),
	)
	return checkFilled("tcp", w, out)
}

// tcpFlagsAnomalous reports the flag combinations JoyfulJay calls anomalous:
// no flags (null scan), FIN+PSH+URG (Xmas), FIN without ACK or SYN, SYN+FIN
// and SYN+RST.
func tcpFlagsAnomalous(fl uint8) bool {
	switch {
	case fl == 0:
		return true
	case fl&(flows.FIN|flows.PSH|flows.URG) == flows.FIN|flows.PSH|flows.URG:
		return true
	case fl&flows.FIN != 0 && fl&(flows.ACK|flows.SYN) == 0:
		return true
	case fl&flows.SYN != 0 && fl&(flows.FIN|flows.RST) != 0:
		return true
	}
	return false
}
