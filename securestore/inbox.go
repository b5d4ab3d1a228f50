package securestore

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// The locked inbox (docs/STORE.md, "Locked inbox"): while the app is locked
// the store is closed and its keys are gone, yet the session stays up. What
// arrives then is sealed to the store's receive key, an X25519 key pair whose
// private half lives in the store sealed under the master key, and appended
// to a sibling file, <store>.inbox. Only the public half is needed to write
// there, so a locked device can receive without being able to read what it
// received, or anything else. At unlock the store opens the entries with the
// private half; the caller merges them and then discards the file.
//
// The inbox is a file of its own rather than a bucket of the store so that
// the locked process never has the store file open: the store's unlock,
// wrong-PIN count and wipe keep their one path, and a bug in the locked
// listener cannot reach a record.

const (
	inboxSuffix = ".inbox"
	// inboxPad: every entry's plaintext is padded to a multiple of this many
	// bytes before sealing, so the file shows sizes only in 1 KiB steps.
	inboxPad = 1024
	// maxInboxEntry bounds one entry (the session's frame limit is lower).
	maxInboxEntry = 16 << 20
)

var (
	bucketInboxMeta = []byte("meta")
	bucketInboxQ    = []byte("q")
	inboxMetaGen    = []byte("gen")
	metaReceiveKey  = []byte("recv") // in the store's meta bucket: the private half
)

var (
	// ErrInboxClosed is returned by Put after Close.
	ErrInboxClosed = errors.New("securestore: locked inbox is closed")
	// ErrInboxFull is returned by Put when the inbox file has reached
	// Options.MaxInbox: nothing more is sealed until the unlock.
	ErrInboxFull = errors.New("securestore: locked inbox is full")
)

// ReceiveKey returns the public half of the store's receive key pair,
// creating the pair on first use (stores made before the locked inbox get
// theirs at their first unlock).
func (s *Store) ReceiveKey() ([]byte, error) {
	priv, err := s.receivePrivate(true)
	if err != nil {
		return nil, err
	}
	defer zero(priv)
	pub, err := curve25519.X25519(priv, curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("securestore: receive key: %w", err)
	}
	return pub, nil
}

