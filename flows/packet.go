package flows

// Packet is one decoded frame: the fields of its innermost IP header and
// transport header, plus the outer link layer. A Packet is filled in place by
// Decoder.Decode and reused for the next frame: Payload and TCPOptions point
// into the reader's buffer and are valid only until the next call to Next.
type Packet struct {
	// Capture record.
	File     int     // index of the input file (0 for the first)
	Index    uint64  // 1-based frame number within the file (counts every record, IP or not)
	TS       float64 // capture time, seconds since the epoch, as the nearest float64
	TSSec    int64   // capture time, whole seconds
	TSNsec   int64   // capture time, nanoseconds within the second
	CapLen   int     // bytes captured
	WireLen  int     // bytes on the wire
	LinkType uint16  // link type of the record's interface
	Offset   int64   // byte offset of the record in the (decompressed) file

	// Link layer (outermost Ethernet header, if any).
	HasEth    bool
	SrcMAC    [6]byte
	DstMAC    [6]byte
	EthType   uint16 // the outer Ethernet type field (0x8100 when 802.1Q tagged); 0 without Ethernet
	HasVLAN   bool
	VLANID    uint16 // VID of the first 802.1Q/802.1ad tag
	VLANCount uint8  // number of VLAN tags
	Tunnel    Tunnel // outermost tunnel the packet was found in (TunnelNone if none)

	// Network layer (innermost IP header).
	IPVersion    uint8    // 4 or 6
	SrcIP, DstIP [16]byte // IPv4 addresses in the first 4 bytes, rest zero
	Proto        uint8    // transport protocol, after IPv6 extension headers
	FirstNH      uint8    // IPv6: the first Next Header value (JoyfulJay's protocol); IPv4: Proto
	IPLen        int      // IPv4 Total Length; IPv6 Payload Length + 40
	IPHdrLen     int      // IPv4 header length, or 40 + extension headers for IPv6
	TTL          uint8    // TTL or hop limit
	TOS          uint8    // IPv4 TOS byte (0 for IPv6)
	IPID         uint32   // IPv4 identification; IPv6 fragment identification
	IPFlags      uint8    // IPv4 3-bit flags: MF=1, DF=2, reserved=4
	FlowLabel    uint32   // IPv6 flow label (20 bits)
	TrafficClass uint8    // IPv6 traffic class
	FragOffset   uint16   // fragment offset in 8-byte units
	MoreFrags    bool     // MF flag (IPv4) or M flag (IPv6 fragment header)
	IsFragment   bool     // the datagram is fragmented (offset > 0 or more fragments)

	// Transport layer.
	SrcPort, DstPort uint16
	HasTCP           bool
	TCPFlags         uint8 // FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128
	Seq, Ack         uint32
	Window           uint16
	TCPHdrLen        int
	TCPOptions       []byte // raw option bytes (valid until the next packet)
	Opts             TCPOpts
	HasUDP           bool
	HasICMP          bool // ICMPv4
	HasICMPv6        bool
	ICMPType         uint8
	ICMPCode         uint8
	ICMPID           uint16 // echo identifier (0 for other types)
	ICMPSeq          uint16 // echo sequence (0 for other types)

	// Payload: PayloadLen is the declared transport payload length (from the
	// IP and transport headers, never counting link padding); Payload is the
	// part of it that was captured.
	PayloadLen int
	Payload    []byte
	Truncated  bool // the record was cut short by the snapshot length
	Malformed  bool // a transport header was malformed; it is decoded as far as it makes sense
}

// TCP flag bits.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
	URG = 0x20
	ECE = 0x40
	CWR = 0x80
)

// TCPOpts are the parsed TCP options of one segment. If an option repeats,
// the last occurrence wins.
type TCPOpts struct {
	HasMSS     bool
	MSS        uint16
	HasWS      bool
	WS         uint8
	SACKOK     bool
	HasTS      bool
	TSVal      uint32
	TSEcr      uint32
	SACKBlocks uint8  // SACK blocks over all SACK options
	MPTCPCount uint8  // number of MPTCP (kind 30) options
	MPTCPSub   uint16 // bit n set when an MPTCP option of subtype n is present
	Kinds      uint64 // bit k set when option kind k (< 64) is present
}

// Tunnel names an encapsulation a packet was found inside.
type Tunnel uint8

const (
	TunnelNone Tunnel = iota
	TunnelIPinIP
	TunnelGRE
	TunnelERSPAN
	TunnelVXLAN
	TunnelGENEVE
	TunnelGTPU
	TunnelTeredo
)

func (t Tunnel) String() string {
	switch t {
	case TunnelIPinIP:
		return "ipip"
	case TunnelGRE:
		return "gre"
	case TunnelERSPAN:
		return "erspan"
	case TunnelVXLAN:
		return "vxlan"
	case TunnelGENEVE:
		return "geneve"
	case TunnelGTPU:
		return "gtpu"
	case TunnelTeredo:
		return "teredo"
	}
	return ""
}

// Reset clears p for reuse.
func (p *Packet) Reset() { *p = Packet{} }
