//go:build !android && !ios

package cli

import (
	"errors"

	"github.com/zalando/go-keyring"
)

// keyringGet reads a bot password from the OS keyring (Secret Service on
// Linux, Keychain, Credential Manager).
func keyringGet(account string) (string, error) {
	s, err := keyring.Get(keyringService, account)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", errors.New("no secret filed for " + account)
	}
	return s, err
}

func keyringSet(account, secret string) error { return keyring.Set(keyringService, account, secret) }