// receivePrivate reads the private half (create: make it if missing).
func (s *Store) receivePrivate(create bool) ([]byte, error) {
	var priv []byte
	err := s.view(func(tx *bbolt.Tx) error {
		v, err := s.getV1(tx, bucketMeta, metaReceiveKey)
		if err == nil {
			priv = v
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil || priv != nil || !create {
		if priv != nil && len(priv) != 32 {
			return nil, corruptf("receive key has %d bytes", len(priv))
		}
		return priv, err
	}
	err = s.update(func(tx *bbolt.Tx) error {
		v, err := s.getV1(tx, bucketMeta, metaReceiveKey)
		if err == nil {
			priv = v
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		priv = randomBytes(32)
		return s.putV1(tx, bucketMeta, metaReceiveKey, priv)
	})
	if err == nil && len(priv) != 32 {
		return nil, corruptf("receive key has %d bytes", len(priv))
	}
	return priv, err
}

// Inbox is the locked inbox of one store, open for appending while the
// store is locked. It holds the public half of the receive key only.
type Inbox struct {
	mu  sync.Mutex
	db  *bbolt.DB
	pub [32]byte
	n   int
	max int64 // Options.MaxInbox
}

// InboxPath is the locked inbox file beside the store at storePath.
func InboxPath(storePath string) string { return storePath + inboxSuffix }

// OpenInbox opens (creating if needed) the locked inbox beside the store at
// storePath, for sealing entries to pub (ReceiveKey's answer, taken from the
// store before it was locked: the public key is not read from disk, where
// anyone with the file could swap it for their own).
func OpenInbox(storePath string, pub []byte, opts Options) (*Inbox, error) {
	opts = opts.withDefaults()
	if len(pub) != 32 {
		return nil, fmt.Errorf("%w: receive key has %d bytes", ErrInvalid, len(pub))
	}
	path := InboxPath(storePath)
	var db *bbolt.DB
	if _, err := os.Stat(path); err == nil {
		if db, err = openBolt(path, opts); err != nil {
			return nil, err
		}
	} else {
		var e error
		if e = guard(func() error {
			var err error
			db, err = bbolt.Open(path, 0o600, boltOptions(opts))
			return mapBoltErr(err)
		}); e != nil {
			return nil, e
		}
	}
	q := &Inbox{db: db, max: opts.MaxInbox}
	copy(q.pub[:], pub)
	err := guard(func() error {
		return db.Update(func(tx *bbolt.Tx) error {
			m, err := tx.CreateBucketIfNotExists(bucketInboxMeta)
			if err != nil {
				return err
			}
			if m.Get(inboxMetaGen) == nil {
				if err := m.Put(inboxMetaGen, randomBytes(16)); err != nil {
					return err
				}
			}
			b, err := tx.CreateBucketIfNotExists(bucketInboxQ)
			if err != nil {
				return err
			}
			q.n = b.Stats().KeyN
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return q, nil
}

// Put seals entry to the receive key and appends it; when Put returns nil
// the entry is on disk (fsync), so the caller may acknowledge it.
func (q *Inbox) Put(entry []byte) error {
	if len(entry) > maxInboxEntry {
		return fmt.Errorf("%w: inbox entry of %d bytes", ErrInvalid, len(entry))
	}
	sealed, err := box.SealAnonymous(nil, padInbox(entry), &q.pub, rand.Reader)
	if err != nil {
		return fmt.Errorf("securestore: sealing inbox entry: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.db == nil {
		return ErrInboxClosed
	}
	err = guard(func() error {
		return q.db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketInboxQ)
			if b == nil {
				return corruptf("inbox without queue")
			}
			if tx.Size()+int64(len(sealed)) > q.max {
				return ErrInboxFull
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			return b.Put(be64(seq), sealed)
		})
	})
	if err == nil {
		q.n++
	}
	return err
}

// Len is how many entries wait in the inbox.
func (q *Inbox) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Close closes the inbox file; what was put stays for the unlock.
func (q *Inbox) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.db == nil {
		return nil
	}
	err := q.db.Close()
	q.db = nil
	return err
}

// padInbox: a 4-byte length, the entry, zeros up to a multiple of inboxPad.
func padInbox(entry []byte) []byte {
	n := 4 + len(entry)
	n = (n + inboxPad - 1) / inboxPad * inboxPad
	out := make([]byte, n)
	binary.BigEndian.PutUint32(out, uint32(len(entry)))
	copy(out[4:], entry)
	return out
}

func unpadInbox(p []byte) ([]byte, bool) {
	if len(p) < 4 {
		return nil, false
	}
	n := binary.BigEndian.Uint32(p)
	if uint64(n) > uint64(len(p)-4) {
		return nil, false
	}
	return p[4 : 4+n], true
}

// InboxEntry is one opened entry of the locked inbox, in arrival order.
type InboxEntry struct {
	Seq  uint64
	Data []byte
}

// LockedInbox is what the locked inbox beside this store holds and is not
// merged yet: its generation (a random id, new for every inbox file, which
// names the merge cursor) and its entries after the cursor, opened with the
// receive key. Entries that do not open (damaged, or sealed to another key)
// are counted in damaged and skipped. No file: no entries, no error.
func (s *Store) LockedInbox() (gen string, entries []InboxEntry, damaged int, err error) {
	path := InboxPath(s.path)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nil, 0, nil
	}
	priv, err := s.receivePrivate(false)
	if err != nil {
		return "", nil, 0, err
	}
	if priv == nil {
		// No key was ever made, so nothing can have been sealed to it.
		return "", nil, 0, corruptf("locked inbox without a receive key")
	}
	defer zero(priv)
	var sk, pk [32]byte
	copy(sk[:], priv)
	defer zero(sk[:])
	p, err := curve25519.X25519(priv, curve25519.Basepoint)
	if err != nil {
		return "", nil, 0, err
	}
	copy(pk[:], p)
	db, err := openBolt(path, s.opts)
	if err != nil {
		return "", nil, 0, err
	}
	defer db.Close()
	var merged uint64
	err = guard(func() error {
		return db.View(func(tx *bbolt.Tx) error {
			m, b := tx.Bucket(bucketInboxMeta), tx.Bucket(bucketInboxQ)
			if m == nil || b == nil {
				return corruptf("locked inbox without its buckets")
			}
			g := m.Get(inboxMetaGen)
			if len(g) != 16 {
				return corruptf("locked inbox generation")
			}
			gen = fmt.Sprintf("%x", g)
			var err error
			if merged, err = s.InboxMerged(gen); err != nil {
				return err
			}
			return b.ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					damaged++
					return nil
				}
				if beUint64(k) <= merged {
					return nil
				}
				plain, ok := box.OpenAnonymous(nil, v, &pk, &sk)
				if !ok {
					damaged++
					return nil
				}
				data, ok := unpadInbox(plain)
				if !ok {
					damaged++
					return nil
				}
				entries = append(entries, InboxEntry{Seq: beUint64(k), Data: clone(data)})
				zero(plain)
				return nil
			})
		})
	})
	if err != nil {
		return "", nil, 0, err
	}
	return gen, entries, damaged, nil
}

// DiscardLockedInbox removes the locked inbox file once its entries are
// merged (the merge cursor says how far, so a crash before this call merges
// nothing twice). gen must name the file merged: an inbox made since (a new
// lock) is left alone.
func (s *Store) DiscardLockedInbox(gen string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	path := InboxPath(s.path)
	db, err := openBolt(path, s.opts)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var cur string
	_ = guard(func() error {
		return db.View(func(tx *bbolt.Tx) error {
			if m := tx.Bucket(bucketInboxMeta); m != nil {
				cur = fmt.Sprintf("%x", m.Get(inboxMetaGen))
			}
			return nil
		})
	})
	db.Close()
	if cur != gen {
		return nil
	}
	return removeInbox(s.path)
}

// checkOpen is ErrLocked (or ErrWiped) when the store is closed.
func (s *Store) checkOpen() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return s.lockedErr()
	}
	return nil
}

// removeInbox deletes the locked inbox file. Its entries are sealed boxes,
// so there is nothing readable to overwrite first.
func removeInbox(storePath string) error {
	err := os.Remove(InboxPath(storePath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	syncDir(storePath)
	return err
}

// inboxCursor names the merge cursor of inbox generation gen (a cursor
// record like an archive's: sealed, under an HMAC key).
func inboxCursor(gen string) string { return "rounds/locked-inbox/" + gen }

// InboxMerged is the last entry of inbox generation gen merged into the
// store (0: none).
func (s *Store) InboxMerged(gen string) (uint64, error) {
	v, err := s.Cursor(inboxCursor(gen))
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, corruptf("locked inbox cursor")
	}
	return n, nil
}

// AppendFromInbox stores the messages of inbox entry seq of generation gen
// and moves the merge cursor past it in the same transaction, so a crash
// merges each entry exactly once. batch may be empty (an entry that stores
// no message: a receipt, a marker, a duplicate).
func (s *Store) AppendFromInbox(batch []Message, gen string, seq uint64) ([]Message, error) {
	return s.AppendMessagesWithCursor(batch, inboxCursor(gen), strconv.FormatUint(seq, 10))
}
