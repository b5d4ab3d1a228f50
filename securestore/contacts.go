package securestore

import (
	"cmp"
	"slices"

	"go.etcd.io/bbolt"
)

// PutContact stores or replaces a roster item.
func (s *Store) PutContact(c Contact) error {
	return s.update(func(tx *bbolt.Tx) error {
		return s.putV1(tx, bucketContact, s.mac(tagContact, c.JID), encodeContact(&c))
	})
}

// Contact returns one roster item.
func (s *Store) Contact(jid string) (Contact, error) {
	var c Contact
	err := s.view(func(tx *bbolt.Tx) error {
		pt, err := s.getV1(tx, bucketContact, s.mac(tagContact, jid))
		if err != nil {
			return err
		}
		c, err = decodeContact(pt)
		return err
	})
	return c, err
}

// DeleteContact removes a roster item (roster push with subscription=remove).
func (s *Store) DeleteContact(jid string) error {
	return s.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketContact).Delete(s.mac(tagContact, jid))
	})
}

// Contacts returns the roster sorted by JID.
func (s *Store) Contacts() ([]Contact, error) {
	var out []Contact
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketContact).ForEach(func(k, v []byte) error {
			pt, err := s.openV1(bucketContact, k, v)
			if err != nil {
				return err
			}
			c, err := decodeContact(pt)
			if err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Contact) int { return cmp.Compare(a.JID, b.JID) })
	return out, err
}
