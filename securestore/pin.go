package securestore

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// ChangePIN re-wraps the master key under a new PIN (new salt, current
// platform KDF parameters). Records are not re-encrypted: only the header slot
// changes.
//
// A wrong old PIN counts like a wrong PIN at unlock: the header's counter goes
// up (durably, before ChangePIN returns) and the error is a *WrongPINError
// with the attempts left; at Options.MaxWrongPINs the store destroys itself
// and ChangePIN returns ErrWiped. Otherwise an unlocked but unattended device
// would let anyone guess the PIN without limit (and then learn it). A right
// old PIN resets the counter and audits the failures before it, as Open does.
func (s *Store) ChangePIN(oldPIN, newPIN []byte) error {
	if len(newPIN) == 0 {
		return fmt.Errorf("%w: empty PIN", ErrInvalid)
	}
	var wrong *WrongPINError
	defer s.scrubAuditHistory()
	err := s.update(func(tx *bbolt.Tx) error {
		h, err := readHeader(tx)
		if err != nil {
			return err
		}
		kek := deriveKEK(oldPIN, h.salt, h.kdf)
		mk, ok := unwrapKey(kek, h.pinSlot, slotAD("pin", h))
		zero(kek)
		if !ok {
			// Commit the count (returning an error would roll it back).
			h.wrongPINs++
			wrong = &WrongPINError{Remaining: s.opts.MaxWrongPINs - int(h.wrongPINs)}
			return writeHeader(tx, h)
		}
		zero(mk)
		failed := h.wrongPINs
		h.wrongPINs = 0
		h.kdf, h.salt = s.opts.KDF, randomBytes(saltSize)
		kek = deriveKEK(newPIN, h.salt, h.kdf)
		h.pinSlot = wrapKey(kek, s.master, slotAD("pin", h))
		zero(kek)
		if err := writeHeader(tx, h); err != nil {
			return err
		}
		if failed > 0 {
			if err := s.appendAudit(tx, AuditUnlockFailed, fmt.Sprintf("%d failed attempts before this PIN change", failed)); err != nil {
				return err
			}
		}
		return s.appendAudit(tx, AuditPINChanged, "")
	})
	if err != nil || wrong == nil {
		return err
	}
	s.log.Warn("securestore: wrong PIN at PIN change", "attempts_left", max(wrong.Remaining, 0))
	if wrong.Remaining > 0 {
		return wrong
	}
	if err := s.Wipe(); err != nil {
		return fmt.Errorf("%w (incomplete: %v)", ErrWiped, err)
	}
	s.log.Warn("securestore: wrong-PIN limit reached at PIN change, store wiped")
	return ErrWiped
}

// EnableKeyring files a new random secret in the OS keyring and adds a header
// slot it unwraps, so OpenWithKeyring works without the PIN. Call it only
// where org policy allows; on Android/iOS it fails with ErrKeyringUnavailable.
func (s *Store) EnableKeyring() error {
	secret := randomBytes(keySize)
	defer zero(secret)
	defer s.scrubAuditHistory()
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
	defer s.scrubAuditHistory()
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
		if err := s.opts.Secrets.Delete(h.idHex() + auditAnchorSuffix); err != nil {
			s.log.Warn("securestore: audit anchor left in the keyring", "err", err)
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
