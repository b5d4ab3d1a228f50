package securestore

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"
)

// PutAttachment stores attachment metadata for an existing message. It is
// sealed under the message's retention period key, so Purge shreds the
// download key together with the message that shared it.
func (s *Store) PutAttachment(a Attachment) error {
	if a.ID == "" {
		return fmt.Errorf("%w: attachment without id", ErrInvalid)
	}
	var pending map[uint64]*periodKey
	err := s.update(func(tx *bbolt.Tx) error {
		pending = map[uint64]*periodKey{}
		mkey := be64(uint64(a.MessageID))
		v := tx.Bucket(bucketMsg).Get(mkey)
		if v == nil {
			return fmt.Errorf("%w: attachment's message", ErrNotFound)
		}
		env, err := decodeEnvelope(v)
		if err != nil {
			return err
		}
		aead, err := s.periodAEAD(tx, env.period, pending)
		if err != nil {
			return err
		}
		idMAC := s.mac(tagAttach, a.ID)
		key := append(mkey, idMAC...)
		ids := tx.Bucket(bucketAttachID)
		if old := ids.Get(idMAC); old != nil && !bytes.Equal(old, key) {
			if err := tx.Bucket(bucketAttach).Delete(old); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketAttach).Put(key, sealV2(nil, aead, env.period, bucketAttach, key, encodeAttachment(&a))); err != nil {
			return err
		}
		return ids.Put(idMAC, key)
	})
	if err == nil {
		s.publishKeys(pending)
	}
	return err
}

// Attachment returns attachment metadata by attachment id.
func (s *Store) Attachment(id string) (Attachment, error) {
	var a Attachment
	err := s.view(func(tx *bbolt.Tx) error {
		key := tx.Bucket(bucketAttachID).Get(s.mac(tagAttach, id))
		if key == nil {
			return ErrNotFound
		}
		v := tx.Bucket(bucketAttach).Get(key)
		if v == nil {
			return ErrNotFound
		}
		var err error
		a, err = s.openAttachment(tx, key, v, nil)
		return err
	})
	return a, err
}

// Attachments returns the attachments of one message.
func (s *Store) Attachments(msg MessageID) ([]Attachment, error) {
	var out []Attachment
	prefix := be64(uint64(msg))
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketAttach).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			a, err := s.openAttachment(tx, k, v, nil)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

func (s *Store) openAttachment(tx *bbolt.Tx, key, v []byte, pending map[uint64]*periodKey) (Attachment, error) {
	env, err := decodeEnvelope(v)
	if err != nil {
		return Attachment{}, err
	}
	if env.version != recordV2 {
		return Attachment{}, corruptf("attachment record has wrong envelope")
	}
	aead, err := s.periodAEAD(tx, env.period, pending)
	if err != nil {
		return Attachment{}, err
	}
	pt, err := openEnvelope(aead, env, bucketAttach, key)
	if err != nil {
		return Attachment{}, err
	}
	return decodeAttachment(pt)
}
