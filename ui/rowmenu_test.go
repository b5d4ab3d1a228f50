package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// A message's ⋮ menu opened on the message nearest the window's bottom
// right corner (one's own last message), and the conversation's ⋮ menu at
// the top right, lie wholly inside the window, at desktop and phone size,
// in both themes (issue 14, glitch 5: the menu was
// clipped at the window's edge).
func TestRowMenuInsideWindow(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(960, 680), fyne.NewSize(390, 844)} {
		for _, v := range []fyne.ThemeVariant{theme.VariantDark, theme.VariantLight} {
			a := test.NewTempApp(t)
			a.Settings().SetTheme(themeVariant(v))
			cv, _, w := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, clinicalChat(), newClinicalActions(), size)
			cv.list.ScrollToBottom()
			var more *tapIcon
			waitFor(func() bool { more = lowestMoreButton(cv); return more != nil })
			if more == nil {
				t.Fatal("no ⋮ button on screen")
			}
			checkMenuInside(t, fmt.Sprintf("%v theme %d: message menu", size, v), w, func() { more.Tapped(&fyne.PointEvent{}) })
			checkMenuInside(t, fmt.Sprintf("%v theme %d: conversation menu", size, v), w, func() { test.Tap(cv.clin.menu) })
		}
	}
}

// checkMenuInside opens a menu with open and checks it lies inside the
// window's area (pop-up positions are relative to it) with room for its
// border and shadow.
func checkMenuInside(t *testing.T, what string, w fyne.Window, open func()) {
	t.Helper()
	open()
	top := w.Canvas().Overlays().Top()
	menus := findAll[*widget.PopUpMenu](top)
	if len(menus) != 1 {
		t.Fatalf("%s: opened %T, not a menu", what, top)
	}
	menu := menus[0]
	if dir := os.Getenv("ROUNDS_LOOK_DIR"); dir != "" { // to look at it
		writePNG(t, filepath.Join(dir, strings.NewReplacer(" ", "-", ":", "").Replace(what)+".png"), w.Canvas().Capture())
	}
	pos, size := menu.Position(), menu.Size()
	_, area := w.Canvas().InteractiveArea()
	m := theme.Padding()
	if pos.X < m || pos.Y < m || pos.X+size.Width > area.Width-m || pos.Y+size.Height > area.Height-m {
		t.Errorf("%s at (%v,%v)-(%v,%v) is not %v inside the window's %v×%v area", what, pos.X, pos.Y, pos.X+size.Width, pos.Y+size.Height, m, area.Width, area.Height)
	}
	if size.Width < menu.MinSize().Width || size.Height < menu.MinSize().Height {
		t.Errorf("%s: %v, smaller than its items %v", what, size, menu.MinSize())
	}
	menu.Dismiss()
}

// lowestMoreButton is the visible ⋮ button nearest the bottom of cv.
func lowestMoreButton(cv *ConversationView) *tapIcon {
	var best *tapIcon
	var bestY float32 = -1
	d := fyne.CurrentApp().Driver()
	for _, ti := range findAll[*tapIcon](cv) {
		if !ti.Visible() || ti.onTap == nil || ti.img.Resource == nil || ti.img.Resource.Name() != theme.MoreVerticalIcon().Name() {
			continue
		}
		if y := d.AbsolutePositionForObject(ti).Y; y > bestY && y < cv.Size().Height {
			best, bestY = ti, y
		}
	}
	return best
}
