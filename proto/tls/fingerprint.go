package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// AppendJA3 appends h's JA3 string to dst: the decimal legacy version, then
// the cipher suites, extension types, supported groups and EC point
// formats, each list joined by '-', the five fields joined by ','. GREASE
// values (RFC 8701) are left out of the suites, extensions and groups.
// An SSLv2 hello has no JA3: dst is returned unchanged.
func (h *ClientHello) AppendJA3(dst []byte) []byte {
	if h.SSLv2 {
		return dst
	}
	dst = strconv.AppendUint(dst, uint64(h.Version), 10)
	dst = append(dst, ',')
	dst = appendDecimals(dst, h.CipherSuites)
	dst = append(dst, ',')
	dst = appendExtensionTypes(dst, h.Extensions)
	dst = append(dst, ',')
	dst = appendDecimals(dst, h.Groups)
	dst = append(dst, ',')
	for i, f := range h.PointFormats {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = strconv.AppendUint(dst, uint64(f), 10)
	}
	return dst
}

// JA3 returns the lowercase hex MD5 of h's JA3 string, or "" for an SSLv2
// hello.
func (h *ClientHello) JA3() string {
	if h.SSLv2 {
		return ""
	}
	var buf [1024]byte
	return md5Hex(h.AppendJA3(buf[:0]))
}

// AppendJA3S appends s's JA3S string to dst: the decimal legacy version, the
// chosen cipher suite and the extension types joined by '-', the three
// fields joined by ','. GREASE extension types are left out.
func (s *ServerHello) AppendJA3S(dst []byte) []byte {
	dst = strconv.AppendUint(dst, uint64(s.Version), 10)
	dst = append(dst, ',')
	dst = strconv.AppendUint(dst, uint64(s.CipherSuite), 10)
	dst = append(dst, ',')
	dst = appendExtensionTypes(dst, s.Extensions)
	return dst
}

// appendExtensionTypes appends the decimal types of the extensions in the
// block ext, GREASE left out, joined by '-'.
func appendExtensionTypes(dst, ext []byte) []byte {
	sep := false
	for b := ext; len(b) >= 4; {
		typ, n := u16(b), int(u16(b[2:]))
		if !IsGREASE(typ) {
			if sep {
				dst = append(dst, '-')
			}
			dst = strconv.AppendUint(dst, uint64(typ), 10)
			sep = true
		}
		if 4+n > len(b) {
			break
		}
		b = b[4+n:]
	}
	return dst
}

