//go:build !android && !ios

package main

import (
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
)

// defaultDataDir is where the encrypted store lives on a desktop: the user's
// config directory (~/.config/rounds, %AppData%\rounds,
// ~/Library/Application Support/rounds), or Fyne's app storage if the OS
// names none.
func defaultDataDir(a fyne.App) string {
	base, err := os.UserConfigDir()
	if err != nil {
		base = a.Storage().RootURI().Path()
	}
	return filepath.Join(base, "rounds")
}
