package flows

// flowKey identifies a bidirectional flow: the two endpoints in canonical
// (byte-wise smaller first) order and the transport protocol. Ports are 0 for
// protocols without ports.
type flowKey struct {
	ipA, ipB     [16]byte
	portA, portB uint16
	proto        uint8
	v6           bool
}

func lessEndpoint(ipA [16]byte, portA uint16, ipB [16]byte, portB uint16) bool {
	for i := 0; i < 16; i++ {
		if ipA[i] != ipB[i] {
			return ipA[i] < ipB[i]
		}
	}
	return portA < portB
}

// keyOf returns the canonical key of p and whether p's sender is endpoint A.
func keyOf(p *Packet) (k flowKey, srcIsA bool) {
	k.proto = p.Proto
	k.v6 = p.IPVersion == 6
	if lessEndpoint(p.DstIP, p.DstPort, p.SrcIP, p.SrcPort) {
		k.ipA, k.portA, k.ipB, k.portB = p.DstIP, p.DstPort, p.SrcIP, p.SrcPort
		return k, false
	}
	k.ipA, k.portA, k.ipB, k.portB = p.SrcIP, p.SrcPort, p.DstIP, p.DstPort
	return k, true
}
