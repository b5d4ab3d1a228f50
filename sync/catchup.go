package sync

import (
	"context"
	"errors"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// catchUp reads, after every fresh sign-in, what the archives (XEP-0313) hold
// beyond our cursors: the user's own archive, then the archive of each room
// joined on this sign-in.
func (s *Session) catchUp(ctx context.Context, c *xmpp.Client) error {
	// Edits recorded but not applied (a crash, an error) go first.
	s.settleEdits(nil, nil)
	s.archive.mu.Lock()
	err := s.catchUpArchive(ctx, c, "")
	s.archive.mu.Unlock()
	if err != nil {
		return err
	}
	s.checkAcked() // acked.go
	for _, r := range s.joinedRooms() {
		if err := s.catchUpArchive(ctx, c, r); err != nil {
			return err
		}
	}
	return nil
}

// cursorKey names an archive's cursor in the store.
func (s *Session) cursorKey(archive string) string {
	if archive == "" {
		return "mam:" + s.account
	}
	return "mam:" + archive
}

// catchUpArchive pages forward from the stored cursor. Each page is stored
// in one transaction together with the cursor that covers it, so a crash or a
// cut socket mid-way resumes from the last committed page and never skips one;
// pages fetched twice are harmless because everything dedupes.
//
// Fetching and storing overlap: the next page is requested as soon as the
// previous one has arrived, before it is even converted, while a single
// writer converts and commits pages strictly in order, up to fetchAhead
// pages behind; the pages waiting when it is free go into one transaction
// with the cursor of the last. Catch-up is then bound by the server, not by our fsyncs:
// the server never waits for our work between two pages.
func (s *Session) catchUpArchive(ctx context.Context, c *xmpp.Client, archive string) error {
	return s.catchUpArchiveFrom(ctx, c, archive, "", nil)
}

// catchUpArchiveFrom is catchUpArchive that reads on from row from of the
// archive rather than from the stored cursor (""; the tail's look-back:
// from the row before the cursor) and shows each row read to saw (nil:
// none), in archive order. A page with nothing after from leaves the cursor.
func (s *Session) catchUpArchiveFrom(ctx context.Context, c *xmpp.Client, archive, from string, saw func(*Session, xmpp.ArchivedMessage)) error {
	key := s.cursorKey(archive)
	cursor, err := s.store.Cursor(key)
	if err != nil && !errors.Is(err, securestore.ErrNotFound) {
		return err
	}
	storedCursor := cursor
	if from != "" {
		cursor = from
	}
	owner := archive
	if owner == "" {
		owner = s.account
	}
	// A failed commit (disk full, store closed) stops the fetching too.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	pages := make(chan fetchedPage, fetchAhead)
	stored := make(chan error, 1)
	go func() {
		var err error
		var reuse []securestore.Message // one page's messages, kept for the next
		for f := range pages {
			if err == nil && ctx.Err() != nil {
				// Run is ending: the page stays unread (its cursor is
				// not stored), the next catch-up reads it again.
				err = ctx.Err()
			}
			if err != nil {
				continue // drain
			}
			p := s.convertPage(f.page, owner, reuse)
			p.cursor = f.cursor
			// Pages that arrived while the last one was committing go into
			// the same transaction, in order, with the cursor of the last:
			// a commit (page writes, two fdatasyncs) costs per transaction,
			// not per message.
		more:
			for range fetchAhead {
				select {
				case g, ok := <-pages:
					if !ok {
						break more
					}
					q := s.convertPage(g.page, owner, nil)
					p.batch = append(p.batch, q.batch...)
					p.signals = append(p.signals, q.signals...)
					p.edits = append(p.edits, q.edits...)
					p.cursor = g.cursor
				default:
					break more
				}
			}
			if err = s.storePage(key, p); err != nil {
				stop()
			}
			reuse = reusePage(p.batch)
		}
		stored <- err
	}()
	fetchErr := func() error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
			page, err := c.QueryArchive(sctx, xmpp.ArchiveQuery{Archive: archive, After: cursor, Max: s.cfg.CatchUpPage})
			cancel()
			if errors.Is(err, xmpp.ErrArchiveCursorGone) && cursor != "" {
				// Our cursor expired from the server's archive (retention):
				// read what it still has; everything we already hold dedupes.
				s.log.Warn("sync: archive cursor expired; reading the whole archive", "archive_is_room", archive != "")
				cursor = ""
				continue
			}
			if err != nil {
				return err
			}
			if saw != nil {
				for _, r := range page.Results {
					saw(s, r)
				}
			}
			f := fetchedPage{page: page, cursor: page.Last}
			if f.cursor == "" {
				f.cursor = cursor
				if from != "" && cursor == from {
					f.cursor = storedCursor // never back to before the cursor
				}
			}
			select {
			case pages <- f:
			case <-ctx.Done():
				return ctx.Err()
			}
			if page.Complete || len(page.Results) == 0 || page.Last == "" {
				return nil
			}
			cursor = page.Last
		}
	}()
	close(pages)
	if err := <-stored; err != nil {
		return err
	}
	return fetchErr
}