// JA3S returns the lowercase hex MD5 of s's JA3S string.
func (s *ServerHello) JA3S() string {
	var buf [256]byte
	return md5Hex(s.AppendJA3S(buf[:0]))
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// appendDecimals appends the non-GREASE 16-bit values of list (wire form)
// in decimal, joined by '-'.
func appendDecimals(dst, list []byte) []byte {
	sep := false
	for i := 0; i+1 < len(list); i += 2 {
		v := u16(list[i:])
		if IsGREASE(v) {
			continue
		}
		if sep {
			dst = append(dst, '-')
		}
		dst = strconv.AppendUint(dst, uint64(v), 10)
		sep = true
	}
	return dst
}

// Transport prefixes of JA4.
const (
	JA4TCP  = 't'
	JA4QUIC = 'q'
	JA4DTLS = 'd'
)

// JA4 returns h's JA4 fingerprint (FoxIO's JA4 TLS client specification):
// the readable part (transport, version, SNI, counts, ALPN), then 12 hex
// digits of the SHA-256 of the sorted cipher suites and 12 of the sorted
// extensions (SNI and ALPN left out) followed by the signature algorithms
// in their order. GREASE values are ignored everywhere. transport is
// JA4TCP, JA4QUIC or JA4DTLS. An SSLv2 hello has no JA4: the result is "".
func (h *ClientHello) JA4(transport byte) string { return h.ja4(transport, false) }

// JA4R returns the raw form of h's JA4 (FoxIO's JA4_r): the same readable
// part followed by the sorted cipher list, the sorted extension list and the
// signature algorithms, unhashed.
func (h *ClientHello) JA4R(transport byte) string { return h.ja4(transport, true) }

func (h *ClientHello) ja4(transport byte, raw bool) string {
	if h.SSLv2 {
		return ""
	}
	var cs, es [128]uint16
	ciphers := cs[:0]
	for i := 0; i+1 < len(h.CipherSuites); i += 2 {
		if v := u16(h.CipherSuites[i:]); !IsGREASE(v) {
			ciphers = append(ciphers, v)
		}
	}
	exts := es[:0]
	nExt := 0
	for b := h.Extensions; len(b) >= 4; {
		typ, n := u16(b), int(u16(b[2:]))
		if !IsGREASE(typ) {
			nExt++
			if typ != ExtServerName && typ != ExtALPN {
				exts = append(exts, typ)
			}
		}
		if 4+n > len(b) {
			break
		}
		b = b[4+n:]
	}
	slices.Sort(ciphers)
	slices.Sort(exts)

	var buf [2048]byte
	out := buf[:0]
	out = append(out, transport)
	out = append(out, h.ja4Version()...)
	if h.HasServerName {
		out = append(out, 'd')
	} else {
		out = append(out, 'i')
	}
	out = appendCount(out, len(ciphers))
	out = appendCount(out, nExt)
	out = appendALPNChars(out, h.FirstALPN())
	out = append(out, '_')

	// b: the cipher list; c: the extension list, '_', signature algorithms.
	bStart := len(out)
	out = appendHexList(out, ciphers)
	bEnd := len(out)
	out = append(out, '_')
	cStart := len(out)
	out = appendHexList(out, exts)
	cList := len(out)
	sigs := false
	for i := 0; i+1 < len(h.SignatureAlgorithms); i += 2 {
		v := u16(h.SignatureAlgorithms[i:])
		if IsGREASE(v) {
			continue
		}
		if sigs {
			out = append(out, ',')
		} else {
			out = append(out, '_')
			sigs = true
		}
		out = appendHex16(out, v)
	}
	if raw {
		return string(out)
	}
	var res [36]byte
	n := copy(res[:], out[:bStart])
	n += hashPart(res[n:], out[bStart:bEnd], len(ciphers) == 0)
	res[n] = '_'
	n++
	n += hashPart(res[n:], out[cStart:], cList == cStart)
	return string(res[:n])
}

// hashPart writes the first 12 hex digits of the SHA-256 of s to dst, or
// twelve zeros when the list is empty.
func hashPart(dst, s []byte, empty bool) int {
	if empty {
		return copy(dst, "000000000000")
	}
	sum := sha256.Sum256(s)
	hex.Encode(dst[:12], sum[:6])
	return 12
}

// ja4Version is the 2-character version of JA4: the highest non-GREASE
// supported_versions value if the extension lists one, else the legacy
// version.
func (h *ClientHello) ja4Version() string {
	v := h.Version
	var best uint16
	for i := 0; i+1 < len(h.SupportedVersions); i += 2 {
		if sv := u16(h.SupportedVersions[i:]); !IsGREASE(sv) && sv > best {
			best = sv
		}
	}
	if best != 0 {
		v = best
	}
	switch v {
	case VersionTLS13:
		return "13"
	case VersionTLS12:
		return "12"
	case VersionTLS11:
		return "11"
	case VersionTLS10:
		return "10"
	case VersionSSL3:
		return "s3"
	case VersionSSL2:
		return "s2"
	case VersionDTLS10:
		return "d1"
	case VersionDTLS12:
		return "d2"
	case VersionDTLS13:
		return "d3"
	}
	return "00"
}

func appendCount(dst []byte, n int) []byte {
	n = min(n, 99)
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

// appendALPNChars appends JA4's two ALPN characters: the first and last
// characters of the first ALPN value when both are alphanumeric, else the
// first and last hex digits of the value; "00" without a value.
func appendALPNChars(dst, alpn []byte) []byte {
	if len(alpn) == 0 {
		return append(dst, '0', '0')
	}
	first, last := alpn[0], alpn[len(alpn)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(dst, first, last)
	}
	const digits = "0123456789abcdef"
	return append(dst, digits[first>>4], digits[last&0x0f])
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func appendHexList(dst []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendHex16(dst, v)
	}
	return dst
}

func appendHex16(dst []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	return append(dst, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
}
