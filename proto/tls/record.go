package tls

// RecordHeader checks the 5-byte TLS record header at the start of b: a
// content type of 20 to 23, protocol version 0x0300 to 0x0304 and a
// payload length of 1 to MaxRecordLen. It returns the content type and the
// payload length.
func RecordHeader(b []byte) (typ uint8, n int, ok bool) {
	if len(b) < 5 || b[0] < ContentChangeCipherSpec || b[0] > ContentApplicationData || b[1] != 3 || b[2] > 4 {
		return 0, 0, false
	}
	n = int(u16(b[3:]))
	if n == 0 || n > MaxRecordLen {
		return 0, 0, false
	}
	return b[0], n, true
}

// Reader returns the handshake messages carried by the TLS records at the
// start of a reassembled stream, in order, joining messages that span
// records and records that hold several messages.
//
// It stops at the first record whose header does not validate, at a record
// other than a handshake record (after ChangeCipherSpec the handshake is
// encrypted; application data and alerts end the plaintext handshake) and at
// the end of the bytes. A final record cut short by the end of the bytes
// still yields the messages complete within it.
type Reader struct {
	data []byte // records not read yet
	cur  []byte // handshake bytes read but not returned
	own  bool   // cur is a buffer of the Reader's (a message spans records)
	stop bool
}

// NewReader returns a Reader over the records at the start of data.
func NewReader(data []byte) Reader { return Reader{data: data} }

// Next returns the next complete handshake message: its type and its body
// (without the 4-byte handshake header). A body aliases the input, or a
// buffer allocated for a message that spans records; it stays valid after
// later calls.
func (r *Reader) Next() (typ uint8, body []byte, ok bool) {
	for {
		if len(r.cur) >= 4 {
			n := u24(r.cur[1:])
			if 4+n <= len(r.cur) {
				typ, body = r.cur[0], r.cur[4:4+n:4+n]
				r.cur = r.cur[4+n:]
				if len(r.cur) == 0 {
					r.own = false
				}
				return typ, body, true
			}
		}
		if !r.nextRecord() {
			return 0, nil, false
		}
	}
}

// nextRecord appends the payload of the next handshake record to cur.
func (r *Reader) nextRecord() bool {
	if r.stop {
		return false
	}
	typ, n, ok := RecordHeader(r.data)
	if !ok || typ != ContentHandshake {
		r.stop = true
		return false
	}
	p := r.data[5:]
	if n <= len(p) {
		p = p[:n]
	} else {
		r.stop = true // the stream ends inside this record
	}
	r.data = r.data[5+len(p):]
	switch {
	case len(r.cur) == 0:
		r.cur, r.own = p, false
	case r.own:
		r.cur = append(r.cur, p...)
	default:
		buf := make([]byte, 0, len(r.cur)+len(p))
		buf = append(buf, r.cur...)
		r.cur, r.own = append(buf, p...), true
	}
	return true
}
