package extractors

import (
	"math"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/doh"
	"github.com/jjsql/jjsql/proto/tls"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{
		ID: "fingerprint",
		// The payload is read only for the server name of flows to port 443.
		Needs:   flows.NeedBase | flows.NeedPayload,
		Compute: computeFingerprint,
	})
}

// Scores of the DoH rules.
const (
	dohNameScore  = 0.6
	dohAddrScore  = 0.35
	dohLikely     = 0.35
	torLikely     = 0.5
	vpnLikely     = 0.4
	torCellShare  = 0.7 // share of Tor-cell sized packets (strictly above)
	torUniformCV  = 0.1
	vpnLargeShare = 0.5 // share of 1400-1500 byte packets (strictly above)
)

// computeFingerprint fills the fingerprint group (SEMANTICS.md,
// fingerprint): the Tor, VPN and DoH scores and the traffic label.
func computeFingerprint(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	sc := getPadScratch()
	defer putPadScratch(sc)
	n := len(f.Base)

	// Tor.
	tor := 0.0
	if n > 0 {
		if float64(torCells(f))/float64(n) > torCellShare {
			tor += 0.4
		}
		mean, variance := sizeMoments(f, sc)
		cv := 1.0
		if mean > 0 {
			cv = math.Sqrt(variance) / mean
		}
		if cv < torUniformCV {
			tor += 0.3
		}
	}
	switch f.RespPort {
	case 443, 9001, 9030, 9050, 9051:
		tor += 0.1
	}

	vpn, vpnType := vpnScore(f)
	dohScore := dohConfidence(f)

	label := "encrypted"
	switch {
	case tor >= torLikely:
		label = "tor"
	case vpn >= vpnLikely && vpnType != "":
		label = "vpn:" + vpnType
	case vpn >= vpnLikely:
		label = "vpn"
	case dohScore >= dohLikely:
		label = "doh"
	}

	w := out[:0]
	w = append(w,
		schema.BoolV(tor >= torLikely),
		schema.RealV(min(tor, 1)),
		schema.BoolV(vpn >= vpnLikely),
		schema.RealV(min(vpn, 1)),
		schema.TextV(vpnType),
		schema.BoolV(dohScore >= dohLikely),
		schema.RealV(min(dohScore, 1)),
		schema.TextV(label),
	)
	return checkFilled("fingerprint", w, out)
}

// vpnScore returns the VPN score before capping and the label of the last
// rule that matched, the rules added in JoyfulJay's order.
func vpnScore(f *flows.Flow) (float64, string) {
	c, typ := 0.0, ""
	udp := f.Proto == 17
	if udp && (f.RespPort == 1194 || f.InitPort == 1194) {
		c, typ = c+0.5, "openvpn"
	}
	if udp && f.RespPort == 51820 {
		c, typ = c+0.5, "wireguard"
	}
	switch f.Proto {
	case 50:
		c, typ = c+0.7, "ipsec-esp"
	case 51:
		c, typ = c+0.7, "ipsec-ah"
	}
	if udp && (f.RespPort == 500 || f.RespPort == 4500) {
		c, typ = c+0.4, "ipsec-ike"
	}
	if udp && f.RespPort == 1701 {
		c, typ = c+0.4, "l2tp"
	}
	if n := len(f.Base); n > 0 {
		large := 0
		for i := range f.Base {
			if l := f.Base[i].IPLen; l >= 1400 && l <= 1500 {
				large++
			}
		}
		if float64(large)/float64(n) > vpnLargeShare {
			c += 0.2
		}
	}
	return c, typ
}

// dohConfidence returns the DoH score before capping. POLICY.md asks for
// DoH to be recognised by resolver name and address as well (JoyfulJay's
// server-name path never runs), so on responder port 443:
//   - a TCP or QUIC ClientHello naming a known resolver (doh.IsResolverName)
//     scores 0.6, +0.1 if the flow lasts under 1 s, +0.1 if it has under 20
//     packets: the rule of JoyfulJay's server-name path;
//   - otherwise a known resolver address (doh.IsResolverAddr) scores 0.35
//     with the same two additions, so that it is always likely_doh;
//   - otherwise, for TCP, JoyfulJay's behavioural score (dohBehaviour).
func dohConfidence(f *flows.Flow) float64 {
	if f.RespPort != 443 || (f.Proto != 6 && f.Proto != 17) {
		return 0
	}
	base := 0.0
	switch {
	case doh.IsResolverName(helloServerName(f)):
		base = dohNameScore
	case doh.IsResolverAddr(f.RespAddr()):
		base = dohAddrScore
	case f.Proto == 6:
		return dohBehaviour(f)
	default:
		return 0
	}
	c := base
	if f.Last-f.First < 1.0 {
		c += 0.1
	}
	if f.Packets < 20 {
		c += 0.1
	}
	return c
}

// dohBehaviour is JoyfulJay's behavioural DoH score of a TCP flow.
func dohBehaviour(f *flows.Flow) float64 {
	nf, nb := f.PacketsFwd, f.PacketsBwd()
	if f.Packets > 15 || nf < 2 || nb < 2 || nf-nb > 3 || nb-nf > 3 {
		return 0
	}
	var maxFwd uint32
	var bytesFwd, bytesBwd int64
	for i := range f.Base {
		b := &f.Base[i]
		if b.Fwd {
			maxFwd = max(maxFwd, b.IPLen)
			bytesFwd += int64(b.IPLen)
		} else {
			bytesBwd += int64(b.IPLen)
		}
	}
	if maxFwd > 600 || bytesFwd > 2000 || bytesBwd > 5000 {
		return 0
	}
	c := 0.0
	if bytesFwd > 0 {
		if r := float64(bytesBwd) / float64(bytesFwd); r > 0.5 && r < 10 {
			c += 0.15
		}
	}
	if f.Last-f.First < 0.5 {
		c += 0.15
	}
	if nf <= 6 && nb <= 6 {
		c += 0.1
	}
	return c
}

// helloServerName returns the server name of the flow's ClientHello: over
// TCP the first reassembled stream holding one (as the tls group reads
// tls_sni), over UDP the one decrypted from QUIC Initial packets. It is
// empty when there is none.
func helloServerName(f *flows.Flow) string {
	switch f.Proto {
	case 6:
		for dir := 0; dir < 2; dir++ {
			if h, _, ok := tls.FindClientHello(f.App.Stream[dir].Data); ok {
				return h.SNI()
			}
		}
	case 17:
		var hs tlsHandshake
		tlsFromQUIC(f, &hs)
		if hs.hasHello {
			return hs.hello.SNI()
		}
	}
	return ""
}
