package securestore

import "go.etcd.io/bbolt"

// Account returns the account this store belongs to; ErrNotFound before the
// first sign-in.
func (s *Store) Account() (Account, error) {
	var a Account
	err := s.view(func(tx *bbolt.Tx) error {
		pt, err := s.getV1(tx, bucketMeta, metaAccount)
		if err != nil {
			return err
		}
		a, err = decodeAccount(pt)
		return err
	})
	return a, err
}

// SetAccount stores the account and its SCRAM material (sealed).
func (s *Store) SetAccount(a Account) error {
	return s.update(func(tx *bbolt.Tx) error {
		return s.putV1(tx, bucketMeta, metaAccount, encodeAccount(&a))
	})
}
