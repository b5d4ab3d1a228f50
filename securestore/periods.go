package securestore

import (
	"crypto/cipher"
	"time"

	"go.etcd.io/bbolt"
)

// periodKey is the key that seals every message (and attachment) whose
// timestamp falls in one retention period. Deleting it is what makes Purge a
// crypto-shred: ciphertext left in free pages cannot be opened afterwards.
type periodKey struct {
	key  []byte
	aead cipher.AEAD
}

// periodOf maps a time to its period number: whole periods since the Unix
// epoch, so with the default 24h a period is exactly one UTC day.
func (s *Store) periodOf(t time.Time) uint64 {
	u := t.Unix()
	if u < 0 {
		return 0
	}
	return uint64(u / s.period)
}

// periodEnd is the first instant after period p.
func (s *Store) periodEnd(p uint64) time.Time {
	return time.Unix(int64(p+1)*s.period, 0).UTC()
}

// periodAEAD returns the cipher of period p, unwrapping it from the keys
// bucket or, when create is set (write transactions), making a new one. New
// keys go to pending and join the cache only after the transaction commits,
// so a rolled-back key is never used for a later record.
func (s *Store) periodAEAD(tx *bbolt.Tx, p uint64, pending map[uint64]*periodKey) (cipher.AEAD, error) {
	if k := pending[p]; k != nil {
		return k.aead, nil
	}
	s.keysMu.Lock()
	k := s.periodKeys[p]
	s.keysMu.Unlock()
	if k != nil {
		return k.aead, nil
	}
	key := be64(p)
	raw, err := s.getV1(tx, bucketKeys, key)
	if err == ErrNotFound && pending != nil {
		k = &periodKey{key: randomBytes(keySize)}
		k.aead = newAEAD(k.key)
		if err := s.putV1(tx, bucketKeys, key, k.key); err != nil {
			return nil, err
		}
		pending[p] = k
		return k.aead, nil
	}
	if err != nil {
		if err == ErrNotFound {
			return nil, corruptf("period key missing (purged or deleted)")
		}
		return nil, err
	}
	if len(raw) != keySize {
		return nil, corruptf("period key has wrong size")
	}
	k = &periodKey{key: raw, aead: newAEAD(raw)}
	if pending != nil {
		// Read inside a write transaction: committed already, but keep the
		// cache rule simple and publish after commit.
		pending[p] = k
		return k.aead, nil
	}
	s.keysMu.Lock()
	if s.periodKeys != nil {
		s.periodKeys[p] = k
	}
	s.keysMu.Unlock()
	return k.aead, nil
}

// publishKeys adds keys made or read during a committed write transaction.
func (s *Store) publishKeys(pending map[uint64]*periodKey) {
	if len(pending) == 0 {
		return
	}
	s.keysMu.Lock()
	for p, k := range pending {
		s.periodKeys[p] = k
	}
	s.keysMu.Unlock()
}

// forgetKeys drops purged keys from the cache and zeroes them.
func (s *Store) forgetKeys(periods map[uint64]bool) {
	s.keysMu.Lock()
	for p := range periods {
		if k := s.periodKeys[p]; k != nil {
			zero(k.key)
			delete(s.periodKeys, p)
		}
	}
	s.keysMu.Unlock()
}
