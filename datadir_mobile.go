//go:build android || ios

package main

import (
	"path/filepath"

	"fyne.io/fyne/v2"
)

// defaultDataDir on a phone is inside the app's private sandbox, which Fyne
// knows (Android: Context.getFilesDir; iOS: the app's Documents directory).
// os.UserConfigDir is not used: Android apps have no HOME, so it fails or
// points at a read-only path.
func defaultDataDir(a fyne.App) string {
	return filepath.Join(a.Storage().RootURI().Path(), "rounds")
}
