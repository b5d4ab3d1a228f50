package app

import (
	"os"
	"path/filepath"
	"sync"
	"time"
)

// exportCopies are the plaintext copies handed to other apps, each with the
// timer that removes it, under their own lock (mu, not Client.mu: nothing
// else is read with them). A part of the attachments service (att.copies).
type exportCopies struct {
	mu      sync.Mutex
	exports map[string]Timer
}

// exportPrefix names the private directories ExportForPlatform makes.
const exportPrefix = "rounds-open-"

// staleExportAge is when an exported copy is surely no longer in use: the app
// removes its own after exportLife (and at lock), so anything older was left
// by a Rounds that crashed or was killed before it could.
const staleExportAge = 15 * time.Minute

// sweepStaleExports removes plaintext copies of attachments that a previous
// run handed to another app and could not remove (crash, SIGKILL, power
// loss). It runs at every unlock. Younger directories may belong to another
// running Rounds (a second account) and are left alone. File times are wall
// clock, so this uses time.Now rather than the injected Clock.
func sweepStaleExports(now time.Time) (removed int) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), exportPrefix+"*"))
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() || now.Sub(fi.ModTime()) < staleExportAge {
			continue
		}
		if os.RemoveAll(d) == nil {
			removed++
		}
	}
	return removed
}

// exportLife is how long a copy handed to another app stays in the temp
// directory while Rounds stays unlocked. Lock, sign-out and wipe remove it
// at once (removeExports).
const exportLife = 10 * time.Minute

// exportDir makes the private directory for one plaintext copy and tracks it:
// it goes after exportLife on the injected Clock, or at Lock, SignOut or wipe,
// whichever comes first. The UI keeps no timer of its own: a copy must not
// outlive the key that protected it because a UI forgot to clean up.
func (att *attachmentService) exportDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", exportPrefix)
	if err != nil {
		return "", nil, err
	}
	att.copies.mu.Lock()
	if att.copies.exports == nil {
		att.copies.exports = map[string]Timer{}
	}
	var once sync.Once
	remove := func() {
		once.Do(func() {
			att.copies.mu.Lock()
			if t := att.copies.exports[dir]; t != nil {
				t.Stop()
			}
			delete(att.copies.exports, dir)
			att.copies.mu.Unlock()
			os.RemoveAll(dir)
		})
	}
	att.copies.exports[dir] = att.clock.AfterFunc(exportLife, remove)
	att.copies.mu.Unlock()
	return dir, remove, nil
}

// removeExports deletes every plaintext copy this Client handed out and has
// not removed yet (Lock, SignOut, wipe).
func (att *attachmentService) removeExports() {
	att.copies.mu.Lock()
	dirs := make([]string, 0, len(att.copies.exports))
	for d, t := range att.copies.exports {
		t.Stop()
		dirs = append(dirs, d)
	}
	clear(att.copies.exports)
	att.copies.mu.Unlock()
	n := 0
	for _, d := range dirs {
		if os.RemoveAll(d) == nil {
			n++
		}
	}
	if n > 0 {
		att.log.Info("app: removed attachment copies handed to other apps", "count", n)
	}
}
