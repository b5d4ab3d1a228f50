package securestore

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// Conversations returns the inbox: every conversation, most recent activity
// first, with unread counts. Conversations are few (hundreds), so they are
// read and sorted in memory rather than kept in a second clear index.
func (s *Store) Conversations() ([]Conversation, error) {
	var out []Conversation
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketConv)
		out = make([]Conversation, 0, b.Stats().KeyN)
		return b.ForEach(func(k, v []byte) error {
			pt, err := s.openV1(bucketConv, k, v)
			if err != nil {
				return err
			}
			c, err := decodeConversation(pt)
			if err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Conversation) int {
		if c := b.LastActivity.Compare(a.LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, err
}

// Conversation returns one conversation by id.
func (s *Store) Conversation(id string) (Conversation, error) {
	var c Conversation
	err := s.view(func(tx *bbolt.Tx) error {
		pt, err := s.getV1(tx, bucketConv, s.mac(tagConv, id))
		if err != nil {
			return err
		}
		c, err = decodeConversation(pt)
		return err
	})
	return c, err
}

// SetConversation creates a conversation or updates its kind and title
// (room subject, contact name), leaving activity and unread counts alone.
func (s *Store) SetConversation(id string, kind ConversationKind, title string) error {
	if id == "" {
		return fmt.Errorf("%w: empty conversation id", ErrInvalid)
	}
	var a *appendTx
	return s.updateThen(func(tx *bbolt.Tx) error {
		a = s.beginAppend(tx)
		cs, err := a.conversation(id)
		if err != nil {
			return err
		}
		cs.c.Kind, cs.c.Title, cs.dirty = kind, title, true
		return a.finish()
	}, func() { a.committed() })
}

// MarkRead records that the user has seen conv up to message upTo and
// recounts unread messages as the incoming ones after it. Marking an older
// message than the current read position is a no-op (markers race across
// devices, XEP-0490).
func (s *Store) MarkRead(conv string, upTo MessageID) error {
	var a *appendTx
	return s.updateThen(func(tx *bbolt.Tx) error {
		a = s.beginAppend(tx)
		cs, err := a.conversation(conv)
		if err != nil {
			return err
		}
		m, err := s.loadMessage(tx, upTo)
		if err != nil {
			return err
		}
		if m.ConversationID != conv {
			return fmt.Errorf("%w: message is in another conversation", ErrInvalid)
		}
		key := orderKey(cs.mac, orderTime(&m), m.ID)
		if cs.c.lastReadKey != nil && bytes.Compare(key, cs.c.lastReadKey) <= 0 {
			return nil
		}
		unread := 0
		later, err := s.orderKeysAfter(tx, cs.mac, key)
		if err != nil {
			return err
		}
		for _, k := range later {
			later, err := s.loadMessage(tx, MessageID(beUint64(k[macSize+8:])))
			if err != nil {
				return err
			}
			if later.Direction == Incoming {
				unread++
			}
		}
		cs.c.LastReadID, cs.c.lastReadKey, cs.c.Unread, cs.dirty = upTo, key, unread, true
		return a.finish()
	}, func() { a.committed() })
}
