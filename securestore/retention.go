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
	// Failed are unsent messages (still in the outbox) found in an expired
	// period: they are marked failed with ReasonRetention and taken off the
	// outbox, and their period is kept (Held) until a later Purge, so the
	// user sees the failure before the message goes.
	Failed []MessageID
	// Held is how many expired periods were kept for such messages.
	Held int
	// CompactionPending: the purge is committed but its compaction has not
	// succeeded yet (recorded in the file; retried by every Purge and by
	// FinishPurge). Free pages were scrubbed already when Scrubbed is set.
	CompactionPending bool
	Scrubbed          bool
}

// ReasonRetention is the failure reason of a message that was never sent
// before its retention period ended: the user sees it on the message, and
// Purge removes the message only at a later run (unsentGrace).
const ReasonRetention = "not sent before its retention period ended; send it again if still needed"

// unsentGrace is how long a message failed by retention stays visible before
// a Purge may remove it (on the store's clock; a clock that jumps forward
// only shortens this, it never removes a message that was not failed first).
const unsentGrace = 24 * time.Hour

// metaCompactPending, when present in meta, says a purge committed and its
// compaction has not yet replaced the file: until then, old copies of the
// purged records and period keys may sit in free pages.
var metaCompactPending = []byte("compact.pending")

// compactFault, when set (tests), fails the compaction as a full disk would.
var compactFault func() error

