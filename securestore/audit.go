package securestore

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
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
	// AuditUnreadable: a message arrived that could not be read (too large,
	// malformed) and a placeholder stands for it; the detail holds its ids,
	// sender, reason and size.
	AuditUnreadable = "unreadable-message"
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
// is detected too. An older head is not kept anywhere in the file (free
// pages are scrubbed after each append), and where the store has a keyring
// slot the keyring anchor catches an older copy of the file (docs/STORE.md).
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
	if err := s.putV1(tx, bucketMeta, metaAuditHead, append(be64(e.Seq), e.Hash[:]...)); err != nil {
		return err
	}
	// After commit: the previous head now sits in a free page; it must not
	// stay there for someone with the file to put back (scrubAuditHistory),
	// and the keyring anchor moves on.
	anchored := tx.Bucket(bucketHeader).Get(hdrKeyringSlot) != nil
	tx.OnCommit(func() {
		s.auditScrub.Store(true)
		if anchored {
			s.writeAuditAnchor(e.Seq, e.Hash)
		}
	})
	return nil
}

// scrubAuditHistory overwrites the free pages after a committed audit
// append, so the file holds no older sealed audit head (or older copy of
// the header) that could be restored after deleting the newest entries. It
// runs at the end of every public call that appends to the audit log, under
// the exclusive lock (no transaction open). Failures are logged: the entry
// is committed, and the next append scrubs again.
func (s *Store) scrubAuditHistory() {
	if !s.auditScrub.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil || !s.auditScrub.Swap(false) {
		return
	}
	if _, err := s.scrubFreePagesLocked(); err != nil {
		s.auditScrub.Store(true)
		s.log.Warn("securestore: scrubbing free pages after an audit entry failed", "err", err)
	}
}

// The keyring anchor: where the store has a keyring slot, every audit append
// also files (count, head hash, HMAC) in the OS keyring under the store id +
// auditAnchorSuffix. The keyring lives outside the file, so restoring an
// older copy of the whole file (or of its pages) is detected by VerifyAudit
// as long as the keyring entry was not rolled back too.
const auditAnchorSuffix = ".audit"

func (s *Store) anchorMAC(count uint64, hash [32]byte) []byte {
	k := deriveSubkey(s.master, s.id, "rounds/audit-anchor/v1")
	defer zero(k)
	m := hmac.New(sha256.New, k)
	m.Write([]byte("rounds/audit-anchor/v1"))
	m.Write(s.id)
	m.Write(be64(count))
	m.Write(hash[:])
	return m.Sum(nil)
}

func (s *Store) writeAuditAnchor(count uint64, hash [32]byte) {
	v := append(be64(count), hash[:]...)
	v = append(v, s.anchorMAC(count, hash)...)
	if err := s.opts.Secrets.Set((&header{id: s.id}).idHex()+auditAnchorSuffix, v); err != nil {
		s.log.Warn("securestore: audit anchor not filed in the keyring", "err", err)
	}
}

// checkAuditAnchor compares the file's audit head with the keyring anchor.
// No anchor (no keyring slot, keyring unavailable, nothing filed yet) is
// not an error: the check then rests on the file alone.
func (s *Store) checkAuditAnchor(count uint64, hash [32]byte) error {
	v, err := s.opts.Secrets.Get((&header{id: s.id}).idHex() + auditAnchorSuffix)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrKeyringUnavailable) {
		return nil
	}
	if err != nil {
		s.log.Warn("securestore: audit anchor unreadable", "err", err)
		return nil
	}
	if len(v) != 8+32+32 {
		return fmt.Errorf("%w: the keyring's audit anchor is malformed", ErrAuditBroken)
	}
	var ah [32]byte
	copy(ah[:], v[8:40])
	ac := beUint64(v[:8])
	if !hmac.Equal(v[40:], s.anchorMAC(ac, ah)) {
		return fmt.Errorf("%w: the keyring's audit anchor does not verify", ErrAuditBroken)
	}
	switch {
	case ac > count:
		return fmt.Errorf("%w: rolled back: the keyring anchor records %d entries, the file has %d", ErrAuditBroken, ac, count)
	case ac == count && ah != hash:
		return fmt.Errorf("%w: rolled back: the last entry differs from the one the keyring anchor records", ErrAuditBroken)
	}
	// ac < count: the anchor lags (a crash between commit and keyring
	// write, or the keyring slot was added later). Nothing to conclude.
	return nil
}

// Audit appends an entry to the audit log (sign-in, export, recall, ...).
// detail must not contain PHI.
func (s *Store) Audit(kind, detail string) error {
	if kind == "" {
		return fmt.Errorf("%w: empty audit kind", ErrInvalid)
	}
	defer s.scrubAuditHistory()
	return s.update(func(tx *bbolt.Tx) error { return s.appendAudit(tx, kind, detail) })
}

// auditKey returns the store's audit signing key, made on first use and
// kept sealed under the data key (so only the master key opens it).
func (s *Store) auditKey(tx *bbolt.Tx) (ed25519.PrivateKey, error) {
	seed, err := s.getV1(tx, bucketMeta, metaAuditKey)
	if err == ErrNotFound && tx.Writable() {
		seed = randomBytes(ed25519.SeedSize)
		if err := s.putV1(tx, bucketMeta, metaAuditKey, seed); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, corruptf("audit key has wrong size")
	}
	defer zero(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

var metaAuditKey = []byte("audit.key")

// auditSignContext separates audit export signatures from any other use of
// the key.
const auditSignContext = "rounds/audit-export/v2\x00"

// SignAuditExport signs msg (an audit export's summary, built by the app)
// with the store's ed25519 audit key, prefixed with a fixed context string,
// and returns the public key with the signature. An auditor verifies with
// the public key alone, no PIN; the key's fingerprint is what must be
// compared with the one on record for the device.
func (s *Store) SignAuditExport(msg []byte) (ed25519.PublicKey, []byte, error) {
	var pub ed25519.PublicKey
	var sig []byte
	err := s.update(func(tx *bbolt.Tx) error {
		k, err := s.auditKey(tx)
		if err != nil {
			return err
		}
		defer zero(k)
		pub = clone(k.Public().(ed25519.PublicKey))
		sig = ed25519.Sign(k, append([]byte(auditSignContext), msg...))
		return nil
	})
	return pub, sig, err
}

// AuditPublicKey returns the public half of the audit signing key (made on
// first use), for the device's record and the audit screen.
func (s *Store) AuditPublicKey() (ed25519.PublicKey, error) {
	pub, _, err := s.SignAuditExport(nil)
	return pub, err
}

// VerifyAuditExportSignature checks a signature made by SignAuditExport.
func VerifyAuditExportSignature(pub ed25519.PublicKey, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, append([]byte(auditSignContext), msg...), sig)
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
		if tx.Bucket(bucketHeader).Get(hdrKeyringSlot) != nil {
			return s.checkAuditAnchor(n, head)
		}
		return nil
	})
}
