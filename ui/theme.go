package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Theme is Rounds' theme: Fyne's default with the colours that carry
// meaning chosen to meet WCAG 2.2 AA in both variants (4.5:1 for text,
// 3:1 for graphics). Fyne's own primary blue, error red, warning orange
// and success green are too light for white text on them in the light
// variant (white on its blue 4.47:1, on its red 3.7:1) and its light
// placeholder too faint; in the dark variant they become lighter, with
// dark text on them. TestThemeContrast computes every pair the screens
// draw.
func Theme() fyne.Theme { return &roundsTheme{Theme: theme.DefaultTheme()} }

// themeVariant is Theme with its variant forced (the screenshots draw
// both).
func themeVariant(v fyne.ThemeVariant) fyne.Theme {
	return &roundsTheme{Theme: theme.DefaultTheme(), variant: &v}
}

type roundsTheme struct {
	fyne.Theme
	variant *fyne.ThemeVariant
}

func hex(v uint32) color.NRGBA {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

var palette = map[fyne.ThemeVariant]map[fyne.ThemeColorName]color.Color{
	theme.VariantLight: {
		theme.ColorNamePrimary:             hex(0x1565c0),
		theme.ColorNameHyperlink:           hex(0x1565c0),
		theme.ColorNameForegroundOnPrimary: hex(0xffffff),
		theme.ColorNameError:               hex(0xc62828),
		theme.ColorNameForegroundOnError:   hex(0xffffff),
		theme.ColorNameWarning:             hex(0xa85400),
		theme.ColorNameForegroundOnWarning: hex(0xffffff),
		theme.ColorNameSuccess:             hex(0x2e7d32),
		theme.ColorNameForegroundOnSuccess: hex(0xffffff),
		theme.ColorNamePlaceHolder:         hex(0x6b6b6b),
	},
	theme.VariantDark: {
		theme.ColorNamePrimary:             hex(0x64b5f6),
		theme.ColorNameHyperlink:           hex(0x64b5f6),
		theme.ColorNameForegroundOnPrimary: hex(0x171718),
		theme.ColorNameError:               hex(0xff6b6b),
		theme.ColorNameForegroundOnError:   hex(0x171718),
		theme.ColorNameWarning:             hex(0xffb74d),
		theme.ColorNameForegroundOnWarning: hex(0x171718),
		theme.ColorNameSuccess:             hex(0x66bb6a),
		theme.ColorNameForegroundOnSuccess: hex(0x171718),
	},
}

func (t *roundsTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.variant != nil {
		v = *t.variant
	}
	if c, ok := palette[v][n]; ok {
		return c
	}
	return t.Theme.Color(n, v)
}
