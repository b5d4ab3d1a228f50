package securestore

import (
	"errors"
	"time"

	"go.etcd.io/bbolt"
)

// Sent marks: the server's acknowledgement (XEP-0198) of an outgoing message
// moves it to sent and off the Outbox. Written at once, that costs the sender
// a commit (two fdatasyncs) per message on top of the one that queued it and
// the one a delivery receipt makes, and on a busy device that commit is what
// the next message's Enqueue waits behind (docs/BENCHMARKS.md, "Send → peer
// stored"). MarkSentSoon instead queues the mark in memory; the next write
// transaction of this store, of any kind, writes it along with its own
// changes, and when none comes within Options.SentLinger (100 ms) a
// transaction of its own does. Until it is written the message stays on the Outbox, so a crash in
// between makes the engine send it again, which receivers recognise by its
// origin-id (the same as a crash between send and ack). Nothing else waits
// for the mark: no stanza is acknowledged to the server on its strength.
type sentMark struct {
	id   MessageID
	at   time.Time
	done func(changed bool, err error)
}

// MarkSentSoon is MarkSentKeepingEdits, written with the next write
// transaction or within Options.SentLinger (see above). done, if not nil, runs once
// the mark is written (changed: the receipt moved) or has failed; it runs
// on the goroutine whose transaction wrote it, with no lock of the store
// held, so it may use the store; but it runs inside that write's call, so
// with whatever locks its caller holds: done must not wait for a lock that
// any caller of the store may hold around a write (sync hands such work
// to a goroutine of its own).
func (s *Store) MarkSentSoon(id MessageID, at time.Time, done func(changed bool, err error)) {
	s.marksMu.Lock()
	defer s.marksMu.Unlock()
	s.marks = append(s.marks, sentMark{id: id, at: at.UTC(), done: done})
	if s.marksTimer == nil {
		s.marksTimer = time.AfterFunc(s.opts.SentLinger, func() { _ = s.FlushSent() })
	}
}

// FlushSent writes the waiting sent marks now (the engine calls it before it
// reads the Outbox to resend; Close calls it). With none waiting it still
// waits for the write under way, which may carry marks it took and has not
// committed (their messages are on the Outbox until it does).
func (s *Store) FlushSent() error {
	s.marksMu.Lock()
	n := len(s.marks)
	s.marksMu.Unlock()
	if n == 0 {
		s.wmu.Lock()
		s.wmu.Unlock() // empty: only waits for the writer
		return nil
	}
	return s.update(func(*bbolt.Tx) error { return nil })
}

// takeMarks hands the waiting marks to a write transaction.
func (s *Store) takeMarks() []sentMark {
	s.marksMu.Lock()
	defer s.marksMu.Unlock()
	m := s.marks
	s.marks = nil
	if s.marksTimer != nil {
		s.marksTimer.Stop()
		s.marksTimer = nil
	}
	return m
}

// returnMarks puts back the marks of a transaction that failed through no
// fault of theirs (its own work failed), to ride the next one.
func (s *Store) returnMarks(m []sentMark) {
	if len(m) == 0 {
		return
	}
	s.marksMu.Lock()
	defer s.marksMu.Unlock()
	s.marks = append(m, s.marks...)
	if s.marksTimer == nil {
		s.marksTimer = time.AfterFunc(s.opts.SentLinger, func() { _ = s.FlushSent() })
	}
}

// markResult is what one mark did, reported after commit.
type markResult struct {
	mark    sentMark
	changed bool
	err     error
}

// applyMarks writes marks in tx: each message advances to sent and leaves the
// Outbox unless a recall or correction of it is pending (as
// MarkSentKeepingEdits). A message that is gone or unreadable fails its own
// mark only; a failed write fails the transaction.
func (s *Store) applyMarks(tx *bbolt.Tx, marks []sentMark, pending map[uint64]*periodKey) ([]markResult, error) {
	out := make([]markResult, 0, len(marks))
	dequeue := map[MessageID]bool{}
	for _, mk := range marks {
		r := markResult{mark: mk}
		key := be64(uint64(mk.id))
		v := tx.Bucket(bucketMsg).Get(key)
		if v == nil {
			r.err = ErrNotFound
			out = append(out, r)
			continue
		}
		m, err := s.openMessage(tx, key, v, pending)
		if err != nil {
			r.err = err
			out = append(out, r)
			continue
		}
		if kind, _ := PendingEdit(m); kind == "" {
			dequeue[m.ID] = true
		}
		if r.changed = m.Receipt.advance(ReceiptSent, mk.at, ""); r.changed {
			if err := s.rewriteMessage(tx, &m, pending); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	if len(dequeue) > 0 {
		if err := removeFromOutbox(tx, dequeue); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// errOwnWork marks an error of the transaction's own work, as opposed to one
// of the sent marks riding it (updateThen).
type errOwnWork struct{ err error }

func (e *errOwnWork) Error() string { return e.err.Error() }
func (e *errOwnWork) Unwrap() error { return e.err }

// withMarks wraps a write transaction's work so that it writes marks first
// (they are older: a delivery receipt written with them keeps the ack's
// time for sent). *results receives what each mark did.
func (s *Store) withMarks(fn func(*bbolt.Tx) error, marks []sentMark, pending map[uint64]*periodKey, results *[]markResult) func(*bbolt.Tx) error {
	if len(marks) == 0 {
		return fn
	}
	return func(tx *bbolt.Tx) error {
		r, err := s.applyMarks(tx, marks, pending)
		if err != nil {
			return err
		}
		*results = r
		if err := fn(tx); err != nil {
			if errors.Is(err, errUnchanged) {
				return nil // its own work wrote nothing; the marks commit
			}
			return &errOwnWork{err}
		}
		return nil
	}
}

// settleMarks runs after a write transaction that carried marks: on commit
// each mark's done reports what it did; if the transaction's own work failed
// the marks wait for the next one; if writing them (or the commit) failed,
// they fail, and their messages stay on the Outbox. It returns the
// transaction's error as its caller should see it.
func (s *Store) settleMarks(marks []sentMark, results []markResult, err error) error {
	var own *errOwnWork
	switch {
	case len(marks) == 0:
		return err
	case errors.As(err, &own):
		s.returnMarks(marks)
		return own.err
	case err != nil:
		for _, mk := range marks {
			if mk.done != nil {
				mk.done(false, err)
			}
		}
		return err
	}
	for _, r := range results {
		if r.mark.done != nil {
			r.mark.done(r.changed, r.err)
		}
	}
	return nil
}