// Purge applies retention: every period that ends at or before `before` loses
// its key and all its records (messages, their index entries, attachments)
// in one transaction, which also records that a compaction is pending. Then
// every free page of the file is overwritten with zeros in place (no extra
// disk space needed) and the file is compacted into a fresh file that
// replaces it; the pending mark goes only with a successful compaction, and
// every later Purge (or FinishPurge) retries until one succeeds.
//
// A period that holds an unsent message (in the outbox) is not destroyed: the
// message is failed with ReasonRetention and leaves the outbox, and the
// period goes at a later Purge at least unsentGrace after that. Purge never
// deletes a queued message silently, whatever the caller's clock says. A
// sent message whose recall or correction is still in the outbox keeps its
// period until that edit has gone.
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
	now := s.opts.Now().UTC()
	purged := map[uint64]bool{}
	var delDedupe []dedupeEntry
	var a *appendTx
	pendingCompaction := false
	err := s.updateLocked(func(tx *bbolt.Tx) error {
		rep = PurgeReport{}
		clear(purged)
		pending := map[uint64]*periodKey{}
		meta := tx.Bucket(bucketMeta)
		pendingCompaction = meta.Get(metaCompactPending) != nil
		keys := tx.Bucket(bucketKeys)
		kc := keys.Cursor()
		for k, _ := kc.First(); len(k) == 8 && beUint64(k) < cutoff; k, _ = kc.Next() {
			purged[beUint64(k)] = true
		}
		if len(purged) == 0 {
			return nil
		}
		outbox := map[MessageID]bool{}
		if err := tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			if len(v) == 8 {
				outbox[MessageID(beUint64(v))] = true
			}
			return nil
		}); err != nil {
			return err
		}
		// First pass: which expired periods must be held back for unsent
		// messages (failed now, or failed by retention too recently).
		type victim struct {
			k      []byte
			m      Message
			period uint64
		}
		var victims []victim
		var toFail []Message
		held := map[uint64]bool{}
		msgs := tx.Bucket(bucketMsg)
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
			switch {
			case outbox[m.ID] && m.Receipt.State > ReceiptQueued:
				// Sent, with a recall or correction still to go: the
				// recall protects the recipients' copies, so the period
				// waits for it (the next purge after it went).
				held[env.period] = true
			case outbox[m.ID]:
				toFail = append(toFail, m)
				held[env.period] = true
			case m.Receipt.State == ReceiptFailed && m.Receipt.Reason == ReasonRetention &&
				now.Before(m.Receipt.At[ReceiptFailed].Add(unsentGrace)):
				held[env.period] = true
			}
			victims = append(victims, victim{clone(k), m, env.period})
		}
		for p := range held {
			delete(purged, p)
		}
		rep.Held = len(held)
		failIDs := map[MessageID]bool{}
		for i := range toFail {
			m := &toFail[i]
			m.Receipt.advance(ReceiptFailed, now, ReasonRetention)
			if err := s.rewriteMessage(tx, m, pending); err != nil {
				return err
			}
			failIDs[m.ID] = true
			rep.Failed = append(rep.Failed, m.ID)
		}
		if err := removeFromOutbox(tx, failIDs); err != nil {
			return err
		}
		if len(purged) == 0 {
			return s.appendAudit(tx, AuditPurge, fmt.Sprintf("periods=0 messages=0 attachments=0 held=%d failed-unsent=%d",
				rep.Held, len(rep.Failed)))
		}
		convDec := map[string]int{}
		var delIn []bool
		convMACs := map[string][]byte{}
		var delMsg, delIdx [][]byte
		delDedupe = delDedupe[:0]
		dix := tx.Bucket(bucketDedupe)
		for _, vi := range victims {
			if !purged[vi.period] {
				continue
			}
			k, m := vi.k, vi.m
			mac := convMACs[m.ConversationID]
			if mac == nil {
				mac = s.mac(tagConv, m.ConversationID)
				convMACs[m.ConversationID] = mac
			}
			delMsg = append(delMsg, k)
			delIdx = append(delIdx, orderKey(mac, orderTime(&m), m.ID))
			dv := dix.Get(k)
			if dv != nil {
				if err := checkDixEntry(k, dv); err != nil {
					return err
				}
				dv = dv[dixHeader:]
			}
			for ; len(dv) > 0; dv = dv[macSize:] {
				delDedupe = append(delDedupe, dedupeEntry{toDedupeKey(dv[:macSize]), m.ID})
			}
			delIn = append(delIn, m.Direction == Incoming)
			if m.Direction == Incoming {
				convDec[m.ConversationID]++
			}
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
		if err := purgeReceivedEdits(tx, purged); err != nil {
			return err
		}
		if err := purgeApplied(tx, purged); err != nil {
			return err
		}
		for p := range purged {
			if err := keys.Delete(be64(p)); err != nil {
				return err
			}
		}
		rep.Periods = len(purged)
		pendingCompaction = true
		if err := s.putV1(tx, bucketMeta, metaCompactPending, []byte{1}); err != nil {
			return err
		}
		return s.appendAudit(tx, AuditPurge, fmt.Sprintf("periods=%d messages=%d attachments=%d held=%d failed-unsent=%d",
			rep.Periods, rep.Messages, rep.Attachments, rep.Held, len(rep.Failed)))
	})
	if err != nil {
		return PurgeReport{}, err
	}
	s.forgetKeys(purged)
	s.dedupe.forget(delDedupe)
	if a != nil {
		s.convs.publish(a.convs)
	}
	if rep.Periods > 0 {
		s.sweepBlobsLocked(false)
		s.log.Info("securestore: purged", "periods", rep.Periods, "messages", rep.Messages)
	}
	if len(rep.Failed) > 0 {
		s.log.Warn("securestore: unsent messages past retention failed", "count", len(rep.Failed), "held_periods", rep.Held)
	}
	if !pendingCompaction {
		// Held periods only: the audit entry's free pages still need the
		// scrub every audit append gets (audit.go).
		if !s.auditScrub.Swap(false) {
			return rep, nil
		}
		if _, err := s.scrubFreePagesLocked(); err != nil {
			s.auditScrub.Store(true)
			s.log.Warn("securestore: scrubbing free pages after an audit entry failed", "err", err)
		}
		return rep, nil
	}
	s.auditScrub.Store(false) // the purge's own scrub covers its audit entry
	rep.Scrubbed, err = s.finishPurgeLocked()
	rep.CompactionPending = err != nil
	if err != nil {
		return rep, fmt.Errorf("securestore: purge committed but compaction failed (will retry): %w", err)
	}
	return rep, nil
}

// FinishPurge retries the compaction of an earlier Purge that failed (disk
// full, I/O error, crash); it does nothing when none is pending. It reports
// whether a compaction was pending and is now done.
func (s *Store) FinishPurge() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return false, s.lockedErr()
	}
	pending, err := s.compactionPendingLocked()
	if err != nil || !pending {
		return false, err
	}
	if _, err := s.finishPurgeLocked(); err != nil {
		return false, fmt.Errorf("securestore: compaction after purge failed (will retry): %w", err)
	}
	return true, nil
}

