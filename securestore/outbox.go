package securestore

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// Enqueue stores an outgoing message in state queued together with its outbox
// entry, in one transaction: "persist first, then send". After a crash the
// sync engine resends whatever Outbox still lists. A message whose origin-id
// is already stored returns the stored copy and ErrDuplicate.
func (s *Store) Enqueue(m Message) (Message, error) {
	m.Direction = Outgoing
	now := s.opts.Now().UTC()
	m.Receipt = Receipt{}
	m.Receipt.advance(ReceiptQueued, now, "")
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = now
	}
	var a *appendTx
	var stored Message
	err := s.updateThen(func(tx *bbolt.Tx) error {
		a = s.beginAppend(tx)
		added, dup, err := a.add(m)
		if err != nil {
			return err
		}
		if dup != 0 {
			if stored, err = s.loadMessage(tx, dup); err != nil {
				return err
			}
			return ErrDuplicate
		}
		stored = added
		out := tx.Bucket(bucketOutbox)
		seq, err := out.NextSequence()
		if err != nil {
			return err
		}
		if err := out.Put(be64(seq), be64(uint64(added.ID))); err != nil {
			return err
		}
		return a.finish()
	}, func() { a.committed() })
	if err != nil {
		if err == ErrDuplicate {
			return stored, fmt.Errorf("%w: origin-id already stored", ErrDuplicate)
		}
		return Message{}, err
	}
	return stored, nil
}

// Outbox returns the messages waiting to be sent, in the order they were
// queued. Sent marks still waiting (MarkSentSoon) are written first, so a
// message the server has acknowledged is not among them.
func (s *Store) Outbox() ([]Message, error) {
	_ = s.FlushSent() // a mark that fails leaves its message listed
	var out []Message
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			if len(v) != 8 {
				return corruptf("bad outbox entry")
			}
			m, err := s.loadMessage(tx, MessageID(beUint64(v)))
			if err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}

// OutboxRemove takes a message off the outbox (sent and acked, or given up).
// Removing a message that is not queued is not an error.
func (s *Store) OutboxRemove(id MessageID) error {
	return s.update(func(tx *bbolt.Tx) error {
		return removeFromOutbox(tx, map[MessageID]bool{id: true})
	})
}

func removeFromOutbox(tx *bbolt.Tx, ids map[MessageID]bool) error {
	b := tx.Bucket(bucketOutbox)
	var del [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) == 8 && ids[MessageID(beUint64(v))] {
			del = append(del, clone(k))
		}
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Requeue puts a stored outgoing message back on the outbox, at its end,
// keeping its receipt: the server took it but the room it was for bounced it
// (the sender was not in the room at that moment), so it must be sent again.
// A message already listed stays where it is.
func (s *Store) Requeue(id MessageID) error {
	return s.update(func(tx *bbolt.Tx) error {
		m, err := s.loadMessage(tx, id)
		if err != nil {
			return err
		}
		if m.Direction != Outgoing {
			return fmt.Errorf("securestore: requeue of message %d: not outgoing", id)
		}
		return addToOutbox(tx, id)
	})
}
