package extractors

import (
	"bytes"
	"fmt"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/quic"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "quic", Needs: flows.NeedPayload | flows.NeedHeads | flows.NeedBase, Compute: computeQUIC})
}

// computeQUIC fills the quic group (POLICY.md section 2: QUIC is detected by
// headers that validate, not by one bit).
//
// A UDP flow is QUIC when a client Initial packet of a known version opens
// with the Initial keys of RFC 9001 (v1, v2 of RFC 9369, drafts 22 to 34,
// mvfst, Google's Q050/T050/T051; a reserved version 0x?a?a?a?a with the keys
// of v1 or a draft), when a Google QUIC Q024-Q046 CHLO is read
// in clear with a matching message hash, or when the responder answers the
// client's first long-header packet with a Retry whose integrity tag (or ODCID)
// validates or with a Version Negotiation packet that echoes its connection
// IDs. Only the first 16 datagrams of each direction are kept for this
// (flows.MaxDatagrams); the per-packet counts read the first payload bytes of
// every packet (Flow.Heads).
//
//   - quic_version, quic_dcid_len, quic_scid_len: the first client Initial
//     that opened (else the client's first long-header packet);
//   - quic_pn_length: that packet's packet number length after header
//     protection removal (Google QUIC: the clear header's); 0 when only a
//     Retry or Version Negotiation exchange was seen;
//   - quic_initial_packets: packets of either direction whose first long
//     header is an Initial of its version (type bits 0 in v1, 1 in v2);
//     Google Q046 long headers with type bits 0 count too, earlier gQUIC
//     has no Initial packets; so do type-0 packets of a reserved version
//     (0x?a?a?a?a) when the flow's Initials of that version opened with the
//     keys of a version we know. A datagram counts once even when it
//     coalesces two Initials;
//   - quic_0rtt_detected: the client sent a 0-RTT packet carrying the DCID of
//     its Initial (coalesced after the Initial or in a later datagram);
//   - quic_retry_detected: a validated Retry;
//   - quic_spin_bit: the spin bit (0x20) of consecutive short-header packets
//     (first byte 0b01xxxxxx) differs at least once, as JoyfulJay;
//   - quic_sni, quic_alpn: the ClientHello's server_name and first ALPN
//     protocol (the CHLO's SNI tag for Google QUIC), read from the contiguous
//     CRYPTO data even when the hello is not complete.
//
// Other flows get the defaults.
func computeQUIC(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	out[0] = schema.BoolV(false)
	out[1] = schema.IntV(0)
	out[2] = schema.TextV("")
	out[3] = schema.IntV(0)
	out[4] = schema.IntV(0)
	out[5] = schema.IntV(0)
	out[6] = schema.IntV(0)
	out[7] = schema.BoolV(false)
	out[8] = schema.BoolV(false)
	out[9] = schema.BoolV(false)
	out[10] = schema.TextV("")
	out[11] = schema.TextV("")
	if f.Proto != 17 {
		return nil
	}
	var dirs [2][][]byte
	for d := 0; d < 2; d++ {
		for _, dg := range f.App.Datagrams[d] {
			dirs[d] = append(dirs[d], dg.Data)
		}
	}
	c := quic.Inspect(dirs)
	if !c.Detected {
		return nil
	}
	clientFwd := c.Client == 0
	var (
		initials int64
		zeroRTT  = c.ZeroRTT
		spin     bool
		prevSpin bool
		haveSpin bool
	)
	for i := range f.Heads {
		b := f.Heads[i].Bytes()
		if len(b) == 0 {
			continue
		}
		if s, ok := quic.SpinBit(b); ok {
			if haveSpin && s != prevSpin {
				spin = true
			}
			prevSpin, haveSpin = s, true
			continue
		}
		t, ver := quic.PeekType(b)
		switch {
		case t == quic.TypeInitial:
			initials++
		case t == quic.Type0RTT && i < len(f.Base) && f.Base[i].Fwd == clientFwd:
			zeroRTT = zeroRTT || sameCIDPrefix(b, c.DCID)
		case c.Google && ver == c.Version && b[0]&0xf3 == 0xc3 && b[0]&0x30 == 0:
			initials++ // Q046 long header of type 0
		case c.Grease != 0 && ver == c.Grease && b[0]&0x30 == 0:
			initials++ // a reserved version whose Initials opened with another version's keys
		}
	}
	out[0] = schema.BoolV(true)
	out[1] = schema.IntV(int64(c.Version))
	out[2] = schema.TextV(quicVersionString(c.Version))
	out[3] = schema.IntV(int64(c.DCIDLen))
	out[4] = schema.IntV(int64(c.SCIDLen))
	out[5] = schema.IntV(int64(c.PNLen))
	out[6] = schema.IntV(initials)
	out[7] = schema.BoolV(zeroRTT)
	out[8] = schema.BoolV(c.Retry)
	out[9] = schema.BoolV(spin)
	if alpn := c.ALPN(); len(alpn) > 0 {
		out[10] = schema.TextV(alpn[0])
	}
	out[11] = schema.TextV(c.ServerName())
	return nil
}

// sameCIDPrefix reports whether the long header in head (the first payload
// bytes of a packet) carries dcid, as far as the head shows it.
func sameCIDPrefix(head, dcid []byte) bool {
	if len(head) < 6 || int(head[5]) != len(dcid) {
		return false
	}
	shown := head[6:]
	if len(shown) > len(dcid) {
		shown = shown[:len(dcid)]
	}
	return bytes.Equal(shown, dcid[:len(shown)])
}

// quicVersionString names a QUIC version in JoyfulJay's format.
func quicVersionString(v uint32) string {
	switch {
	case v&0xffffff00 == 0xff000000:
		return fmt.Sprintf("QUIC draft-%d", v&0xff)
	case v == quic.V1:
		return "QUIC v1"
	case v == quic.V2:
		return "QUIC v2"
	}
	return fmt.Sprintf("Unknown (0x%08x)", v)
}
