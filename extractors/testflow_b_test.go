package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// bPkt describes one synthetic packet for the TCP group tests. A packet is a
// TCP segment unless notTCP is set; opt holds flows.OptMSS|OptWS|OptSACKOK|
// OptTS (OptIsTCP is added by bFlow).
type bPkt struct {
	ts      float64
	fwd     bool
	notTCP  bool
	flags   uint8
	seq     uint32
	ack     uint32
	win     uint16
	payload uint32
	opt     uint8
	mss     uint16
	ws      uint8
	tsval   uint32
	tsecr   uint32
	sack    uint8  // SACK blocks
	mpCount uint8  // MPTCP options
	mpSub   uint16 // MPTCP subtype bits
	ttl     uint8
}

// bFlow builds a flow holding Base, TCP and IP records for pkts, in order.
func bFlow(pkts ...bPkt) *flows.Flow {
	f := &flows.Flow{Proto: 6}
	for _, p := range pkts {
		if p.notTCP {
			f.Proto = 17
		}
		f.Packets++
		if p.fwd {
			f.PacketsFwd++
		}
		f.Base = append(f.Base, flows.PktBase{
			TS: p.ts, IPLen: 40 + p.payload, Payload: p.payload, Fwd: p.fwd,
			HasFlags: !p.notTCP, Flags: p.flags,
		})
		f.Sum.Add(&f.Base[len(f.Base)-1])
		var t flows.PktTCP
		if !p.notTCP {
			t = flows.PktTCP{
				Seq: p.seq, Ack: p.ack, TSVal: p.tsval, TSEcr: p.tsecr, Window: p.win,
				MSS: p.mss, MPTCPSub: p.mpSub, WS: p.ws, SACKBlocks: p.sack,
				MPTCPCount: p.mpCount, OptFlags: p.opt | flows.OptIsTCP,
			}
		}
		f.TCP = append(f.TCP, t)
		f.IP = append(f.IP, flows.PktIP{Version: 4, TTL: p.ttl})
	}
	if len(pkts) > 0 {
		f.First, f.Last = pkts[0].ts, pkts[len(pkts)-1].ts
	}
	return f
}

// bRun computes group id on f with the default options and returns its
// values by column name.
func bRun(t *testing.T, id string, f *flows.Flow) map[string]schema.Value {
	t.Helper()
	cfg := flows.DefaultConfig()
	return computeA(t, id, f, &cfg)
}

// bWant is an expected value: int64, float64 or string.
type bWant map[string]any

// bCheck compares got with want (floats within 1e-12 relative).
func bCheck(t *testing.T, got map[string]schema.Value, want bWant) {
	t.Helper()
	for name, w := range want {
		v, ok := got[name]
		if !ok {
			t.Errorf("no column %s", name)
			continue
		}
		switch w := w.(type) {
		case int:
			if v.I != int64(w) {
				t.Errorf("%s = %d, want %d", name, v.I, w)
			}
		case int64:
			if v.I != w {
				t.Errorf("%s = %d, want %d", name, v.I, w)
			}
		case float64:
			if !closeA(v.F, w, 1e-12) {
				t.Errorf("%s = %v, want %v", name, v.F, w)
			}
		case string:
			if v.S != w {
				t.Errorf("%s = %q, want %q", name, v.S, w)
			}
		default:
			t.Fatalf("%s: unsupported want type %T", name, w)
		}
	}
}

// bDefaults checks that every column of group id holds its default (0, 0.0
// or "" — "unknown" for the OS hints) on f.
func bDefaults(t *testing.T, id string, f *flows.Flow) {
	t.Helper()
	got := bRun(t, id, f)
	for name, v := range got {
		switch v.Kind {
		case schema.Int, schema.Bool:
			if v.I != 0 {
				t.Errorf("%s = %d, want 0", name, v.I)
			}
		case schema.Real:
			if v.F != 0 {
				t.Errorf("%s = %v, want 0", name, v.F)
			}
		case schema.Text:
			want := ""
			if name == "tcp_os_hint_fwd" || name == "tcp_os_hint_bwd" {
				want = "unknown"
			}
			if v.S != want {
				t.Errorf("%s = %q, want %q", name, v.S, want)
			}
		}
	}
}

// bSub returns a-b computed in float64 at run time (a constant expression
// such as 1.1-1.0 is exact in Go and would not match a float64 subtraction).
func bSub(a, b float64) float64 { return a - b }
