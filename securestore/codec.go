package securestore

import (
	"encoding/binary"
	"errors"
	"time"
)

// The payload codec: a tiny append-only binary writer and a bounds-checked
// reader with a sticky error. It is several times faster than gob or JSON
// (see docs/BENCHMARKS.md) and, being hand-written, never panics on hostile
// bytes: every length is checked against what is left.

var errShort = errors.New("payload truncated or malformed")

// maxCount bounds element counts (map entries, groups, members) read from a
// payload, so a corrupt length cannot trigger a huge allocation.
const maxCount = 1 << 16

type writer struct{ b []byte }

func (w *writer) u8(v uint8)       { w.b = append(w.b, v) }
func (w *writer) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) bytes(v []byte) {
	w.uvarint(uint64(len(v)))
	w.b = append(w.b, v...)
}
func (w *writer) str(v string) {
	w.uvarint(uint64(len(v)))
	w.b = append(w.b, v...)
}

// time encodes 0 for the zero time, else Unix nanoseconds (+1 so the epoch
// itself stays distinguishable from "unset").
func (w *writer) time(t time.Time) {
	if t.IsZero() {
		w.varint(0)
		return
	}
	n := t.UnixNano()
	if n >= 0 {
		n++
	}
	w.varint(n)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShort
	}
	r.b = nil
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) raw() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	v := r.raw()
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

func (r *reader) str() string { return string(r.raw()) }

func (r *reader) count() int {
	n := r.uvarint()
	if n > maxCount || n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) time() time.Time {
	n := r.varint()
	if n == 0 {
		return time.Time{}
	}
	if n > 0 {
		n--
	}
	return time.Unix(0, n).UTC()
}

// done reports an error if decoding failed or bytes were left over.
func (r *reader) done() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return errors.New("trailing bytes in payload")
	}
	return nil
}
