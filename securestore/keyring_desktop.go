//go:build !android && !ios

package securestore

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// OSKeySecrets keeps secrets in the OS keyring: Windows Credential Manager,
// macOS Keychain, or the Secret Service (gnome-keyring, KWallet) on Linux.
type OSKeySecrets struct{}

// Get returns the secret for a store; ErrNotFound if none is filed, and
// ErrKeyringUnavailable if the keyring cannot be reached (no session bus, locked).
func (OSKeySecrets) Get(id string) ([]byte, error) {
	s, err := keyring.Get(keyringService, id)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyringUnavailable, err)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, corruptf("keyring secret is not hex")
	}
	return b, nil
}

// Set files the secret (hex-encoded, since some backends only store text).
func (OSKeySecrets) Set(id string, secret []byte) error {
	if err := keyring.Set(keyringService, id, hex.EncodeToString(secret)); err != nil {
		return fmt.Errorf("%w: %v", ErrKeyringUnavailable, err)
	}
	return nil
}

// Delete removes the secret; deleting a missing secret is not an error.
func (OSKeySecrets) Delete(id string) error {
	err := keyring.Delete(keyringService, id)
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrKeyringUnavailable, err)
}
