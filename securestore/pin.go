package securestore

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// ChangePIN re-wraps the master key under a new PIN (new salt, current
// platform KDF parameters). Records are not re-encrypted: only the header slot
// changes. A wrong old PIN returns ErrWrongPIN without touching the counter,
// since the store is already unlocked.
func (s *Store) ChangePIN(oldPIN, newPIN []byte) error {
	if len(newPIN) == 0 {
		return fmt.Errorf("%w: empty PIN", ErrInvalid)
	}
	return s.update(func(tx *bbolt.Tx) error {
		h, err := readHeader(tx)
		if err != nil {
			return err
		}
		kek := deriveKEK(oldPIN, h.salt, h.kdf)
		mk, ok := unwrapKey(kek, h.pinSlot, slotAD("pin", h))
		zero(kek)
		if !ok {
			return ErrWrongPIN
		}
		zero(mk)
		h.kdf, h.salt = s.opts.KDF, randomBytes(saltSize)
		kek = deriveKEK(newPIN, h.salt, h.kdf)
		h.pinSlot = wrapKey(kek, s.master, slotAD("pin", h))
		zero(kek)
		if err := writeHeader(tx, h); err != nil {
			return err
		}
		return s.appendAudit(tx, AuditPINChanged, "")
	})
}

// EnableKeyring files a new random secret in the OS keyring and adds a header
// slot it unwraps, so OpenWithKeyring works without the PIN. Call it only
// where org policy allows; on Android/iOS it fails with ErrKeyringUnavailable.
func (s *Store) EnableKeyring() error {
	secret := randomBytes(keySize)
	defer zero(secret)
	return s.update(func(tx *bbolt.Tx) error {
		h, err := readHeader(tx)
		if err != nil {
			return err
		}
		if err := s.opts.Secrets.Set(h.idHex(), secret); err != nil {
			return err
		}
		h.keyringSlot = wrapKey(secret, s.master, slotAD("keyring", h))
		if err := writeHeader(tx, h); err != nil {
			return err
		}
		return s.appendAudit(tx, AuditKeyringEnabled, "")
	})
}

// DisableKeyring removes the keyring slot and deletes the secret, so only the
// PIN opens the store (policy change, or shared device).
func (s *Store) DisableKeyring() error {
	return s.update(func(tx *bbolt.Tx) error {
		h, err := readHeader(tx)
		if err != nil {
			return err
		}
		h.keyringSlot = nil
		if err := writeHeader(tx, h); err != nil {
			return err
		}
		if err := s.appendAudit(tx, AuditKeyringDisabled, ""); err != nil {
			return err
		}
		return s.opts.Secrets.Delete(h.idHex())
	})
}

// KeyringEnabled reports whether the store has a keyring slot.
func (s *Store) KeyringEnabled() (bool, error) {
	var on bool
	err := s.view(func(tx *bbolt.Tx) error {
		h, err := readHeader(tx)
		on = err == nil && h.keyringSlot != nil
		return err
	})
	return on, err
}
