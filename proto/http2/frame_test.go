package http2

import (
	"encoding/binary"
	"errors"
	"testing"
)

// fr appends one frame to b.
func fr(b []byte, typ FrameType, flags uint8, stream uint32, payload []byte) []byte {
	n := len(payload)
	b = append(b, byte(n>>16), byte(n>>8), byte(n), byte(typ), flags)
	b = binary.BigEndian.AppendUint32(b, stream)
	return append(b, payload...)
}

// settings returns a SETTINGS payload of id/value pairs.
func settings(kv ...uint32) []byte {
	var p []byte
	for i := 0; i+1 < len(kv); i += 2 {
		p = binary.BigEndian.AppendUint16(p, uint16(kv[i]))
		p = binary.BigEndian.AppendUint32(p, kv[i+1])
	}
	return p
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func zeros(n int) []byte { return make([]byte, n) }

// firstSettings is the SETTINGS frame every walk must begin with.
var firstSettings = fr(nil, TypeSettings, 0, 0, settings(SettingInitialWindowSize, 65535))

func TestWalkFrames(t *testing.T) {
	type want struct {
		types []FrameType
		err   error // nil, ErrTruncated or a FrameError sentinel
		next  int   // -1: len(data)
	}
	fs := firstSettings
	cases := []struct {
		name string
		data []byte
		max  uint32
		role Role
		want want
	}{
		{"settings only", fs, 0, Client, want{[]FrameType{TypeSettings}, nil, -1}},
		{"empty", nil, 0, Client, want{nil, nil, 0}},
		{"request", fr(fr(fr(fs, TypeWindowUpdate, 0, 0, u32(1<<20)), TypeHeaders, FlagEndHeaders|FlagEndStream, 1, []byte{0x82, 0x86, 0x84}), TypeSettings, FlagAck, 0, nil),
			0, Client, want{[]FrameType{TypeSettings, TypeWindowUpdate, TypeHeaders, TypeSettings}, nil, -1}},
		{"first not settings", fr(nil, TypeHeaders, FlagEndHeaders, 1, []byte{0x82}), 0, Client, want{nil, ErrFirstFrame, 0}},
		{"first is settings ack", fr(nil, TypeSettings, FlagAck, 0, nil), 0, Client, want{nil, ErrFirstFrame, 0}},
		{"tls application data record", []byte{0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4, 5}, 0, Server, want{nil, ErrFirstFrame, 0}},
		{"unknown type", fr(fs, 0x0b, 0, 0, nil), 0, Client, want{[]FrameType{TypeSettings}, ErrUnknownType, len(fs)}},
		{"extension types", fr(fr(fr(fs, TypeAltSvc, 0, 1, []byte{0, 0}), TypeOrigin, 0, 0, nil), TypePriorityUpdate, 0, 0, u32(1)),
			0, Server, want{[]FrameType{TypeSettings, TypeAltSvc, TypeOrigin, TypePriorityUpdate}, nil, -1}},
		{"altsvc origin too long", fr(fs, TypeAltSvc, 0, 0, []byte{0, 5, 'a'}), 0, Server, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"too large by default", fr(fs, TypeData, 0, 1, zeros(DefaultMaxFrameSize+1)), 0, Server, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"largest default", fr(fs, TypeData, 0, 1, zeros(DefaultMaxFrameSize)), 0, Server, want{[]FrameType{TypeSettings, TypeData}, nil, -1}},
		{"raised limit", fr(fs, TypeData, 0, 1, zeros(DefaultMaxFrameSize+1)), 1 << 20, Server, want{[]FrameType{TypeSettings, TypeData}, nil, -1}},
		{"data on stream 0", fr(fs, TypeData, 0, 0, []byte("x")), 0, Client, want{[]FrameType{TypeSettings}, ErrStreamID, len(fs)}},
		{"reserved bit ignored", fr(fs, TypeData, 0, 0x80000001, []byte("x")), 0, Client, want{[]FrameType{TypeSettings, TypeData}, nil, -1}},
		{"data padded", fr(fs, TypeData, FlagPadded, 1, []byte{2, 'x', 0, 0}), 0, Client, want{[]FrameType{TypeSettings, TypeData}, nil, -1}},
		{"data padding too long", fr(fs, TypeData, FlagPadded, 1, []byte{4, 'x', 0, 0}), 0, Client, want{[]FrameType{TypeSettings}, ErrPadding, len(fs)}},
		{"data padded empty", fr(fs, TypeData, FlagPadded, 1, nil), 0, Client, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"headers with priority", fr(fs, TypeHeaders, FlagEndHeaders|FlagPriority, 1, []byte{0, 0, 0, 0, 15, 0x82}), 0, Client, want{[]FrameType{TypeSettings, TypeHeaders}, nil, -1}},
		{"headers priority short", fr(fs, TypeHeaders, FlagEndHeaders|FlagPriority, 1, []byte{0, 0, 0, 0}), 0, Client, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"headers padded priority", fr(fs, TypeHeaders, FlagEndHeaders|FlagPriority|FlagPadded, 1, []byte{1, 0, 0, 0, 0, 15, 0}), 0, Client, want{[]FrameType{TypeSettings, TypeHeaders}, nil, -1}},
		{"headers padded priority overflow", fr(fs, TypeHeaders, FlagEndHeaders|FlagPriority|FlagPadded, 1, []byte{2, 0, 0, 0, 0, 15, 0}), 0, Client, want{[]FrameType{TypeSettings}, ErrPadding, len(fs)}},
		{"priority", fr(fs, TypePriority, 0, 3, []byte{0, 0, 0, 0, 200}), 0, Client, want{[]FrameType{TypeSettings, TypePriority}, nil, -1}},
		{"priority length", fr(fs, TypePriority, 0, 3, []byte{0, 0, 0, 0}), 0, Client, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"rst", fr(fs, TypeRSTStream, 0, 1, u32(8)), 0, Client, want{[]FrameType{TypeSettings, TypeRSTStream}, nil, -1}},
		{"rst on stream 0", fr(fs, TypeRSTStream, 0, 0, u32(8)), 0, Client, want{[]FrameType{TypeSettings}, ErrStreamID, len(fs)}},
		{"settings on a stream", fr(fs, TypeSettings, 0, 1, nil), 0, Client, want{[]FrameType{TypeSettings}, ErrStreamID, len(fs)}},
		{"settings odd length", fr(fs, TypeSettings, 0, 0, zeros(7)), 0, Client, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"settings ack with payload", fr(fs, TypeSettings, FlagAck, 0, zeros(6)), 0, Client, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"enable push 2", fr(fs, TypeSettings, 0, 0, settings(SettingEnablePush, 2)), 0, Client, want{[]FrameType{TypeSettings}, ErrSetting, len(fs)}},
		{"window too large", fr(fs, TypeSettings, 0, 0, settings(SettingInitialWindowSize, 1<<31)), 0, Client, want{[]FrameType{TypeSettings}, ErrSetting, len(fs)}},
		{"max frame size too small", fr(fs, TypeSettings, 0, 0, settings(SettingMaxFrameSize, 16383)), 0, Client, want{[]FrameType{TypeSettings}, ErrSetting, len(fs)}},
		{"max frame size too large", fr(fs, TypeSettings, 0, 0, settings(SettingMaxFrameSize, 1<<24)), 0, Client, want{[]FrameType{TypeSettings}, ErrSetting, len(fs)}},
		{"unknown setting ignored", fr(fs, TypeSettings, 0, 0, settings(0x4242, 7)), 0, Client, want{[]FrameType{TypeSettings, TypeSettings}, nil, -1}},
		{"push promise", fr(fs, TypePushPromise, FlagEndHeaders, 1, append(u32(2), 0x82)), 0, Server, want{[]FrameType{TypeSettings, TypePushPromise}, nil, -1}},
		{"push promise from client", fr(fs, TypePushPromise, FlagEndHeaders, 1, append(u32(2), 0x82)), 0, Client, want{[]FrameType{TypeSettings}, ErrPushRole, len(fs)}},
		{"push promise odd stream", fr(fs, TypePushPromise, FlagEndHeaders, 1, u32(3)), 0, Server, want{[]FrameType{TypeSettings}, ErrStreamID, len(fs)}},
		{"push promise short", fr(fs, TypePushPromise, FlagEndHeaders, 1, []byte{0, 0, 2}), 0, Server, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"ping", fr(fs, TypePing, 0, 0, zeros(8)), 0, Client, want{[]FrameType{TypeSettings, TypePing}, nil, -1}},
		{"ping on a stream", fr(fs, TypePing, 0, 1, zeros(8)), 0, Client, want{[]FrameType{TypeSettings}, ErrStreamID, len(fs)}},
		{"ping length", fr(fs, TypePing, 0, 0, zeros(7)), 0, Client, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"goaway", fr(fs, TypeGoAway, 0, 0, append(u32(1), 0, 0, 0, 0, 'd', 'b', 'g')), 0, Client, want{[]FrameType{TypeSettings, TypeGoAway}, nil, -1}},
		{"goaway short", fr(fs, TypeGoAway, 0, 0, u32(1)), 0, Client, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"window update length", fr(fs, TypeWindowUpdate, 0, 1, zeros(5)), 0, Client, want{[]FrameType{TypeSettings}, ErrFrameSize, len(fs)}},
		{"continuation", fr(fr(fs, TypeHeaders, 0, 1, []byte{0x82}), TypeContinuation, FlagEndHeaders, 1, []byte{0x84}),
			0, Client, want{[]FrameType{TypeSettings, TypeHeaders, TypeContinuation}, nil, -1}},
		{"continuation expected", fr(fr(fs, TypeHeaders, 0, 1, []byte{0x82}), TypeData, 0, 1, []byte("x")),
			0, Client, want{[]FrameType{TypeSettings, TypeHeaders}, ErrContinuation, len(fs) + 10}},
		{"continuation other stream", fr(fr(fs, TypeHeaders, 0, 1, []byte{0x82}), TypeContinuation, FlagEndHeaders, 3, []byte{0x84}),
			0, Client, want{[]FrameType{TypeSettings, TypeHeaders}, ErrContinuation, len(fs) + 10}},
		{"continuation alone", fr(fs, TypeContinuation, FlagEndHeaders, 1, []byte{0x84}), 0, Client, want{[]FrameType{TypeSettings}, ErrContinuation, len(fs)}},
		{"partial header", append(fs[:len(fs):len(fs)], 0, 0, 4, 4), 0, Client, want{[]FrameType{TypeSettings}, ErrTruncated, len(fs)}},
		{"cut payload counted", fr(fs, TypeData, 0, 1, zeros(100))[:len(fs)+9+40], 0, Server, want{[]FrameType{TypeSettings, TypeData}, ErrTruncated, len(fs) + 9 + 100}},
		{"cut settings", fs[:9+3], 0, Server, want{[]FrameType{TypeSettings}, ErrTruncated, len(fs)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := WalkFrames(tc.data, 0, tc.max, tc.role)
			var types []FrameType
			for _, f := range w.Frames {
				types = append(types, f.Type)
			}
			if len(types) != len(tc.want.types) {
				t.Fatalf("frames %v, want %v (err %v)", types, tc.want.types, w.Err)
			}
			for i := range types {
				if types[i] != tc.want.types[i] {
					t.Fatalf("frames %v, want %v", types, tc.want.types)
				}
			}
			if !errors.Is(w.Err, tc.want.err) || (tc.want.err == nil) != (w.Err == nil) {
				t.Errorf("err %v, want %v", w.Err, tc.want.err)
			}
			var fe *FrameError
			if errors.As(w.Err, &fe) && fe.Offset != w.Next {
				t.Errorf("FrameError offset %d, Next %d", fe.Offset, w.Next)
			}
			next := tc.want.next
			if next < 0 {
				next = len(tc.data)
			}
			if w.Next != next {
				t.Errorf("Next %d, want %d", w.Next, next)
			}
		})
	}
}

func TestWalkFramesFields(t *testing.T) {
	b := fr(firstSettings, TypeHeaders, FlagEndHeaders|FlagEndStream, 0x80000005, []byte{0x82})
	b = fr(b, TypePushPromise, FlagEndHeaders|FlagPadded, 5, append(append([]byte{3}, u32(0x80000004)...), 0x82, 0, 0, 0))
	b = fr(b, TypeSettings, 0, 0, settings(SettingMaxFrameSize, 20000, SettingMaxFrameSize, 1<<20, SettingMaxFrameSize, 17000))
	w := WalkFrames(b, 0, 0, Server)
	if w.Err != nil || len(w.Frames) != 4 {
		t.Fatalf("walk: %d frames, err %v", len(w.Frames), w.Err)
	}
	h := w.Frames[1]
	if h.Offset != len(firstSettings) || h.Length != 1 || h.Type != TypeHeaders || h.Flags != FlagEndHeaders|FlagEndStream || h.Stream != 5 || h.Cut {
		t.Errorf("HEADERS frame %+v", h)
	}
	if p := w.Frames[2]; p.Promised != 4 || p.Stream != 5 {
		t.Errorf("PUSH_PROMISE promised %d on stream %d, want 4 on 5", p.Promised, p.Stream)
	}
	if w.MaxFrameSize != 1<<20 {
		t.Errorf("MaxFrameSize %d, want %d", w.MaxFrameSize, 1<<20)
	}
	// Starting inside the data, and outside it.
	if w := WalkFrames(append([]byte("junk"), firstSettings...), 4, 0, Client); len(w.Frames) != 1 || w.Err != nil || w.Frames[0].Offset != 4 {
		t.Errorf("walk from 4: %+v", w)
	}
	if w := WalkFrames(firstSettings, len(firstSettings)+1, 0, Client); len(w.Frames) != 0 || !errors.Is(w.Err, ErrTruncated) {
		t.Errorf("walk from past the end: %+v", w)
	}
}

func TestFrameTypeString(t *testing.T) {
	for _, tc := range []struct {
		t    FrameType
		want string
	}{{TypeData, "DATA"}, {TypeWindowUpdate, "WINDOW_UPDATE"}, {TypePriorityUpdate, "PRIORITY_UPDATE"}, {0x0b, "0x0b"}} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("FrameType(%d).String() = %q, want %q", tc.t, got, tc.want)
		}
	}
}
