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
// minute; a longer one is read at the next sign-in (see tailLookBack for which
// rows it can still find then). Proved by TestStalledOldSessionArchivesLate
// (ejabberd, the old session's process suspended on the server) and
// TestArchiveShowsMessageLate (a server whose archive shows a message late).
var archiveTailRereads = []time.Duration{0, 5 * time.Second, 20 * time.Second, 60 * time.Second}

// tailLookBack is how many archive rows before the stored cursor a tail read
// reads again when the device was online within tailLookBackWindow: a
// stalled old session's rows carry the ids the router gave the messages,
// before this sign-in; a message routed to the new session meanwhile is
// archived at once under a later id, and once a read moved the cursor past
// it, reading on from the cursor would skip the late rows for good. The rows
// newer than them are what reached this session in its first minute, so a
// page of 100 holds them but for a burst.
const tailLookBack = 100

// tailLookBackWindow: a fresh sign-in this soon after the device was last
// online may find its old server session still alive (ejabberd keeps one
// for resume_timeout, 300 s in the configuration Rounds generates). After
// a longer absence no old session exists, and each tail read is one query.
const tailLookBackWindow = 10 * time.Minute

// archiveReading lets one read of the own archive run at a time: setup's
// catch-up and the tail reads would otherwise commit pages and cursors of
// the same archive side by side.
// Run waits for the tail reads (wg) before it returns, so none writes to a
// store its owner is about to close.
type archiveReading struct {
	mu gosync.Mutex
	wg gosync.WaitGroup
}

// tailLookBackSlack: the look-back stores only rows the archive stamped
// at most this long before the device was last online. A late row is a
// message routed around this sign-in, after the old session last answered;
// the rows before it on a quiet account can be weeks old, and those this
// device's retention purged (with their dedupe entries) would otherwise be
// stored and announced again. The slack allows for the device's clock
// being off from the server's (the stamps are the server's).
const tailLookBackSlack = time.Hour

// lookBackFloor is the oldest archive stamp the look-back stores: zero
// (no look-back) unless the device was online within tailLookBackWindow
// (asked before setup marks it online again). Proved by
// TestLookBackRestoresNothingPurged.
func (s *Session) lookBackFloor() time.Time {
	s.mu.Lock()
	last := s.lastOnline
	s.mu.Unlock()
	if last.IsZero() || s.clock.Now().Sub(last) > tailLookBackWindow {
		return time.Time{}
	}
	return last.Add(-tailLookBackSlack)
}

// followArchiveTail runs the tail reads of archiveTailRereads for the fresh
// session gen (floor: lookBackFloor at its start; zero: no look-back). It ends early when a
// later fresh sign-in (which reads the archive itself) replaced gen, the
// Session is locked (its store closed), or ctx ends. A read that fails (socket down, timeout) is not retried: the next
// one, or the next sign-in, reads again.
func (s *Session) followArchiveTail(ctx context.Context, c *xmpp.Client, gen int, floor time.Time) {
	defer s.archive.wg.Done()
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
		if !current || s.Locked() {
			return // locked: the store is closed, the unlock's catch-up reads
		}
		if !s.archive.mu.TryLock() {
			continue // a catch-up is reading it now
		}
		var back *lookBack
		if !floor.IsZero() {
			// A failed look-back (a server that does not page backward)
			// still leaves the read on from the cursor to do.
			var err error
			if back, err = s.readBeforeCursor(ctx, c, floor); err != nil && ctx.Err() == nil {
				s.log.Info("sync: rows before the archive cursor not read", "err", err)
			}
		}
		var err error
		if back == nil {
			err = s.catchUpArchive(ctx, c, "")
		} else {
			// On from the row just before the cursor, so the cursor's own
			// row is among those that come after the look-back's.
			err = s.catchUpArchiveFrom(ctx, c, "", back.last, back.sawLater)
			if err == nil {
				err = s.applyLookBack(back)
			}
		}
		s.archive.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Info("sync: archive tail not read", "err", err)
		}
	}
}

// lookBack holds what the look-back read before the cursor and did not
// apply yet: its corrections and reactions, in archive order, the
// id of its last row, and the state keys (stateKey) of the rows the read on
// from there found after it.
type lookBack struct {
	edits, reactions []archivedEdit
	last             string
	later            map[string]bool
}

