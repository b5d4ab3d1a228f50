package app

import (
	"os"
	"path/filepath"
	"time"
)

// exportPrefix names the private directories ExportForPlatform makes.
const exportPrefix = "rounds-open-"

// staleExportAge is when an exported copy is surely no longer in use: the UI
// removes its own after ten minutes (ui/attachments.go), so anything older
// was left by a Rounds that crashed or was killed before it could.
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
