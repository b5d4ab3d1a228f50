package securestore

import "go.etcd.io/bbolt"

// Setting returns a sealed setting or policy value (auto-lock timeout, org
// policy document, notification privacy); ErrNotFound if unset.
func (s *Store) Setting(name string) ([]byte, error) {
	var v []byte
	err := s.view(func(tx *bbolt.Tx) (e error) { v, e = s.getV1(tx, bucketSetting, s.mac(tagSetting, name)); return e })
	return v, err
}

// SetSetting stores a setting; names are HMACed, values sealed.
func (s *Store) SetSetting(name string, value []byte) error {
	return s.update(func(tx *bbolt.Tx) error {
		return s.putV1(tx, bucketSetting, s.mac(tagSetting, name), value)
	})
}

// DeleteSetting removes a setting; deleting an unset one is not an error.
func (s *Store) DeleteSetting(name string) error {
	return s.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSetting).Delete(s.mac(tagSetting, name))
	})
}
