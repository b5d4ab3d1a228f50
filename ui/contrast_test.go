package ui

import (
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"rounds/app"
)

// TestThemeContrast computes WCAG 2.2 contrast for every pair of the theme's
// colours the screens draw together, in both variants: text 4.5:1, the
// receipt ticks and other graphics that carry meaning 3:1 (on the bubbles
// they sit on, composed as drawn: an outgoing bubble is the primary colour
// at alpha 0x38 over the background).
func TestThemeContrast(t *testing.T) {
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		th := themeVariant(v)
		c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, v) }
		bg := c(theme.ColorNameBackground)
		p := color.NRGBAModel.Convert(c(theme.ColorNamePrimary)).(color.NRGBA)
		outBubble := over(color.NRGBA{R: p.R, G: p.G, B: p.B, A: 0x38}, bg)
		inBubble := c(theme.ColorNameInputBackground)
		type pair struct {
			what   string
			fg, bg color.Color
			min    float64
		}
		pairs := []pair{
			{"text", c(theme.ColorNameForeground), bg, 4.5},
			{"text on the header", c(theme.ColorNameForeground), c(theme.ColorNameHeaderBackground), 4.5},
			{"text in a field, an incoming bubble", c(theme.ColorNameForeground), inBubble, 4.5},
			{"text on an outgoing bubble", c(theme.ColorNameForeground), outBubble, 4.5},
			{"text in a menu", c(theme.ColorNameForeground), c(theme.ColorNameMenuBackground), 4.5},
			{"placeholder", c(theme.ColorNamePlaceHolder), inBubble, 4.5},
			{"button text on primary", c(theme.ColorNameForegroundOnPrimary), c(theme.ColorNamePrimary), 4.5},
			{"STAT band, danger button", c(theme.ColorNameForegroundOnError), c(theme.ColorNameError), 4.5},
			{"urgent band, warning button", c(theme.ColorNameForegroundOnWarning), c(theme.ColorNameWarning), 4.5},
			{"success", c(theme.ColorNameForegroundOnSuccess), c(theme.ColorNameSuccess), 4.5},
			{"sender name on an incoming bubble", c(theme.ColorNamePrimary), inBubble, 4.5},
			{"link", c(theme.ColorNameHyperlink), bg, 4.5},
			{"error text (URGENT tag, send errors)", c(theme.ColorNameError), bg, 4.5},
			{"warning text", c(theme.ColorNameWarning), bg, 4.5},
			{"read tick on an outgoing bubble", c(theme.ColorNamePrimary), outBubble, 3},
			{"acknowledged tick on an outgoing bubble", c(theme.ColorNameSuccess), outBubble, 3},
			{"delivered tick on an outgoing bubble", c(theme.ColorNameForeground), outBubble, 3},
			{"urgent frame", c(theme.ColorNameError), bg, 3},
		}
		for _, pr := range pairs {
			if r := contrastRatio(pr.fg, pr.bg); r < pr.min {
				t.Errorf("%v %s: %.2f:1, want %.1f:1", v, pr.what, r, pr.min)
			}
		}
	}
}

// TestReceiptStatesByShape: every receipt state has its own glyph, not only
// its own colour (read and delivered were the same double tick, blue or
// grey).
func TestReceiptStatesByShape(t *testing.T) {
	seen := map[string]app.ReceiptState{}
	for _, s := range []app.ReceiptState{app.ReceiptQueued, app.ReceiptSent, app.ReceiptDelivered, app.ReceiptRead, app.ReceiptAcknowledged, app.ReceiptFailed} {
		name := tickIcon(s).Name()
		if i := strings.IndexByte(name, '_'); i >= 0 {
			name = name[i+1:] // the colour's prefix
		}
		if other, ok := seen[name]; ok {
			t.Errorf("%v and %v share the glyph %s", s, other, name)
		}
		seen[name] = s
	}
}
