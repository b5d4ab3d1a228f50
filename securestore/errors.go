package securestore

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every failure the store reports on bad input from the disk or
// the user wraps exactly one of these, so callers (the app's unlock screen, the
// sync engine) can branch with errors.Is and never parse strings.
var (
	// ErrWrongPIN: the PIN did not open the master key slot. The wrong-PIN
	// counter was incremented; see WrongPINError for the attempts left.
	ErrWrongPIN = errors.New("securestore: wrong PIN")
	// ErrWiped: the store destroyed itself (wrong-PIN limit reached) or was
	// wiped by Wipe. The file is gone; the account must be set up again.
	ErrWiped = errors.New("securestore: store wiped")
	// ErrCorrupt: a record, header or page failed authentication or decoding.
	// The wrapped error says where; it never contains record contents.
	ErrCorrupt = errors.New("securestore: corrupt store")
	// ErrNewerVersion: the file was written by a newer Rounds; refuse rather
	// than misread it.
	ErrNewerVersion = errors.New("securestore: file format is newer than this build")
	// ErrOldVersion: the file was written in an older, unreleased format
	// that this build does not read (no migration). Set the account up again.
	ErrOldVersion = errors.New("securestore: file format is older than this build reads")
	// ErrNotAStore: the file is not a bbolt file, or a bbolt file without our header.
	ErrNotAStore = errors.New("securestore: not a Rounds store")
	// ErrLocked: the store was closed (locked); unlock it again with Open.
	ErrLocked = errors.New("securestore: store is locked")
	// ErrInUse: another process (or another Store in this one) holds the file lock.
	ErrInUse = errors.New("securestore: store file is in use")
	// ErrExists: Create refuses to overwrite an existing store.
	ErrExists = errors.New("securestore: store already exists")
	// ErrNotFound: no such message, conversation, contact, setting or attachment.
	ErrNotFound = errors.New("securestore: not found")
	// ErrDuplicate: Enqueue was given an origin-id that is already stored, or
	// SetStanzaID a stanza-id that another message of the conversation owns.
	ErrDuplicate = errors.New("securestore: duplicate message")
	// ErrKeyringUnavailable: no OS keyring on this platform or session
	// (always on Android and iOS, where the PIN path is used).
	ErrKeyringUnavailable = errors.New("securestore: OS keyring unavailable")
	// ErrNoKeyringSlot: the store has no keyring-wrapped master key (policy
	// did not allow it, or DisableKeyring was called).
	ErrNoKeyringSlot = errors.New("securestore: keyring unlock not enabled for this store")
	// ErrAuditBroken: the audit hash chain does not verify (an entry was
	// edited, deleted or reordered).
	ErrAuditBroken = errors.New("securestore: audit chain broken")
	// ErrInvalid: the caller passed an unusable argument (empty PIN, empty
	// conversation id, ...).
	ErrInvalid = errors.New("securestore: invalid argument")
)

// WrongPINError is returned on a failed unlock. It matches ErrWrongPIN with
// errors.Is and tells the unlock screen how many attempts are left before the
// store wipes itself.
type WrongPINError struct {
	Remaining int
}

func (e *WrongPINError) Error() string {
	return fmt.Sprintf("securestore: wrong PIN (%d attempts left before wipe)", e.Remaining)
}

// Is makes errors.Is(err, ErrWrongPIN) true.
func (e *WrongPINError) Is(target error) bool { return target == ErrWrongPIN }

// corruptf wraps ErrCorrupt with context. Context must never include plaintext.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