// CompactionPending reports whether a purge's compaction is still to be done.
func (s *Store) CompactionPending() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return false, s.lockedErr()
	}
	return s.compactionPendingLocked()
}

func (s *Store) compactionPendingLocked() (bool, error) {
	pending := false
	err := s.viewLocked(func(tx *bbolt.Tx) error {
		pending = tx.Bucket(bucketMeta).Get(metaCompactPending) != nil
		return nil
	})
	return pending, err
}

// finishPurgeLocked scrubs the free pages in place, then compacts. The scrub
// needs no free disk space, so even when the compaction fails (a full disk is
// the usual reason) no purged record or period key stays in the file's free
// pages. It reports whether the scrub completed. Callers hold s.mu.
func (s *Store) finishPurgeLocked() (bool, error) {
	n, serr := s.scrubFreePagesLocked()
	if serr != nil {
		s.log.Warn("securestore: scrubbing free pages after purge failed", "err", serr)
	} else {
		s.log.Info("securestore: free pages scrubbed", "pages", n)
	}
	if err := s.compactLocked(); err != nil {
		return serr == nil, err
	}
	return serr == nil, serr
}

// scrubFreePagesLocked overwrites every page bbolt counts as free (released
// or pending) and anything past the last page in use with zeros, then
// fsyncs. bbolt never reads a free page, and no transaction is open (s.mu is
// held for writing), so this cannot disturb the database. It returns the
// number of pages overwritten.
func (s *Store) scrubFreePagesLocked() (int, error) {
	if s.db == nil {
		return 0, s.lockedErr()
	}
	return scrubFreePages(s.db, s.path, s.checkFault)
}

// scrubFreePages zeroes the free pages of db (the file at path); see
// scrubFreePagesLocked. No transaction may be open on db.
func scrubFreePages(db *bbolt.DB, path string, checkFault func(error) error) (int, error) {
	ps := int64(db.Info().PageSize)
	var free []int64
	var inUse int64
	err := checkFault(guard(func() error {
		return db.View(func(tx *bbolt.Tx) error {
			free = free[:0]
			for id := 2; ; id++ {
				info, err := tx.Page(id)
				if err != nil {
					return err
				}
				if info == nil {
					inUse = int64(id)
					return nil
				}
				if info.Type == "free" {
					free = append(free, int64(id))
				}
			}
		})
	}))
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	// Runs of adjacent pages go in one write each (ids come in order).
	zeros := make([]byte, 64*ps)
	zeroRun := func(off, size int64) error {
		for size > 0 {
			k := min(size, int64(len(zeros)))
			if _, err := f.WriteAt(zeros[:k], off); err != nil {
				return err
			}
			off, size = off+k, size-k
		}
		return nil
	}
	n := len(free)
	for i := 0; i < len(free); {
		j := i + 1
		for j < len(free) && free[j] == free[j-1]+1 {
			j++
		}
		if err := zeroRun(free[i]*ps, int64(j-i)*ps); err != nil {
			return 0, err
		}
		i = j
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	// Past the last page in use bbolt has written nothing unless a commit
	// failed half-way; on many filesystems it is a hole, and filling it
	// needs space a full disk does not have. So this part is best effort.
	if tail := st.Size() - inUse*ps; tail > 0 {
		if zeroRun(inUse*ps, tail) == nil && f.Sync() == nil {
			n += int((tail + ps - 1) / ps)
		}
	}
	return n, nil
}

// compactLocked rewrites the live data into a fresh file in the same directory,
// fsyncs it, renames it over the store and fsyncs the directory. The old
// file's pages (including freed ones) go with its inode. Callers hold s.mu.
func (s *Store) compactLocked() error {
	tmp := s.path + compactSuffix
	os.Remove(tmp)
	if compactFault != nil {
		if err := compactFault(); err != nil {
			return err
		}
	}
	dst, err := bbolt.Open(tmp, 0o600, boltOptions(s.opts))
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := s.checkFault(guard(func() error { return bbolt.Compact(dst, s.db, 64<<20) })); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	// The copy is the finished purge: it carries no pending mark. Deleting
	// it rewrites the root page (small buckets are inline), so the copy's
	// own free pages are scrubbed too.
	err = dst.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Delete(metaCompactPending) })
	if err == nil {
		_, err = scrubFreePages(dst, tmp, s.checkFault)
	}
	if err != nil {
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