// fetchAhead is how many fetched pages may wait for the writer: a page of
// 250 messages holds well under a megabyte.
const fetchAhead = 4

// fetchedPage is one MAM page as the server sent it, and the cursor that
// covers it.
type fetchedPage struct {
	page   xmpp.ArchivePage
	cursor string
}

// archivedPage is one MAM page turned into store messages, plus the receipts
// and markers it carried.
type archivedPage struct {
	batch   []securestore.Message
	signals []*xmpp.Message
	edits   []archivedEdit // retractions and corrections, applied after the batch
	// reactions (and their withdrawals) are applied after the batch, in
	// archive order, like the live ones: the message they name may be in
	// this very page.
	reactions []archivedEdit
	cursor    string
	// newest: each of reactions is its author's newest set in the
	// archive's order (the look-back's, archivetail.go).
	newest bool
}

type archivedEdit struct {
	m  *xmpp.Message
	at time.Time
	// id is the row's id in archive by (XEP-0313: its stanza-id there),
	// which records it as applied once (securestore, applied.go).
	id, by string
}

// convertPage turns a page into store messages, appending them to reuse
// (whose contents it overwrites; nil for a new slice).
func (s *Session) convertPage(page xmpp.ArchivePage, owner string, reuse []securestore.Message) archivedPage {
	if cap(reuse) < len(page.Results) {
		reuse = make([]securestore.Message, 0, len(page.Results))
	}
	p := archivedPage{batch: reuse[:0]}
	var rejected []rejectedResult
	defer func() { s.auditRejected(owner, rejected) }()
	for _, r := range page.Results {
		m := r.Message
		if why := s.archiveClaimProblem(m, owner); why != "" {
			rj := rejectedResult{id: r.ID, reason: why}
			if m != nil {
				rj.from, rj.typ = m.From, m.Type
			}
			rejected = append(rejected, rj)
			continue
		}
		if m.Unreadable != nil {
			if sm, ok := s.archivedUnreadable(r, owner); ok {
				p.batch = append(p.batch, sm)
			}
			continue
		}
		if m.RetractID != "" || m.ReplaceID != "" {
			p.edits = append(p.edits, archivedEdit{m, r.Timestamp, r.ID, owner})
			continue
		}
		if m.Reactions != nil {
			// As live (handleMessage): a reaction is never a message of its
			// own, even with a fallback body for clients without XEP-0444.
			p.reactions = append(p.reactions, archivedEdit{m, r.Timestamp, r.ID, owner})
			continue
		}
		if m.Body == "" {
			if m.ReceiptFor != "" || m.DisplayedFor != "" {
				p.signals = append(p.signals, m)
			}
			continue
		}
		sm, ok := s.toStored(m, true)
		if !ok {
			continue
		}
		sm.StanzaID, sm.StanzaIDBy = r.ID, owner
		s.stampTime(&sm, m, r.Timestamp)
		p.batch = append(p.batch, sm)
	}
	return p
}

// reusePage returns a stored page's batch for the next page to fill: the
// store copied the messages it added, and nothing else keeps the batch.
// It is emptied first so it holds on to no text, and not kept past
// maxReusedBatch messages (a few merged pages of the default size).
func reusePage(batch []securestore.Message) []securestore.Message {
	if cap(batch) > maxReusedBatch {
		return nil
	}
	clear(batch)
	return batch[:0]
}

const maxReusedBatch = 2048

