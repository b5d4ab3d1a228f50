//go:build android || ios

package securestore

// OSKeySecrets on Android and iOS: go-keyring has no backend there (it would
// compile and fail at run time), so it is never linked. The PIN path is used.
type OSKeySecrets struct{}

// Get always fails with ErrKeyringUnavailable on mobile.
func (OSKeySecrets) Get(string) ([]byte, error) { return nil, ErrKeyringUnavailable }

// Set always fails with ErrKeyringUnavailable on mobile.
func (OSKeySecrets) Set(string, []byte) error { return ErrKeyringUnavailable }

// Delete is a no-op on mobile: nothing was ever stored.
func (OSKeySecrets) Delete(string) error { return nil }
