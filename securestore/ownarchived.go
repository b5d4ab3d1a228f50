package securestore

import (
	"errors"
	"time"

	"go.etcd.io/bbolt"
)

// OwnArchived is one of our own messages as our archive (XEP-0313) shows it:
// found by conversation, our account as sender and its origin-id (XEP-0359),
// carrying the stanza-id the archive (By) gave it.
type OwnArchived struct {
	Conversation string
	Sender       string
	OriginID     string
	StanzaID     string
	By           string
}

// OwnLearned is what LearnOwnArchived did.
type OwnLearned struct {
	// Found: our stored outgoing messages the archive showed.
	Found []MessageID
	// Sent: those of Found whose receipt moved to sent.
	Sent []MessageID
	// Conflicts: stanza-ids not recorded because another message of the
	// conversation already owns them (SetStanzaID's ErrDuplicate); the rest
	// of those items was still applied.
	Conflicts int
	// Unreadable: items whose stored message could not be read (a damaged
	// record, ErrCorrupt); skipped, the rest of the page still applied.
	Unreadable int
}

// errUnchanged rolls back a write transaction that changed nothing: bbolt
// commits (meta page, freelist, two fdatasyncs) even an Update that wrote
// nothing, so a no-op must not return nil from its function.
var errUnchanged = errors.New("securestore: nothing to write")

// LearnOwnArchived applies, in one transaction, what our archive proves
// about our own messages it shows (a catch-up page): each learns its
// stanza-id as SetStanzaID would (an item whose stanza-id another message
// owns is counted in Conflicts, not recorded, and does not fail the rest),
// and each outgoing one counts as sent and leaves the Outbox as
// MarkSentKeepingEdits does (a pending recall or correction keeps it
// queued). Items that match no stored message are skipped. When nothing
// changes nothing is written: no commit, no fsync.
func (s *Store) LearnOwnArchived(items []OwnArchived, at time.Time) (OwnLearned, error) {
	var out OwnLearned
	if len(items) == 0 {
		return out, nil
	}
	at = at.UTC()
	var a *appendTx
	err := s.updateThen(func(tx *bbolt.Tx) error {
		out = OwnLearned{}
		a = s.beginAppend(tx)
		if err := s.dedupe.ensure(tx); err != nil {
			return err
		}
		queued := outboxEntries(tx)
		dirty := false
		for _, it := range items {
			if it.StanzaID == "" {
				continue
			}
			m, err := s.bySenderOriginTx(a, it.Conversation, it.Sender, it.OriginID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if errors.Is(err, ErrCorrupt) {
				// One damaged record must not keep the page's other own
				// messages queued: the page and its cursor commit anyway,
				// and the flush would send them all again. The lookup
				// wrote nothing.
				out.Unreadable++
				continue
			}
			if err != nil {
				return err
			}
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			if m.StanzaID == "" {
				wrote, err := a.learnStanzaID(&m, it.StanzaID, it.By)
				switch {
				case errors.Is(err, ErrDuplicate):
					out.Conflicts++
				case err != nil:
					return err
				}
				dirty = dirty || wrote
			}
			if m.Direction != Outgoing {
				continue
			}
			out.Found = append(out.Found, m.ID)
			if kind, _ := PendingEdit(m); kind == "" {
				for _, k := range queued[m.ID] {
					if err := tx.Bucket(bucketOutbox).Delete(k); err != nil {
						return err
					}
					dirty = true
				}
				delete(queued, m.ID)
			}
			if m.Receipt.advance(ReceiptSent, at, "") {
				if err := s.rewriteMessage(tx, &m, a.pending); err != nil {
					return err
				}
				out.Sent = append(out.Sent, m.ID)
				dirty = true
			}
		}
		if !dirty {
			return errUnchanged
		}
		return nil
	}, func() { a.committed() })
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	if err != nil {
		return OwnLearned{}, err
	}
	return out, nil
}

// bySenderOriginTx is MessageBySenderOriginID inside a write transaction.
func (s *Store) bySenderOriginTx(a *appendTx, conv, sender, originID string) (Message, error) {
	byIndex := func(key []byte) (Message, error) {
		id, ok := s.dedupe.lookup(key)
		if !ok {
			return Message{}, ErrNotFound
		}
		// A record whose period key is gone is unreadable: say so without
		// opening it, which inside a write transaction would create a key
		// for that period (periodAEAD) that a skipped item then commits.
		if v := a.tx.Bucket(bucketMsg).Get(be64(uint64(id))); v != nil {
			env, err := decodeEnvelope(v)
			if err != nil {
				return Message{}, err
			}
			if a.tx.Bucket(bucketKeys).Get(be64(env.period)) == nil {
				return Message{}, corruptf("period key missing (purged or deleted)")
			}
		}
		m, err := s.openMessageByID(a.tx, id, a.pending)
		if err == nil && m.ConversationID != conv {
			return Message{}, corruptf("dedupe index points into another conversation")
		}
		return m, err
	}
	m, err := byIndex(s.mac(tagSenderOrigin, conv, sender, originID))
	if err == nil || !errors.Is(err, ErrNotFound) {
		return m, err
	}
	m, err = byIndex(s.mac(tagOrigin, conv, originID))
	if err != nil {
		return m, err
	}
	if m.OriginID != originID || (m.Extra[ExtraSender] != "" && m.Extra[ExtraSender] != sender) {
		return Message{}, ErrNotFound
	}
	return m, nil
}

// outboxEntries maps each message on the Outbox to its entries' keys.
func outboxEntries(tx *bbolt.Tx) map[MessageID][][]byte {
	q := map[MessageID][][]byte{}
	c := tx.Bucket(bucketOutbox).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) == 8 {
			id := MessageID(beUint64(v))
			q[id] = append(q[id], clone(k))
		}
	}
	return q
}
