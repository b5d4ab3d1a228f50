package securestore

import (
	"encoding/binary"

	"go.etcd.io/bbolt"
)

// Cursor returns the last MAM id synced from archive (own bare JID or a room
// JID), or "" if the archive was never synced.
func (s *Store) Cursor(archive string) (string, error) {
	var id string
	err := s.view(func(tx *bbolt.Tx) error {
		v, err := s.getV1(tx, bucketCursor, s.mac(tagCursor, archive))
		if err == ErrNotFound {
			return nil
		}
		id = string(v)
		return err
	})
	return id, err
}

// SetCursor records the last MAM id synced from archive. Prefer
// AppendMessagesWithCursor, which commits the page and the cursor together.
func (s *Store) SetCursor(archive, id string) error {
	return s.update(func(tx *bbolt.Tx) error {
		return s.putV1(tx, bucketCursor, s.mac(tagCursor, archive), []byte(id))
	})
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
