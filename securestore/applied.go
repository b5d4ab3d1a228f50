package securestore

import (
	"time"

	"go.etcd.io/bbolt"
)

// Applied stanzas. A recall, correction or reaction has no row of its own
// for the dedupe index (dedupe.go) to find again, yet it reaches a device up
// to three times: live, from a catch-up and from the archive tail's
// look-back. Applying one again replays an older state over a newer one (a
// withdrawn reaction back). Each one that carries an id its archive
// assigned (XEP-0359 stanza-id, the caller names the archive: the user's own
// bare JID, or a room) is recorded here in the transaction that records or
// applies it, and one already recorded is not applied again, by whichever
// path it comes.
//
// bucketApplied: HMAC('p', archive, stanza-id) -> period (8 B) of the
// stanza's time, so Purge drops the records with the period they belong to.
// Nothing in them is in clear but a period number. Created on first use:
// stores written before it have none and read as before.
var bucketApplied = []byte("apl")

const tagApplied = 'p'

// applyOnce reports whether the stanza (by, id) was already recorded as
// applied and, if not, records it inside tx. A stanza without both is
// never recorded (false: apply it).
func (s *Store) applyOnce(tx *bbolt.Tx, by, id string, at time.Time) (seen bool, err error) {
	if by == "" || id == "" {
		return false, nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketApplied)
	if err != nil {
		return false, err
	}
	key := s.mac(tagApplied, by, id)
	if b.Get(key) != nil {
		return true, nil
	}
	return false, b.Put(key, be64(s.periodOf(at)))
}

// unapply deletes, inside tx, the record of stanza (by, id): it was
// recorded but will not be applied (dropped unapplied).
func (s *Store) unapply(tx *bbolt.Tx, by, id string) error {
	b := tx.Bucket(bucketApplied)
	if b == nil || by == "" || id == "" {
		return nil
	}
	return b.Delete(s.mac(tagApplied, by, id))
}

// Applied reports whether the stanza id of archive by is recorded as
// applied.
func (s *Store) Applied(by, id string) (bool, error) {
	seen := false
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketApplied)
		seen = b != nil && b.Get(s.mac(tagApplied, by, id)) != nil
		return nil
	})
	return seen, err
}

// purgeApplied deletes, inside Purge's transaction, the records of stanzas
// whose period is purged.
func purgeApplied(tx *bbolt.Tx, purged map[uint64]bool) error {
	b := tx.Bucket(bucketApplied)
	if b == nil {
		return nil
	}
	var del [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) != 8 || purged[beUint64(v)] {
			del = append(del, clone(k))
		}
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