// sawLater notes a row read after the look-back's (the read on from it).
func (b *lookBack) sawLater(s *Session, r xmpp.ArchivedMessage) {
	if s.archiveClaimProblem(r.Message, s.account) != "" {
		return // the read on drops (and audits) it
	}
	if k := s.stateKey(r.Message); k != "" {
		b.later[k] = true
	}
}

// stateKey names the state a row of the own archive sets, so rows setting
// the same state can be ordered: a correction replaces the text of one
// message by its author, a reaction stanza the whole set one author gives
// one message. "" for a recall (final: nothing after it replaces it) and
// for anything else.
func (s *Session) stateKey(m *xmpp.Message) string {
	if m == nil || m.RetractID != "" {
		return ""
	}
	var kind, ref string
	switch {
	case m.ReplaceID != "":
		kind, ref = "correct", m.ReplaceID
	case m.Reactions != nil:
		kind, ref = "react", m.Reactions.ID
	default:
		return ""
	}
	conv, author := xmpp.BareJID(m.From), xmpp.BareJID(m.From)
	if author == s.account || m.From == "" {
		conv, author = xmpp.BareJID(m.To), s.account
	}
	return kind + "\x00" + conv + "\x00" + author + "\x00" + ref
}

// applyLookBack applies, of the look-back's corrections and reactions
// (its recalls went with its messages), those that are the newest of their
// state in the archive's order (the archive's, never the sender's clock):
// the last row of their
// state key in the look-back's page, with none after it in the read on
// from the cursor. An older one archived late (a correction overtaken by a
// newer one already shown, a reaction then withdrawn) is not applied. What
// was applied before, live or from a catch-up, is not applied again
// (securestore, applied.go). The cursor stays where it is.
func (s *Session) applyLookBack(b *lookBack) error {
	newest := func(rows []archivedEdit) []archivedEdit {
		last := map[string]int{}
		for i, e := range rows {
			if k := s.stateKey(e.m); k != "" {
				last[k] = i
			}
		}
		var out []archivedEdit
		for i, e := range rows {
			k := s.stateKey(e.m)
			if k == "" || last[k] == i && !b.later[k] {
				out = append(out, e)
			}
		}
		return out
	}
	p := archivedPage{edits: newest(b.edits), reactions: newest(b.reactions), newest: true}
	if len(p.edits) == 0 && len(p.reactions) == 0 {
		return nil
	}
	return s.storePage("", p)
}

// readBeforeCursor reads the tailLookBack rows of the own archive just
// before the stored cursor and stores what is new among the messages
// stamped at or after floor, leaving the cursor where it is. Their
// recalls it applies with them (final: nothing after a recall undoes it);
// their corrections and reactions it returns, for applyLookBack once the
// read on from the cursor has shown what came after them (nil: nothing
// read).
func (s *Session) readBeforeCursor(ctx context.Context, c *xmpp.Client, floor time.Time) (*lookBack, error) {
	key := s.cursorKey("")
	cursor, err := s.store.Cursor(key)
	if err != nil || cursor == "" {
		return nil, nil // nothing read yet: the read on from the cursor reads everything
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
	page, err := c.QueryArchive(sctx, xmpp.ArchiveQuery{Before: cursor, Max: tailLookBack})
	cancel()
	if err != nil {
		return nil, err
	}
	last := page.Last
	recent := page.Results[:0]
	for _, r := range page.Results {
		if !r.Timestamp.Before(floor) {
			recent = append(recent, r)
		}
	}
	page.Results = recent
	p := s.convertPage(page, s.account, nil)
	p.cursor = cursor
	// Recalls are final (no later row undoes one): they go with the
	// page's messages, so a message recalled in the same page is stored
	// recalled and never announced with its text. Corrections and
	// reactions wait for the read on (applyLookBack).
	var recalls, held []archivedEdit
	for _, e := range p.edits {
		if e.m.RetractID != "" {
			recalls = append(recalls, e)
		} else {
			held = append(held, e)
		}
	}
	back := &lookBack{edits: held, reactions: p.reactions, last: last, later: map[string]bool{}}
	p.reactions, p.edits = nil, recalls
	if err := s.storePage(key, p); err != nil {
		return nil, err
	}
	if last == "" {
		return nil, nil // nothing before the cursor
	}
	return back, nil
}
