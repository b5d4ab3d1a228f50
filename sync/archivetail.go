package sync

import (
	"context"
	gosync "sync"
	"time"

	"rounds/sync/xmpp"
)

// archiveTailRereads are the times, counted from the end of a fresh
// sign-in's setup, at which the Session reads the tail of the user's own
// archive once more. Usually each read is one query answered with nothing
// new.
//
// Why: a message routed to a session of ours that died is never delivered
// live; only the archive holds it, and the archive need not show it when
// the router took it. ejabberd 23.01 writes the recipient's archive row in
// the recipient's session process, when that process gets to the message:
// the old session, still working through a backlog after a cut (its
// resumption then hangs 15 s), writes rows after the new session's catch-up
// has read the archive, and drops its unacknowledged queue because the rows
// are archived. Without these reads such a message waits for the next fresh
// sign-in, which may be hours away. The last read covers a stall of about a
// minute; a longer one is read at the next sign-in (see tailFloor for which
// rows it can still find then). Proved by TestStalledOldSessionArchivesLate
// (ejabberd, the old session's process suspended on the server) and
// TestArchiveShowsMessageLate (a server whose archive shows a message late).
var archiveTailRereads = []time.Duration{0, 5 * time.Second, 20 * time.Second, 60 * time.Second}

// tailFloorWindow: a fresh sign-in this soon after the device was last
// online may find its old server session still alive (ejabberd keeps one
// for resume_timeout, 300 s in the configuration Rounds generates), so its
// tail reads start where this sign-in's catch-up started.
const tailFloorWindow = 10 * time.Minute

// archiveReading lets one read of the own archive run at a time: setup's
// catch-up and the tail reads would otherwise commit pages and cursors of
// the same archive side by side.
type archiveReading struct{ mu gosync.Mutex }

// tailFloor is where this fresh sign-in's tail reads start: the own
// archive's cursor before its catch-up, if the device was online within
// tailFloorWindow; else "" (they read on from the stored cursor).
//
// Why not simply from the stored cursor: the rows an old session writes late
// carry the ids the router gave the messages, before this sign-in. A message
// routed to the new session in the meantime is archived at once under a later
// id; once a read moved the cursor past it, reading on from the cursor would
// skip the late rows for good. Reading from the floor re-reads what this
// sign-in read (each message dedupes) — only after a short absence, when
// little came in and an old session can still exist.
func (s *Session) tailFloor() string {
	s.mu.Lock()
	last := s.lastOnline
	s.mu.Unlock()
	if last.IsZero() || s.clock.Now().Sub(last) > tailFloorWindow {
		return ""
	}
	cursor, err := s.store.Cursor(s.cursorKey(""))
	if err != nil {
		return ""
	}
	return cursor
}

// followArchiveTail runs the tail reads of archiveTailRereads for the fresh
// session gen, from floor (tailFloor). It ends early when a later fresh
// sign-in (which reads the archive itself) replaced gen, or ctx ends. A read
// that fails (socket down, timeout) is not retried: the next one, or the next
// sign-in, reads again.
func (s *Session) followArchiveTail(ctx context.Context, c *xmpp.Client, gen int, floor string) {
	for _, d := range archiveTailRereads {
		if d > 0 {
			select {
			case <-s.clock.After(d):
			case <-ctx.Done():
				return
			}
		}
		s.mu.Lock()
		current := s.gen == gen
		s.mu.Unlock()
		if !current {
			return
		}
		if !s.archive.mu.TryLock() {
			continue // a catch-up is reading it now
		}
		var err error
		if floor == "" {
			err = s.catchUpArchive(ctx, c, "")
		} else {
			err = s.rereadArchive(ctx, c, floor)
		}
		s.archive.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Info("sync: archive tail not read", "err", err)
		}
	}
}

// rereadArchive reads the own archive after floor, a cursor this sign-in
// already read past, to its end, storing each page as the catch-up does.
// The stored cursor never moves back: pages up to the one holding it commit
// it unchanged, later ones their own.
func (s *Session) rereadArchive(ctx context.Context, c *xmpp.Client, floor string) error {
	key := s.cursorKey("")
	stored, err := s.store.Cursor(key)
	if err != nil {
		return err
	}
	passed := stored == floor
	after := floor
	for {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
		page, err := c.QueryArchive(sctx, xmpp.ArchiveQuery{After: after, Max: s.cfg.CatchUpPage})
		cancel()
		if err != nil {
			return err
		}
		for _, r := range page.Results {
			passed = passed || r.ID == stored
		}
		p := s.convertPage(page, s.account)
		p.cursor = stored
		if passed && page.Last != "" {
			p.cursor = page.Last
		}
		if err := s.storePage(key, p); err != nil {
			return err
		}
		if page.Complete || len(page.Results) == 0 || page.Last == "" {
			return nil
		}
		after = page.Last
	}
}
