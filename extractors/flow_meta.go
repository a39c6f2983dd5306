package extractors

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "flow_meta", Needs: flows.NeedSum, Compute: computeFlowMeta,
		Extra: []schema.Feature{{Name: "flow_id", Group: "flow_meta", Type: schema.Text, Profile: schema.Core,
			Doc: "JoyfulJay's flow id: first 32 hex digits of SHA-256(salt + the 5-tuple in canonical order), the same for both directions"}}})
}

// flow_stat bits (Tranalyzer's flowStat as JoyfulJay defines it; 0x20 is
// never set).
const (
	flowStatSYN      = 0x01 // a SYN without ACK, either direction
	flowStatSYNACK   = 0x02 // a SYN+ACK, either direction
	flowStatFINFwd   = 0x04 // a FIN from the initiator
	flowStatFINBwd   = 0x08 // a FIN from the responder
	flowStatRST      = 0x10 // any RST
	flowStatComplete = 0x40 // handshake seen and closed by FINs both ways or RST
)

// computeFlowMeta fills the flow_meta group: endpoints, times, packet and
// byte counters, rates, flow_stat and the header description.
func computeFlowMeta(f *flows.Flow, cfg *flows.Config, out []schema.Value) error {
	// Every value here is a sum over the flow's packets: Flow.Sum has them
	// all (past the record cap too), so the group keeps no per-packet records.
	t := &f.Sum
	bytesFwd, bytesBwd, payFwd, payBwd := t.BytesFwd, t.BytesBwd, t.PayloadFwd, t.PayloadBwd
	var stat int64
	if t.Handshake&flows.SawSYN != 0 {
		stat |= flowStatSYN
	}
	if t.Handshake&flows.SawSYNACK != 0 {
		stat |= flowStatSYNACK
	}
	if t.FlagsFwd&flows.FIN != 0 {
		stat |= flowStatFINFwd
	}
	if t.FlagsBwd&flows.FIN != 0 {
		stat |= flowStatFINBwd
	}
	if (t.FlagsFwd|t.FlagsBwd)&flows.RST != 0 {
		stat |= flowStatRST
	}
	if stat&(flowStatSYN|flowStatSYNACK) == flowStatSYN|flowStatSYNACK &&
		(stat&(flowStatFINFwd|flowStatFINBwd) == flowStatFINFwd|flowStatFINBwd || stat&flowStatRST != 0) {
		stat |= flowStatComplete
	}

	total := int64(f.Packets)
	pktFwd := int64(f.PacketsFwd)
	pktBwd := int64(f.PacketsBwd())
	totalBytes := bytesFwd + bytesBwd
	duration := f.Last - f.First

	src, dst := f.InitAddr().String(), f.RespAddr().String()
	id := flowID(cfg, f, src, dst)
	if cfg != nil && cfg.AnonymizeIPs {
		src = anonymizeIP(cfg.AnonymizationSalt, src)
		dst = anonymizeIP(cfg.AnonymizationSalt, dst)
	}
	className, classNum := portClass(f.RespPort)
	hdrDesc, numHdrs := headerDesc(f)

	w := out[:0]
	w = append(w,
		schema.TextV(src),
		schema.TextV(dst),
		schema.IntV(int64(f.InitPort)),
		schema.IntV(int64(f.RespPort)),
		schema.TextV(className),
		schema.IntV(classNum),
		schema.IntV(int64(f.Proto)),
		schema.RealV(f.First),
		schema.RealV(f.Last),
		schema.RealV(duration),
		schema.IntV(total),
		schema.IntV(pktFwd),
		schema.IntV(pktBwd),
		schema.IntV(totalBytes),
		schema.IntV(bytesFwd),
		schema.IntV(bytesBwd),
		schema.IntV(payFwd),
		schema.IntV(payBwd),
		schema.IntV(payFwd+payBwd),
		schema.RealV(ratioOrFirst(pktFwd, pktBwd)),
		schema.RealV(ratioOrFirst(bytesFwd, bytesBwd)),
		schema.RealV(ratePerSecond(total, duration)),
		schema.RealV(ratePerSecond(totalBytes, duration)),
		schema.RealV(divOrZero(float64(totalBytes), float64(total))),
		schema.RealV(f.First),
		schema.RealV(f.Last),
		schema.IntV(stat),
		schema.IntV(numHdrs),
		schema.TextV(hdrDesc),
		schema.TextV(id),
	)
	return checkFilled("flow_meta", w, out)
}

// flowID hashes the flow key the way JoyfulJay's include_flow_id does: the
// endpoint that sorts first (address text compared as a string, then port)
// comes first, then "ip_a:port_a:ip_b:port_b:protocol", prefixed by the
// anonymization salt.
func flowID(cfg *flows.Config, f *flows.Flow, a, b string) string {
	pa, pb := f.InitPort, f.RespPort
	if b < a || (b == a && pb < pa) {
		a, b, pa, pb = b, a, pb, pa
	}
	salt := ""
	if cfg != nil {
		salt = cfg.AnonymizationSalt
	}
	var buf [160]byte
	k := append(buf[:0], salt...)
	k = append(k, a...)
	k = append(k, ':')
	k = strconv.AppendUint(k, uint64(pa), 10)
	k = append(k, ':')
	k = append(k, b...)
	k = append(k, ':')
	k = strconv.AppendUint(k, uint64(pb), 10)
	k = append(k, ':')
	k = strconv.AppendUint(k, uint64(f.Proto), 10)
	sum := sha256.Sum256(k)
	return hex.EncodeToString(sum[:16])
}

