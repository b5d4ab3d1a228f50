package securestore

import (
	"fmt"

	"golang.org/x/crypto/argon2"
)

// KDFParams are the Argon2id cost parameters used to turn a PIN into the key
// that wraps the master key. They are recorded in the file header so a store
// created on one platform (or with yesterday's defaults) still opens; new
// defaults apply only to Create and ChangePIN.
type KDFParams struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8  // lanes
}

// Limits on parameters read from a file header. A tampered header must not be
// able to make Open allocate gigabytes or spin for hours.
const (
	maxKDFTime    = 64
	maxKDFMemory  = 4 << 20 // 4 GiB in KiB
	minKDFMemory  = 8
	maxKDFThreads = 64
)

func (p KDFParams) validate() error {
	if p.Time == 0 || p.Time > maxKDFTime || p.Threads == 0 || p.Threads > maxKDFThreads ||
		p.Memory < minKDFMemory*uint32(p.Threads) || p.Memory > maxKDFMemory {
		return fmt.Errorf("argon2id parameters out of range (t=%d m=%d p=%d)", p.Time, p.Memory, p.Threads)
	}
	return nil
}

// deriveKEK turns the PIN into a 256-bit key-encryption key.
func deriveKEK(pin []byte, salt []byte, p KDFParams) []byte {
	return argon2.IDKey(pin, salt, p.Time, p.Memory, p.Threads, keySize)
}

// DefaultKDF returns the platform's Argon2id parameters (see kdf_desktop.go
// and kdf_mobile.go, and docs/STORE.md for the reasoning).
func DefaultKDF() KDFParams { return platformKDF }
