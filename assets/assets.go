// Package assets holds the files the app ships inside its binary: icons now, alert
// sounds later. It is plain bytes so that every layer may use it without Fyne.
package assets

import _ "embed"

// Icon is the Rounds app icon, 512×512 PNG (also named in FyneApp.toml).
//
//go:embed icon.png
var Icon []byte