// checkFilled reports an error unless w, built by appending to out[:0],
// filled exactly the whole of out (more values than len(out) would land in
// out's spare capacity or a new array, fewer would leave stale cells).
func checkFilled(group string, w, out []schema.Value) error {
	if len(w) != len(out) {
		return fmt.Errorf("extractors: %s: wrote %d values for %d columns", group, len(w), len(out))
	}
	return nil
}

// anonymizeIP returns the first 16 hex digits of sha256(salt + ip).
func anonymizeIP(salt, ip string) string {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte(ip))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))[:16]
}

// ratioOrFirst returns a/b, or a itself when b is 0.
func ratioOrFirst(a, b int64) float64 {
	if b > 0 {
		return float64(a) / float64(b)
	}
	return float64(a)
}

// perSecond returns n/duration, or n itself when duration is not positive.
func ratePerSecond(n int64, duration float64) float64 {
	if duration > 0 {
		return float64(n) / duration
	}
	return float64(n)
}

// divOrZero returns a/b, or 0 when b is 0.
func divOrZero(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// headerDescs are the common header descriptions, indexed by Ethernet,
// IPv6 and transport (TCP, UDP, ICMP), so that they cost no allocation.
var headerDescs = [2][2][3]string{
	{{"IP-TCP", "IP-UDP", "IP-ICMP"}, {"IP6-TCP", "IP6-UDP", "IP6-ICMP"}},
	{{"ETH-IP-TCP", "ETH-IP-UDP", "ETH-IP-ICMP"}, {"ETH-IP6-TCP", "ETH-IP6-UDP", "ETH-IP6-ICMP"}},
}

// headerDesc describes the first packet's layers: "ETH-" when it had an
// Ethernet header, "IP6" or "IP", then the transport by flow protocol
// ("-PROTO<n>" for protocols other than TCP, UDP and ICMP).
func headerDesc(f *flows.Flow) (string, int64) {
	eth, v6, n := 0, 0, int64(2)
	if f.FirstHasEth {
		eth, n = 1, 3
	}
	if f.IPv6 {
		v6 = 1
	}
	switch f.Proto {
	case 6:
		return headerDescs[eth][v6][0], n
	case 17:
		return headerDescs[eth][v6][1], n
	case 1:
		return headerDescs[eth][v6][2], n
	}
	prefix := headerDescs[eth][v6][0]
	return prefix[:len(prefix)-len("TCP")] + "PROTO" + strconv.Itoa(int(f.Proto)), n
}

// portClass names a responder port: the service of a well-known port, else
// "system" (< 1024, class 1), "registered" (< 49152, class 2) or "dynamic"
// (class 3). The service table is JoyfulJay's (Tranalyzer's port classes).
func portClass(port uint16) (string, int64) {
	switch port {
	case 20:
		return "ftp-data", 1
	case 21:
		return "ftp", 1
	case 22:
		return "ssh", 1
	case 23:
		return "telnet", 1
	case 25:
		return "smtp", 1
	case 53:
		return "dns", 1
	case 67, 68:
		return "dhcp", 1
	case 69:
		return "tftp", 1
	case 80:
		return "http", 1
	case 110:
		return "pop3", 1
	case 119:
		return "nntp", 1
	case 123:
		return "ntp", 1
	case 143:
		return "imap", 1
	case 161:
		return "snmp", 1
	case 162:
		return "snmp-trap", 1
	case 443:
		return "https", 1
	case 445:
		return "smb", 1
	case 465:
		return "smtps", 1
	case 514:
		return "syslog", 1
	case 587:
		return "smtp-submission", 1
	case 636:
		return "ldaps", 1
	case 853:
		return "dns-over-tls", 1
	case 993:
		return "imaps", 1
	case 995:
		return "pop3s", 1
	case 1080:
		return "socks", 2
	case 1194:
		return "openvpn", 2
	case 1433:
		return "mssql", 2
	case 1521:
		return "oracle", 2
	case 1723:
		return "pptp", 2
	case 3306:
		return "mysql", 2
	case 3389:
		return "rdp", 2
	case 5060:
		return "sip", 2
	case 5061:
		return "sips", 2
	case 5222:
		return "xmpp", 2
	case 5432:
		return "postgresql", 2
	case 5900:
		return "vnc", 2
	case 6379:
		return "redis", 2
	case 6667:
		return "irc", 2
	case 8080, 8888:
		return "http-alt", 2
	case 8443:
		return "https-alt", 2
	case 9000:
		return "php-fpm", 2
	case 9200:
		return "elasticsearch", 2
	case 27017:
		return "mongodb", 2
	}
	switch {
	case port < 1024:
		return "system", 1
	case port < 49152:
		return "registered", 2
	}
	return "dynamic", 3
}
