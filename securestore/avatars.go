package securestore

import (
	"time"

	"go.etcd.io/bbolt"
)

// People's pictures (XEP-0084), as sync fetched and checked them, kept so
// faces show while offline and are not fetched again at every sign-in.
// Each is one sealed record in the settings bucket under HMAC(tagAvatar,
// bare JID): the bytes never reach the disk in clear, and the file does not
// say whose pictures it holds. A picture is not clinical content; it goes
// with the store (wipe) and is replaced or deleted when its owner changes
// or takes it down.

const tagAvatar = 'v'

// maxAvatarRecord bounds a stored picture (sync accepts 64 KiB).
const maxAvatarRecord = 256 << 10

// Avatar is a person's picture: the id it was published under (the
// SHA-1 of Data, in hex), its type (image/png, image/jpeg), the bytes, and
// when it was fetched.
type Avatar struct {
	ID      string
	Type    string
	Data    []byte
	Fetched time.Time
}

// PutAvatar stores or replaces bare's picture.
func (s *Store) PutAvatar(bare string, a Avatar) error {
	if len(a.Data) > maxAvatarRecord {
		return ErrInvalid
	}
	return s.update(func(tx *bbolt.Tx) error {
		return s.putV1(tx, bucketSetting, s.mac(tagAvatar, bare), encodeAvatar(&a))
	})
}

// Avatar is bare's picture; ErrNotFound when none is kept.
func (s *Store) Avatar(bare string) (Avatar, error) {
	var a Avatar
	err := s.view(func(tx *bbolt.Tx) error {
		pt, err := s.getV1(tx, bucketSetting, s.mac(tagAvatar, bare))
		if err != nil {
			return err
		}
		a, err = decodeAvatar(pt)
		return err
	})
	return a, err
}

// DeleteAvatar forgets bare's picture; deleting none is not an error.
func (s *Store) DeleteAvatar(bare string) error {
	return s.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSetting).Delete(s.mac(tagAvatar, bare))
	})
}

func encodeAvatar(a *Avatar) []byte {
	w := writer{}
	w.u8(payloadV1)
	w.str(a.ID)
	w.str(a.Type)
	w.bytes(a.Data)
	w.time(a.Fetched)
	return w.b
}

func decodeAvatar(b []byte) (Avatar, error) {
	r := reader{b: b}
	v := r.u8()
	if v != payloadV1 {
		return Avatar{}, payloadErr("avatar", &reader{err: errShort}, v)
	}
	var a Avatar
	a.ID = r.str()
	a.Type = r.str()
	a.Data = r.bytes()
	a.Fetched = r.time()
	return a, payloadErr("avatar", &r, v)
}
