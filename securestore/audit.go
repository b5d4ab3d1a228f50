package securestore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Audit entry kinds. Details never carry PHI: counts and reasons only.
const (
	AuditCreated         = "created"
	AuditSignIn          = "sign-in"
	AuditUnlockFailed    = "unlock-failed"
	AuditPINChanged      = "pin-changed"
	AuditKeyringEnabled  = "keyring-enabled"
	AuditKeyringDisabled = "keyring-disabled"
	AuditExport          = "export"
	AuditRecall          = "recall"
	AuditPurge           = "purge"
	AuditWipe            = "wipe"
	// AuditRejected: the sync engine dropped stanzas that claimed what their
	// source cannot say (a room's archive speaking for a colleague, say).
	AuditRejected = "rejected"
)

// AuditEntry is one line of the local audit log. Hash covers Prev, Seq, Time,
// Kind and Detail, so editing, deleting or reordering entries breaks the chain.
type AuditEntry struct {
	Seq    uint64
	Time   time.Time
	Kind   string
	Detail string
	Prev   [32]byte
	Hash   [32]byte
}

var metaAuditHead = []byte("audit.head")

func (e *AuditEntry) computeHash() [32]byte {
	w := writer{b: []byte("rounds/audit/v1")}
	w.b = append(w.b, e.Prev[:]...)
	w.b = binary.BigEndian.AppendUint64(w.b, e.Seq)
	w.time(e.Time)
	w.str(e.Kind)
	w.str(e.Detail)
	return sha256.Sum256(w.b)
}

func encodeAudit(e *AuditEntry) []byte {
	w := writer{}
	w.u8(payloadV1)
	w.uvarint(e.Seq)
	w.time(e.Time)
	w.str(e.Kind)
	w.str(e.Detail)
	w.b = append(w.b, e.Prev[:]...)
	w.b = append(w.b, e.Hash[:]...)
	return w.b
}

func decodeAudit(b []byte) (AuditEntry, error) {
	r := reader{b: b}
	v := r.u8()
	if v != payloadV1 {
		return AuditEntry{}, payloadErr("audit", &reader{err: errShort}, v)
	}
	var e AuditEntry
	e.Seq = r.uvarint()
	e.Time = r.time()
	e.Kind = r.str()
	e.Detail = r.str()
	if len(r.b) != 64 {
		return AuditEntry{}, corruptf("audit: bad hash fields")
	}
	copy(e.Prev[:], r.b[:32])
	copy(e.Hash[:], r.b[32:])
	r.b = nil
	return e, payloadErr("audit", &r, v)
}

// head is the sealed (count, last hash) pair, so deleting the newest entries
// is detected too.
func (s *Store) auditHead(tx *bbolt.Tx) (uint64, [32]byte, error) {
	var h [32]byte
	v, err := s.getV1(tx, bucketMeta, metaAuditHead)
	if err == ErrNotFound {
		return 0, h, nil
	}
	if err != nil {
		return 0, h, err
	}
	if len(v) != 40 {
		return 0, h, corruptf("audit head has wrong size")
	}
	copy(h[:], v[8:])
	return binary.BigEndian.Uint64(v[:8]), h, nil
}

func (s *Store) appendAudit(tx *bbolt.Tx, kind, detail string) error {
	n, prev, err := s.auditHead(tx)
	if err != nil {
		return err
	}
	e := AuditEntry{Seq: n + 1, Time: s.opts.Now().UTC(), Kind: kind, Detail: detail, Prev: prev}
	e.Hash = e.computeHash()
	if err := s.putV1(tx, bucketAudit, be64(e.Seq), encodeAudit(&e)); err != nil {
		return err
	}
	return s.putV1(tx, bucketMeta, metaAuditHead, append(be64(e.Seq), e.Hash[:]...))
}

// Audit appends an entry to the audit log (sign-in, export, recall, ...).
// detail must not contain PHI.
func (s *Store) Audit(kind, detail string) error {
	if kind == "" {
		return fmt.Errorf("%w: empty audit kind", ErrInvalid)
	}
	return s.update(func(tx *bbolt.Tx) error { return s.appendAudit(tx, kind, detail) })
}

// AuditLog returns all entries, oldest first. It does not verify the chain.
func (s *Store) AuditLog() ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
			pt, err := s.openV1(bucketAudit, k, v)
			if err != nil {
				return err
			}
			e, err := decodeAudit(pt)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// VerifyAudit checks the whole chain: sequence numbers contiguous from 1,
// each entry's Prev equal to the previous Hash, each Hash recomputed, and the
// last entry matching the sealed head. Any failure wraps ErrAuditBroken.
func (s *Store) VerifyAudit() error {
	return s.view(func(tx *bbolt.Tx) error {
		n, head, err := s.auditHead(tx)
		if err != nil {
			return fmt.Errorf("%w: head: %w", ErrAuditBroken, err)
		}
		var prev [32]byte
		var seq uint64
		err = tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
			seq++
			if len(k) != 8 || beUint64(k) != seq {
				return fmt.Errorf("%w: entry %d missing or out of place", ErrAuditBroken, seq)
			}
			pt, err := s.openV1(bucketAudit, k, v)
			if err != nil {
				return fmt.Errorf("%w: entry %d: %w", ErrAuditBroken, seq, err)
			}
			e, err := decodeAudit(pt)
			if err != nil {
				return fmt.Errorf("%w: entry %d: %w", ErrAuditBroken, seq, err)
			}
			if e.Seq != seq || e.Prev != prev || e.computeHash() != e.Hash {
				return fmt.Errorf("%w: entry %d does not chain", ErrAuditBroken, seq)
			}
			prev = e.Hash
			return nil
		})
		if err != nil {
			return err
		}
		if seq != n || !bytes.Equal(prev[:], head[:]) {
			return fmt.Errorf("%w: log ends at %d, head says %d", ErrAuditBroken, seq, n)
		}
		return nil
	})
}
