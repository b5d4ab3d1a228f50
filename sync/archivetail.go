package sync

import (
	"context"
	gosync "sync"
	"time"

	"rounds/sync/xmpp"
)

// archiveTailRereads are the times, counted from the end of a fresh
// sign-in's setup, at which the Session reads the tail of the user's own
// archive once more, from the stored cursor. Usually each read is one query
// answered with an empty page.
//
// Why: a message routed to a session of ours that died is never delivered
// live; only the archive holds it, and the archive need not show it when
// the router took it. ejabberd 23.01 writes the recipient's archive row in
// the recipient's session process, when that process gets to the message:
// the old session, still working through a backlog after a cut (its
// resumption can hang 15 s for that reason), writes rows after the new
// session's catch-up has read the archive; and it drops its unacknowledged
// queue because the rows are archived. Without these reads such a message
// waits for the next fresh sign-in, which may be hours away. The rows carry
// the ids the router gave them, in the order it routed them, so they come
// after our cursor. The last read covers a backlog of about a minute; a
// longer one is read at the next sign-in. Proved by TestArchiveShowsMessageLate
// (a server whose archive shows a message seconds late) and the ejabberd
// cases of TestResumeRefusedCatchesUpFromArchive and
// TestCutDuringCatchUpLosesNothing.
var archiveTailRereads = []time.Duration{0, 5 * time.Second, 20 * time.Second, 60 * time.Second}

// archiveReading lets one read of the own archive run at a time: setup's
// catch-up and the tail reads would otherwise commit pages and cursors of
// the same archive side by side.
type archiveReading struct{ mu gosync.Mutex }

// followArchiveTail runs the tail reads of archiveTailRereads for the fresh
// session gen. It ends early when a later fresh sign-in (which reads the
// archive itself) replaced gen, or ctx ends. A read that fails (socket down,
// timeout) is not retried: the next one, or the next sign-in, reads on from
// the same cursor.
func (s *Session) followArchiveTail(ctx context.Context, c *xmpp.Client, gen int) {
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
		err := s.catchUpArchive(ctx, c, "")
		s.archive.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Info("sync: archive tail not read", "err", err)
		}
	}
}
