package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// pinRefuser is fakeActions whose ChangePIN answers err (nil: success).
type pinRefuser struct {
	*fakeActions
	err error
}

func (p *pinRefuser) ChangePIN(o, n string) error {
	p.record("pin " + o + " " + n)
	return p.err
}

// pinTexts is the text of every label a user can see: hidden containers hide
// what is inside them.
func pinTexts(o fyne.CanvasObject) string {
	var b strings.Builder
	var visit func(o fyne.CanvasObject)
	visit = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *widget.Label:
			b.WriteString(v.Text + "\n")
		case *fyne.Container:
			for _, c := range v.Objects {
				visit(c)
			}
		case *widget.Entry:
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				visit(c)
			}
		}
	}
	visit(o)
	return b.String()
}

func pinButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, b := range findAll[*widget.Button](o) {
		if b.Text == text {
			return b
		}
	}
	t.Fatalf("no visible %q button", text)
	return nil
}

// TestPINChangeBanner: when the hospital's policy requires a longer PIN than
// the one in use, the shell shows a banner that cannot be closed; its button
// opens the change-PIN dialog with the reason; a too-short PIN or one the app
// refuses leaves the banner, a successful change removes it.
func TestPINChangeBanner(t *testing.T) {
	test.NewTempApp(t)
	acts := &pinRefuser{fakeActions: &fakeActions{}}
	s := NewShell(acts, settingsState())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(1000, 700))

	const why = "Your hospital now requires a PIN of at least 6 digits"
	if s.PINChangeRequired() || strings.Contains(pinTexts(s.Content()), why) {
		t.Fatal("banner shown although no change is required")
	}
	s.SetPINChangeRequired(true, 6)
	if !s.PINChangeRequired() || !strings.Contains(pinTexts(s.Content()), why) {
		t.Fatalf("banner missing; the shell says:\n%s", pinTexts(s.Content()))
	}
	for _, b := range findAll[*widget.Button](s.pinBanner) {
		if b.Text != "Change PIN now" {
			t.Fatalf("the banner has a %q button: it must not be dismissable", b.Text)
		}
	}

	test.Tap(pinButton(t, s.Content(), "Change PIN now"))
	dlg := w.Canvas().Overlays().Top()
	if dlg == nil || !strings.Contains(pinTexts(dlg), why) || !strings.Contains(pinTexts(dlg), "At least 6 digits.") {
		t.Fatal("the change-PIN dialog does not say why or how long")
	}
	entries := findAll[*widget.Entry](dlg)
	if len(entries) != 3 {
		t.Fatalf("%d entries in the dialog", len(entries))
	}
	try := func(old, pin string) string {
		entries[0].SetText(old)
		entries[1].SetText(pin)
		entries[2].SetText(pin)
		test.Tap(pinButton(t, dlg, "Change PIN"))
		if w.Canvas().Overlays().Top() != dlg {
			return ""
		}
		var shown []string
		walk(dlg, func(o fyne.CanvasObject) {
			if l, ok := o.(*widget.Label); ok && o.Visible() && l.Importance == widget.DangerImportance {
				shown = append(shown, l.Text)
			}
		})
		return strings.Join(shown, "|")
	}

	// Five digits: refused on the screen with the hospital's minimum.
	if got := try("1234", "12345"); got != "Your hospital requires a PIN of at least 6 digits" {
		t.Fatalf("5 digits under a 6-digit policy: %q", got)
	}
	if len(acts.calls) != 0 {
		t.Fatalf("a too-short PIN reached the app: %q", acts.calls)
	}
	// The app's own refusal (its minimum rose meanwhile) is shown as it is.
	acts.err = &app.PINTooShortError{Min: 8}
	if got := try("1234", "123456"); got != acts.err.Error() {
		t.Fatalf("app refusal shown as %q", got)
	}
	if !s.PINChangeRequired() {
		t.Fatal("banner gone after a refused change")
	}

	acts.err = nil
	if got := try("1234", "48291637"); got != "" {
		t.Fatalf("good PIN: dialog still open with %q", got)
	}
	if want := "pin 1234 48291637"; !slices.Contains(acts.calls, want) {
		t.Fatalf("app asked %q, want %q", acts.calls, want)
	}
	if s.PINChangeRequired() || strings.Contains(pinTexts(s.Content()), why) {
		t.Fatal("banner still shown after a successful change")
	}

	// Shown again when a later policy lengthens the minimum; hidden (with
	// an open dialog) when the app says the PIN now meets it.
	s.SetPINChangeRequired(true, 8)
	test.Tap(pinButton(t, s.Content(), "Change PIN now"))
	if w.Canvas().Overlays().Top() == nil {
		t.Fatal("no dialog")
	}
	s.SetPINChangeRequired(false, 0)
	if s.PINChangeRequired() || w.Canvas().Overlays().Top() != nil {
		t.Fatal("banner or dialog left after the requirement went away")
	}
}

