package securestore

import (
	"encoding/binary"
	"sync"

	"go.etcd.io/bbolt"
)

// The dedupe index answers "is this stanza-id / origin-id already stored in
// this conversation, and as which message?".
//
// On disk it is the append-only bucket dix: key = local id (8 B, big-endian,
// so a batch appends at the right edge of the tree and touches one or two
// leaf pages), value = HMAC(conv)[:16] | order time (the ordering tail, see
// order.go) followed by the message's dedupe keys, each
// HMAC(tag, conv, id)[:16] (tag 's' for stanza-ids, 'o' for origin-ids in
// any sender's scope) or HMAC('O', conv, sender, id)[:16] (an origin-id in
// its sender's scope, ExtraSender; written since the trust review, issue
// #11; entries written before carry 's' and 'o' only and are still read).
// Several messages may own one 'o' or 'O' key (a sender's id reused for a
// different text): the newest wins in the map.
// Nothing in them is in clear but the time, which cix shows anyway.
//
// In memory it is a map from dedupe key to local id, built by one cursor scan
// of dix on first use after unlock (the first append, lookup or SetStanzaID),
// and then kept in step by the write transactions: entries are published only
// after a commit (under Store.wmu, so the next writer sees them), never by a
// transaction that rolls back. A hit is always confirmed against the sealed
// message record, so an edited dix (it is not authenticated) can hide nothing
// and redirect nothing.
type dedupeIndex struct {
	mu    sync.RWMutex
	built bool
	m     map[dedupeKey]MessageID
}

type dedupeKey [macSize]byte

func toDedupeKey(b []byte) (k dedupeKey) {
	copy(k[:], b)
	return k
}

// ensure builds the map from tx (read or write) if it is not built yet.
func (d *dedupeIndex) ensure(tx *bbolt.Tx) error {
	d.mu.RLock()
	built := d.built
	d.mu.RUnlock()
	if built {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.built {
		return nil
	}
	b := tx.Bucket(bucketDedupe)
	if b == nil {
		return corruptf("missing bucket %q", bucketDedupe)
	}
	// Size hint: two keys per message ever appended (the msg bucket's
	// sequence), capped; counting the keys would walk every page.
	hint := uint64(0)
	if mb := tx.Bucket(bucketMsg); mb != nil {
		hint = min(2*mb.Sequence(), 1<<22)
	}
	m := make(map[dedupeKey]MessageID, hint)
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := checkDixEntry(k, v); err != nil {
			return err
		}
		id := MessageID(binary.BigEndian.Uint64(k))
		for v = v[dixHeader:]; len(v) > 0; v = v[macSize:] {
			m[toDedupeKey(v[:macSize])] = id
		}
	}
	d.m, d.built = m, true
	return nil
}

// lookup returns the message that owns key, if any. The map must be built.
func (d *dedupeIndex) lookup(key []byte) (MessageID, bool) {
	return d.lookupKey(toDedupeKey(key))
}

func (d *dedupeIndex) lookupKey(key dedupeKey) (MessageID, bool) {
	d.mu.RLock()
	id, ok := d.m[key]
	d.mu.RUnlock()
	return id, ok
}

// publish adds committed entries. Entries for a map that is not built yet are
// dropped: the build will read them from the file.
func (d *dedupeIndex) publish(add map[dedupeKey]MessageID) {
	if len(add) == 0 {
		return
	}
	d.mu.Lock()
	if d.built {
		for k, id := range add {
			d.m[k] = id
		}
	}
	d.mu.Unlock()
}

// dedupeEntry is one key of a purged message.
type dedupeEntry struct {
	k  dedupeKey
	id MessageID
}

// forget removes committed deletions (Purge). A key that now names a newer
// message (two messages may share the unscoped origin key) stays.
func (d *dedupeIndex) forget(del []dedupeEntry) {
	d.mu.Lock()
	if d.built {
		for _, e := range del {
			if d.m[e.k] == e.id {
				delete(d.m, e.k)
			}
		}
	}
	d.mu.Unlock()
}

func (d *dedupeIndex) reset() {
	d.mu.Lock()
	d.m, d.built = nil, false
	d.mu.Unlock()
}

func (d *dedupeIndex) len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.m)
}
