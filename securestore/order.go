package securestore

import (
	"bytes"
	"encoding/binary"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// Conversation ordering, in two parts (docs/STORE.md, "Messages, dedupe,
// ordering"):
//
//   - cix, the clustered index: HMAC(conv) | time | local id. Sorted per
//     conversation, so paging is one seek and a short walk.
//   - the tail: the dix entries (keyed by local id, each carrying
//     HMAC(conv) and time) of messages newer than the merge watermark
//     (meta "cix.merged", sealed). They are not in cix yet.
//
// An append writes only dix (at the right edge of its tree), so a batch that
// spans a hundred conversations does not dirty a hundred cix leaves. Once
// the tail holds mergeEvery messages, the append transaction that crossed the
// line copies the tail into cix in one go and moves the watermark: each
// conversation's cix leaf is then rewritten once per mergeEvery messages
// instead of once per batch. Readers merge the tail (at most mergeEvery +
// one batch entries, scanned in order) with cix.
//
// 512, not the 4,096 it was: the merge runs inside the append that crosses
// the line, so its cost lands on one message. At 4,096 that commit sorted
// and wrote 4,096 keys and ~107 pages (7 ms of CPU with fsync off, 24 ms
// with it against ~2 ms for an ordinary append; docs/BENCHMARKS.md,
// "Send → peer stored"), and every read of a conversation scanned up to
// 4,096 tail entries. At 512 the merge is an eighth of that, spread over
// eight times as many commits: the same keys are written in total, and only
// a conversation that appears in several chunks has its cix leaf rewritten
// more than once.
// A variable only so tests can exercise merges with small stores.
var mergeEvery uint64 = 512

var metaMerged = []byte("cix.merged")

// dix value: HMAC(conv)[:16] | order time ns (8, BE) | dedupe keys (16 each).
const dixHeader = macSize + 8

func orderNS(m *Message) uint64 {
	t := orderTime(m)
	ns := t.UnixNano()
	if ns < 0 || t.IsZero() {
		ns = 0
	}
	return uint64(ns)
}

func appendOrderKeyNS(k, convMAC []byte, ns, id uint64) []byte {
	k = append(k, convMAC...)
	k = binary.BigEndian.AppendUint64(k, ns)
	return binary.BigEndian.AppendUint64(k, id)
}

func checkDixEntry(k, v []byte) error {
	if len(k) != 8 || len(v) < dixHeader || (len(v)-dixHeader)%macSize != 0 {
		return corruptf("bad dedupe index entry")
	}
	return nil
}

// mergedUpTo returns the watermark: messages with local id <= it are in cix.
func (s *Store) mergedUpTo(tx *bbolt.Tx) (uint64, error) {
	p, err := s.getV1(tx, bucketMeta, metaMerged)
	if err == ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, n := binary.Uvarint(p)
	if n <= 0 {
		return 0, corruptf("bad merge watermark")
	}
	return v, nil
}

// tail calls fn with the order key of every tail entry of conv (all
// conversations if convMAC is nil), in local-id order. The key is valid
// only during the call: fn copies what it keeps.
func (s *Store) tail(tx *bbolt.Tx, convMAC []byte, fn func(okey []byte) error) error {
	w, err := s.mergedUpTo(tx)
	if err != nil {
		return err
	}
	var kb [macSize + 16]byte
	c := tx.Bucket(bucketDedupe).Cursor()
	for k, v := c.Seek(be64(w + 1)); k != nil; k, v = c.Next() {
		if err := checkDixEntry(k, v); err != nil {
			return err
		}
		if convMAC != nil && !bytes.Equal(v[:macSize], convMAC) {
			continue
		}
		if err := fn(appendOrderKeyNS(kb[:0], v[:macSize], beUint64(v[macSize:dixHeader]), beUint64(k))); err != nil {
			return err
		}
	}
	return nil
}

// mergeTail copies the tail into cix once it has mergeEvery entries.
func (a *appendTx) mergeTail() error {
	w, err := a.s.mergedUpTo(a.tx)
	if err != nil {
		return err
	}
	last := a.msgs.Sequence()
	if last < w+mergeEvery {
		return nil
	}
	t0 := time.Now()
	defer func() { a.s.txMerge = time.Since(t0) }()
	// The keys are cut from one buffer: a merge copies thousands.
	n := min(last-w, 1<<16)
	keys := make([][]byte, 0, n)
	buf := make([]byte, 0, int(n)*(macSize+16))
	if err := a.s.tail(a.tx, nil, func(okey []byte) error {
		if cap(buf)-len(buf) < len(okey) {
			buf = make([]byte, 0, 64*len(okey))
		}
		n := len(buf)
		buf = append(buf, okey...)
		keys = append(keys, buf[n:len(buf):len(buf)])
		return nil
	}); err != nil {
		return err
	}
	a.s.txMerged = len(keys)
	slices.SortFunc(keys, bytes.Compare) // one left-to-right pass over cix
	for _, k := range keys {
		if err := a.cix.Put(k, []byte{}); err != nil {
			return err
		}
	}
	return a.s.putV1(a.tx, bucketMeta, metaMerged, binary.AppendUvarint(nil, last))
}

// orderKeysBefore returns up to n order keys of conv below bound (all if
// bound is nil), newest first, from cix and the tail.
func (s *Store) orderKeysBefore(tx *bbolt.Tx, mac, bound []byte, n int) ([][]byte, error) {
	c := tx.Bucket(bucketConvIdx).Cursor()
	if bound == nil {
		bound = append(clone(mac), bytes.Repeat([]byte{0xff}, 16)...)
	}
	k, _ := c.Seek(bound)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	// n is the caller's page size, not a count of what exists: allocate for
	// what is read, not for n (Latest(conv, MaxInt) must not fault).
	keys := make([][]byte, 0, min(n, 64))
	for ; k != nil && bytes.HasPrefix(k, mac) && len(keys) < n; k, _ = c.Prev() {
		if len(k) != macSize+16 {
			return nil, corruptf("bad conversation index key")
		}
		keys = append(keys, clone(k))
	}
	err := s.tail(tx, mac, func(okey []byte) error {
		if bytes.Compare(okey, bound) < 0 {
			keys = append(keys, clone(okey))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b []byte) int { return bytes.Compare(b, a) })
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys, nil
}

// orderKeysAfter returns every order key of conv above key, from cix and the tail.
func (s *Store) orderKeysAfter(tx *bbolt.Tx, mac, key []byte) ([][]byte, error) {
	var keys [][]byte
	c := tx.Bucket(bucketConvIdx).Cursor()
	k, _ := c.Seek(key)
	if k != nil && bytes.Equal(k, key) {
		k, _ = c.Next()
	}
	for ; k != nil && bytes.HasPrefix(k, mac); k, _ = c.Next() {
		if len(k) != macSize+16 {
			return nil, corruptf("bad conversation index key")
		}
		keys = append(keys, clone(k))
	}
	err := s.tail(tx, mac, func(okey []byte) error {
		if bytes.Compare(okey, key) > 0 {
			keys = append(keys, clone(okey))
		}
		return nil
	})
	return keys, err
}