// storePage commits one page, its recalls and corrections and its cursor in
// one transaction, so the cursor never moves past an edit that is not
// durable; then it applies the edits (and older ones waiting for a message
// this page brought), tells the app, and applies the page's receipts and
// markers.
//
// It holds Lock off as the read loop's handlers do (enterHandler), so once
// Lock returns no page is inside the store or about to tell the app; a page
// that comes after it is not stored (the store is the app's to close). The
// own archive is read beside the read loop for a minute after each fresh
// sign-in (archivetail.go). Proved by TestLockWaitsForTailRead.
func (s *Session) storePage(key string, p archivedPage) error {
	release, locked := s.enterHandler()
	defer release()
	if locked != nil {
		return securestore.ErrLocked
	}
	edits := make([]securestore.ReceivedEdit, 0, len(p.edits))
	for _, e := range p.edits {
		if re, ok := s.receivedEdit(e.m, e.at); ok {
			if e.id != "" {
				re.Edit.StanzaID, re.Edit.StanzaIDBy = e.id, e.by
			}
			edits = append(edits, re)
		}
	}
	// Our own messages that the page shows the server has leave the Outbox
	// before the page and its cursor commit: after the commit the next
	// catch-up reads past them, so a crash in between must not leave them
	// queued, or the flush would send them again.
	s.learnOwnArchived(p.batch, nil)
	s.noteArchivedOwn(key, p.batch) // acked.go
	added, recorded, err := s.store.AppendMessagesAudited(p.batch, edits, key, p.cursor, unreadableAudit)
	if err != nil {
		return err
	}
	if s.pageCommitted != nil {
		s.pageCommitted(len(recorded))
	}
	if added = s.settleEdits(editConversations(added, recorded), added); len(added) > 0 {
		s.applyResponses(added)
		s.emit(MessagesAdded{Messages: added, CatchUp: true})
		s.afterStored(added)
	}
	if len(added) < len(p.batch) {
		s.log.Info("sync: archived duplicates not stored", "archive", key, "count", len(p.batch)-len(added), "cursor", p.cursor)
		s.reconcileOwn(p.batch, added)
	}
	for _, e := range p.reactions {
		s.onReactions(e.m, e.at, e.by, e.id, p.newest) // replies.go
	}
	for _, m := range p.signals {
		if m.ReceiptFor != "" {
			s.onReceipt(m)
		} else {
			s.onDisplayed(m)
		}
	}
	return nil
}

// reconcileOwn handles archived copies of our own messages that were already
// stored: the archive proves the server got them, so they leave the Outbox
// before it is flushed, and they gain the archive's stanza-id.
func (s *Session) reconcileOwn(batch, added []securestore.Message) {
	fresh := make(map[string]bool, len(added))
	for _, m := range added {
		fresh[m.OriginID] = true
	}
	s.learnOwnArchived(batch, fresh)
}

// learnOwnArchived is learnStanzaID for the own messages of a page (those
// whose origin-id is not in skip), in one store transaction, none when
// nothing changes: a tail re-read walks hundreds of our messages the store
// already knows as sent, and two commits (two fdatasyncs each) per message
// held Run's return for seconds.
func (s *Session) learnOwnArchived(batch []securestore.Message, skip map[string]bool) {
	var items []securestore.OwnArchived
	for _, m := range batch {
		if m.Direction == securestore.Outgoing && m.StanzaID != "" && !skip[m.OriginID] {
			items = append(items, securestore.OwnArchived{Conversation: m.ConversationID, Sender: s.account,
				OriginID: m.OriginID, StanzaID: m.StanzaID, By: m.StanzaIDBy})
		}
	}
	if len(items) == 0 {
		return
	}
	now := s.clock.Now()
	r, err := s.store.LearnOwnArchived(items, now)
	if err != nil {
		s.log.Warn("sync: recording our archived messages", "err", err)
		return
	}
	if r.Unreadable > 0 {
		s.log.Warn("sync: own archived messages whose stored record is unreadable", "count", r.Unreadable)
	}
	if r.Conflicts > 0 {
		s.log.Warn("sync: recording stanza-id", "err", "stanza-id already belongs to another message", "count", r.Conflicts)
	}
	for _, id := range r.Sent {
		s.emit(ReceiptChanged{Message: id, State: securestore.ReceiptSent, At: now})
	}
	for _, id := range r.Found {
		s.ownReplySent(id) // textack.go
	}
}
