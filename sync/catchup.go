package sync

import (
	"context"
	"errors"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// catchUp reads, after every fresh sign-in, what the archives (XEP-0313) hold
// beyond our cursors: the user's own archive, then each joined room's.
func (s *Session) catchUp(ctx context.Context, c *xmpp.Client) error {
	if err := s.catchUpArchive(ctx, c, ""); err != nil {
		return err
	}
	for _, r := range s.roomList() {
		if err := s.catchUpArchive(ctx, c, r.jid); err != nil {
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
func (s *Session) catchUpArchive(ctx context.Context, c *xmpp.Client, archive string) error {
	key := s.cursorKey(archive)
	cursor, err := s.store.Cursor(key)
	if err != nil && !errors.Is(err, securestore.ErrNotFound) {
		return err
	}
	owner := archive
	if owner == "" {
		owner = s.account
	}
	for {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
		page, err := c.QueryArchive(sctx, xmpp.ArchiveQuery{Archive: archive, After: cursor, Max: s.cfg.CatchUpPage})
		cancel()
		if errors.Is(err, xmpp.ErrArchiveCursorGone) && cursor != "" {
			// Our cursor expired from the server's archive (retention): read
			// what it still has; everything we already hold dedupes.
			s.log.Warn("sync: archive cursor expired; reading the whole archive", "archive_is_room", archive != "")
			cursor = ""
			continue
		}
		if err != nil {
			return err
		}
		batch := make([]securestore.Message, 0, len(page.Results))
		var signals []*xmpp.Message
		for _, r := range page.Results {
			m := r.Message
			if m.Body == "" {
				if m.ReceiptFor != "" || m.DisplayedFor != "" {
					signals = append(signals, m)
				}
				continue
			}
			sm, ok := s.toStored(m, xmpp.NotCarbon)
			if !ok {
				continue
			}
			sm.StanzaID, sm.StanzaIDBy = r.ID, owner
			if !r.Timestamp.IsZero() {
				sm.Timestamp = r.Timestamp
			}
			batch = append(batch, sm)
		}
		last := page.Last
		if last == "" {
			last = cursor
		}
		added, err := s.store.AppendMessagesWithCursor(batch, key, last)
		if err != nil {
			return err
		}
		if len(added) > 0 {
			s.emit(MessagesAdded{Messages: added, CatchUp: true})
		}
		if len(added) < len(batch) {
			s.reconcileOwn(batch, added)
		}
		for _, m := range signals {
			if m.ReceiptFor != "" {
				s.onReceipt(m)
			} else {
				s.onDisplayed(m)
			}
		}
		if page.Complete || len(page.Results) == 0 || page.Last == "" {
			return nil
		}
		cursor = page.Last
	}
}

// reconcileOwn handles archived copies of our own messages that were already
// stored: the archive proves the server got them, so they leave the Outbox
// before it is flushed, and they gain the archive's stanza-id.
func (s *Session) reconcileOwn(batch, added []securestore.Message) {
	fresh := make(map[string]bool, len(added))
	for _, m := range added {
		fresh[m.OriginID] = true
	}
	for _, m := range batch {
		if m.Direction == securestore.Outgoing && !fresh[m.OriginID] {
			s.learnStanzaID(m)
		}
	}
}
