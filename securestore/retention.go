package securestore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"go.etcd.io/bbolt"
)

const compactSuffix = ".compact"

// PurgeReport says what a Purge removed, for the audit log and the admin view.
type PurgeReport struct {
	Periods     int // period keys destroyed
	Messages    int
	Attachments int
}

// Purge applies retention: every period that ends at or before `before` loses
// its key and all its records (messages, their index entries, attachments,
// outbox entries) in one transaction. Then the file is compacted into a fresh
// file that replaces it, so no free page still holds a purged key or record.
// Without the period key, any copy of the old ciphertext that survives (an old
// backup, flash blocks not yet erased) cannot be opened.
func (s *Store) Purge(before time.Time) (PurgeReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep PurgeReport
	if s.db == nil {
		return rep, s.lockedErr()
	}
	cutoff := uint64(0) // periods < cutoff are purged
	if u := before.Unix(); u > 0 {
		cutoff = uint64(u / s.period)
	}
	purged := map[uint64]bool{}
	var delDedupe []dedupeKey
	var a *appendTx
	err := s.updateLocked(func(tx *bbolt.Tx) error {
		rep = PurgeReport{}
		clear(purged)
		pending := map[uint64]*periodKey{}
		keys := tx.Bucket(bucketKeys)
		kc := keys.Cursor()
		for k, _ := kc.First(); len(k) == 8 && beUint64(k) < cutoff; k, _ = kc.Next() {
			purged[beUint64(k)] = true
		}
		if len(purged) == 0 {
			return nil
		}
		convDec := map[string]int{}
		var delIn []bool
		convMACs := map[string][]byte{}
		outIDs := map[MessageID]bool{}
		var delMsg, delIdx [][]byte
		delDedupe = delDedupe[:0]
		msgs := tx.Bucket(bucketMsg)
		dix := tx.Bucket(bucketDedupe)
		c := msgs.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			env, err := decodeEnvelope(v)
			if err != nil {
				return err
			}
			if !purged[env.period] {
				continue
			}
			m, err := s.openMessage(tx, k, v, pending)
			if err != nil {
				return err
			}
			mac := convMACs[m.ConversationID]
			if mac == nil {
				mac = s.mac(tagConv, m.ConversationID)
				convMACs[m.ConversationID] = mac
			}
			delMsg = append(delMsg, clone(k))
			delIdx = append(delIdx, orderKey(mac, orderTime(&m), m.ID))
			dv := dix.Get(k)
			if dv != nil {
				if err := checkDixEntry(k, dv); err != nil {
					return err
				}
				dv = dv[dixHeader:]
			}
			for ; len(dv) > 0; dv = dv[macSize:] {
				delDedupe = append(delDedupe, toDedupeKey(dv[:macSize]))
			}
			delIn = append(delIn, m.Direction == Incoming)
			if m.Direction == Incoming {
				convDec[m.ConversationID]++
			}
			outIDs[m.ID] = true
		}
		rep.Messages = len(delMsg)
		// Unread counts: purged incoming messages after the read position no
		// longer count.
		a = s.beginAppend(tx)
		a.pending = pending
		for conv := range convDec {
			cs, err := a.conversation(conv)
			if err != nil {
				return err
			}
			n := 0
			for i, k := range delIdx {
				if delIn[i] && bytes.HasPrefix(k, cs.mac) && (cs.c.lastReadKey == nil || bytes.Compare(k, cs.c.lastReadKey) > 0) {
					n++
				}
			}
			if n > 0 {
				cs.c.Unread = max(cs.c.Unread-n, 0)
				cs.dirty = true
			}
		}
		if err := a.finish(); err != nil {
			return err
		}
		for _, d := range []struct {
			b    []byte
			keys [][]byte
		}{{bucketMsg, delMsg}, {bucketConvIdx, delIdx}, {bucketDedupe, delMsg}} {
			b := tx.Bucket(d.b)
			for _, k := range d.keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		if err := removeFromOutbox(tx, outIDs); err != nil {
			return err
		}
		// Attachments sealed under purged periods, and their id index.
		att, ati := tx.Bucket(bucketAttach), tx.Bucket(bucketAttachID)
		var delAtt, delAti [][]byte
		ac := att.Cursor()
		for k, v := ac.First(); k != nil; k, v = ac.Next() {
			env, err := decodeEnvelope(v)
			if err != nil {
				return err
			}
			if purged[env.period] {
				delAtt = append(delAtt, clone(k))
				if len(k) == 8+macSize {
					delAti = append(delAti, clone(k[8:]))
				}
			}
		}
		for _, k := range delAtt {
			if err := att.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range delAti {
			if err := ati.Delete(k); err != nil {
				return err
			}
		}
		rep.Attachments = len(delAtt)
		if _, err := purgeBlobs(tx, purged); err != nil {
			return err
		}
		for p := range purged {
			if err := keys.Delete(be64(p)); err != nil {
				return err
			}
		}
		rep.Periods = len(purged)
		return s.appendAudit(tx, AuditPurge, fmt.Sprintf("periods=%d messages=%d attachments=%d",
			rep.Periods, rep.Messages, rep.Attachments))
	})
	if err != nil {
		return PurgeReport{}, err
	}
	s.forgetKeys(purged)
	s.dedupe.forget(delDedupe)
	if a != nil {
		s.convs.publish(a.convs)
	}
	if rep.Periods == 0 {
		return rep, nil
	}
	s.sweepBlobsLocked(false)
	if err := s.compactLocked(); err != nil {
		return rep, fmt.Errorf("securestore: purge committed but compaction failed: %w", err)
	}
	s.log.Info("securestore: purged", "periods", rep.Periods, "messages", rep.Messages)
	return rep, nil
}

// compactLocked rewrites the live data into a fresh file in the same directory,
// fsyncs it, renames it over the store and fsyncs the directory. The old
// file's pages (including freed ones) go with its inode. Callers hold s.mu.
func (s *Store) compactLocked() error {
	tmp := s.path + compactSuffix
	os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, boltOptions(s.opts))
	if err != nil {
		return err
	}
	if err := s.checkFault(guard(func() error { return bbolt.Compact(dst, s.db, 64<<20) })); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := s.db.Close(); err != nil {
		return err
	}
	s.db = nil
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		// Reopen the original so the store stays usable.
		db, oerr := openBolt(s.path, s.opts)
		s.db = db
		if oerr != nil {
			return fmt.Errorf("%w; reopen: %v", err, oerr)
		}
		return err
	}
	syncDir(s.path)
	db, err := openBolt(s.path, s.opts)
	if err != nil {
		return err
	}
	s.db = db
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename or remove in path's directory durable. Windows has
// no directory fsync; NTFS journals the rename.
func syncDir(path string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
}
