package ui

import (
	"fmt"
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// The divider between the inbox and the conversation is one plain line in
// the theme's separator colour from top to bottom, in both themes: no grip
// in the text colour (the stray white bar of issue 14, glitch 5).
func TestPaneDividerIsSeparator(t *testing.T) {
	for _, v := range []fyne.ThemeVariant{theme.VariantDark, theme.VariantLight} {
		a := test.NewTempApp(t)
		a.Settings().SetTheme(themeVariant(v))
		s := NewShell(&fakeActions{}, settingsState())
		s.Inbox.SetRows(inboxRows())
		w := test.NewTempWindow(t, s.Content())
		w.Resize(fyne.NewSize(960, 680))
		s.Inbox.list.Select(1)
		if s.Phone() || s.layout.split == nil || s.Conversation() == nil {
			t.Fatal("no split with a conversation at desktop size")
		}
		img := w.Canvas().Capture()
		div := test.WidgetRenderer(s.layout.split).Objects()[1] // leading, divider, trailing
		inset, _ := w.Canvas().InteractiveArea()                // the driver's position leaves it out; Capture has it
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(div).Add(inset)
		x0, x1 := int(pos.X), int(pos.X+div.Size().Width)
		y0, y1 := int(pos.Y), int(pos.Y+div.Size().Height)
		if x1-x0 < 4 {
			t.Fatalf("divider %d px wide", x1-x0)
		}
		want := color.NRGBAModel.Convert(themeVariant(v).Color(theme.ColorNameSeparator, v)).(color.NRGBA)
		fg := color.NRGBAModel.Convert(themeVariant(v).Color(theme.ColorNameForeground, v)).(color.NRGBA)
		odd, grip := 0, 0
		var first string
		// Inside the divider's edges (the panes' anti-aliasing may bleed
		// into its first and last column).
		for y := y0; y < y1; y++ {
			for x := x0 + 1; x < x1-1; x++ {
				got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				if nearColour(got, fg, 8) {
					grip++
				}
				if !nearColour(got, want, 8) {
					if odd == 0 {
						first = fmt.Sprintf("at %d,%d: #%02x%02x%02x, want #%02x%02x%02x", x, y, got.R, got.G, got.B, want.R, want.G, want.B)
					}
					odd++
				}
			}
		}
		if odd > 0 {
			t.Errorf("%s theme: %d divider pixels are not the separator colour, %d of them the text colour (first %s)", map[fyne.ThemeVariant]string{theme.VariantDark: "dark", theme.VariantLight: "light"}[v], odd, grip, first)
		}
	}
}

func nearColour(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// The desktop shell holds no theme override: Fyne parses and caches every
// font face (the 4 MB colour-emoji font included) once per override scope,
// so the three overrides the split once had (itself and each pane) held
// ≈ 27 MB more Go heap for the app's life (docs/BENCHMARKS.md, "app").
func TestShellHasNoThemeOverride(t *testing.T) {
	test.NewTempApp(t)
	s := NewShell(&fakeActions{}, settingsState())
	s.Inbox.SetRows(inboxRows())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(960, 680))
	s.Inbox.list.Select(1)
	if s.Phone() || s.Conversation() == nil {
		t.Fatal("no conversation beside the inbox at desktop size")
	}
	var walk func(o fyne.CanvasObject, path string)
	walk = func(o fyne.CanvasObject, path string) {
		if _, ok := o.(*container.ThemeOverride); ok {
			t.Errorf("a theme override at %s", path)
		}
		switch x := o.(type) {
		case *fyne.Container:
			for i, c := range x.Objects {
				walk(c, fmt.Sprintf("%s/%d", path, i))
			}
		case fyne.Widget:
			for i, c := range test.WidgetRenderer(x).Objects() {
				walk(c, fmt.Sprintf("%s/%T.%d", path, x, i))
			}
		}
	}
	walk(w.Content(), "content")
}