// TestChoosePINStatesMinimum: the first-sign-in PIN screen says the minimum
// the app enforces and refuses shorter PINs with it.
func TestChoosePINStatesMinimum(t *testing.T) {
	test.NewTempApp(t)
	var chosen []string
	screen := ChoosePINScreen(6, func(pin string) error { chosen = append(chosen, pin); return nil })
	w := test.NewTempWindow(t, screen)
	w.Resize(fyne.NewSize(390, 844))
	if !strings.Contains(pinTexts(screen), "At least 6 digits.") {
		t.Fatalf("the screen does not state the minimum:\n%s", pinTexts(screen))
	}
	entries := findAll[*widget.Entry](screen)
	entries[0].SetText("1234")
	entries[1].SetText("1234")
	test.Tap(pinButton(t, screen, "Save PIN"))
	if !strings.Contains(pinTexts(screen), "Your hospital requires a PIN of at least 6 digits") || len(chosen) != 0 {
		t.Fatalf("4 digits under a 6-digit minimum: chosen %q, screen:\n%s", chosen, pinTexts(screen))
	}
	entries[0].SetText("482916")
	entries[1].SetText("482916")
	test.Tap(pinButton(t, screen, "Save PIN"))
	if len(chosen) != 1 || chosen[0] != "482916" {
		t.Fatalf("6 digits: chosen %q", chosen)
	}
}

// TestPINBannerBeforeWindowLaysNothingOut: showShell sets the banner before
// the shell is on the window; that lays nothing out at size zero (which
// built the phone's tabs, measuring every tab, only for the window's first
// layout to build the desktop's), and the banner set then still shows.
func TestPINBannerBeforeWindowLaysNothingOut(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1280, 800))
	s := NewShell(newClinicalActions(), settingsState())
	s.SetPINChangeRequired(true, 8)
	if s.layout.mode != -1 || s.layout.tabs != nil {
		t.Fatalf("the banner laid the shell out before it was on a window (mode %d, phone %v)", s.layout.mode, s.layout.phone)
	}
	w.SetContent(s.Content())
	if s.layout.phone || s.layout.tabs == nil {
		t.Fatal("the desktop's tabs are not built on a 1280x800 window")
	}
	if !s.PINChangeRequired() || s.pinBanner.Size().Height == 0 || s.pinText.Text != pinChangeText(8) {
		t.Fatalf("the banner set before the window is not shown (height %.0f)", s.pinBanner.Size().Height)
	}
}

// TestPINBannerBeforePhoneWindow: the banner set before the shell is on a
// phone-sized window is shown once the window lays the shell out.
func TestPINBannerBeforePhoneWindow(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(390, 844))
	s := NewShell(newClinicalActions(), settingsState())
	s.SetPINChangeRequired(true, 8)
	w.SetContent(s.Content())
	if !s.layout.phone {
		t.Fatal("a 390 px window is not laid out as a phone")
	}
	if !s.pinBanner.Visible() || s.pinBanner.Size().Height == 0 || s.pinBanner.Size().Width == 0 {
		t.Fatalf("the banner set before the phone window is not shown (%v)", s.pinBanner.Size())
	}
}
