package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// newPaneSplit is the desktop's inbox | conversation split with a divider
// in the theme's separator colour. Fyne's divider draws its grip in the
// text colour (a white bar in the middle of the dark theme, a black one in
// the light) on a translucent shadow; Rounds' divider is a plain separator
// line that lights up (hover colour) under the pointer, with the resize
// cursor. Fyne's divider is not exported, so its colours come from a theme
// override on the split; the two panes get the app's own theme back.
func newPaneSplit(leading, trailing fyne.CanvasObject) (*container.Split, fyne.CanvasObject) {
	split := container.NewHSplit(
		container.NewThemeOverride(leading, appTheme{}),
		container.NewThemeOverride(trailing, appTheme{}))
	return split, container.NewThemeOverride(split, dividerTheme{})
}

// appTheme is whatever theme the app has now (it follows a switch between
// light and dark, and the larger text setting).
type appTheme struct{}

func (appTheme) current() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (t appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.current().Color(n, v)
}
func (t appTheme) Font(s fyne.TextStyle) fyne.Resource     { return t.current().Font(s) }
func (t appTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.current().Icon(n) }
func (t appTheme) Size(n fyne.ThemeSizeName) float32       { return t.current().Size(n) }

// dividerTheme is the app's theme with the colours Fyne's divider asks for
// (shadow for the bar, foreground for the grip) made the separator's.
type dividerTheme struct{ appTheme }

func (t dividerTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameShadow, theme.ColorNameForeground:
		n = theme.ColorNameSeparator
	}
	return t.appTheme.Color(n, v)
}
