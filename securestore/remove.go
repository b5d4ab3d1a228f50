package securestore

import (
	"errors"
	"io/fs"
	"os"

	"go.etcd.io/bbolt"
)

// Remove destroys the store at path without its key, as a wipe does (the
// file overwritten with zeros and removed, the attachment vault removed, the
// keyring secret filed under the store's id deleted). A shared device uses it
// to remove a profile whose owner ended their shift and whose keep time
// passed while it was locked: nobody who may read it is there to unlock it.
// A missing file is not an error (the vault is removed all the same); a
// damaged one is still destroyed.
func Remove(path string, opts Options) error {
	opts = opts.withDefaults()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return errors.Join(removeVault(path), removeInbox(path), RemoveListenTicket(path, opts.Secrets))
	}
	var h *header
	if db, err := openBolt(path, opts); err == nil {
		_ = guard(func() error {
			return db.View(func(tx *bbolt.Tx) (e error) { h, e = readHeader(tx); return e })
		})
		db.Close()
	}
	return destroy(path, h, opts)
}
