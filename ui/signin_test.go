package ui

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

func TestValidateAddress(t *testing.T) {
	good := []string{"nurse.kim@rounds.test", "  dr.osei@hospital.org "}
	bad := []string{"", "nurse", "@hospital.org", "nurse@", "a b@h.org", "a@b@c", "a@h.org/res", "<x>@h.org"}
	for _, s := range good {
		if err := ValidateAddress(s); err != nil {
			t.Errorf("ValidateAddress(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range bad {
		if err := ValidateAddress(s); err == nil {
			t.Errorf("ValidateAddress(%q) = nil, want an error", s)
		}
	}
}

// TestSignInShowsErrors drives the screen headlessly: a bad address never reaches
// submit, and an error from submit is shown to the user.
func TestSignInShowsErrors(t *testing.T) {
	a := test.NewApp()
	defer a.Quit()
	var got []SignIn
	submitErr := errors.New("server unreachable")
	screen := SignInScreen(nil, SignIn{}, func(in SignIn) error { got = append(got, in); return submitErr })
	w := test.NewWindow(screen)
	defer w.Close()
	w.Resize(fyne.NewSize(400, 700))

	var address, password *widget.Entry
	var button *widget.Button
	var status *widget.Label
	walk(screen, func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Entry:
			if v.Password && password == nil {
				password = v
			} else if address == nil && !v.Password {
				address = v
			}
		case *widget.Button:
			button = v
		case *widget.Label:
			if v.Importance == widget.DangerImportance {
				status = v
			}
		}
	})
	if address == nil || password == nil || button == nil || status == nil {
		t.Fatal("sign-in screen lacks address, password, button or status")
	}

	test.Type(address, "not-an-address")
	test.Tap(button)
	if len(got) != 0 {
		t.Fatalf("submit called with a bad address: %+v", got)
	}
	if !status.Visible() || status.Text == "" {
		t.Fatal("no error shown for a bad address")
	}

	address.SetText("nurse.kim@rounds.test")
	test.Type(password, "pw")
	test.Tap(button)
	waitFor(func() bool { return button.Text == "Sign in" && status.Visible() })
	if len(got) != 1 || got[0].Address != "nurse.kim@rounds.test" || got[0].Password != "pw" {
		t.Fatalf("submit got %+v", got)
	}
	if status.Text != app.SignInErrorText(submitErr) || !status.Visible() {
		t.Fatalf("status = %q (visible %v), want the submit error", status.Text, status.Visible())
	}
}

// walk visits every object in a tree of containers and widgets (through their
// renderers), so the test finds widgets the way a user sees them.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	visit(o)
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			walk(c, visit)
		}
	case fyne.Widget:
		if _, isEntry := v.(*widget.Entry); isEntry {
			return
		}
		for _, c := range test.WidgetRenderer(v).Objects() {
			walk(c, visit)
		}
	}
}

func TestChoosePIN(t *testing.T) {
	test.NewTempApp(t)
	var chosen []string
	screen := ChoosePINScreen(app.MinPINLength, func(pin string) error { chosen = append(chosen, pin); return nil })
	w := test.NewTempWindow(t, screen)
	w.Resize(fyne.NewSize(390, 844))
	entries := findAll[*widget.Entry](screen)
	buttons := findAll[*widget.Button](screen)
	var status *widget.Label
	walk(screen, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Importance == widget.DangerImportance {
			status = l
		}
	})
	if len(entries) != 2 || len(buttons) != 1 {
		t.Fatalf("%d entries, %d buttons", len(entries), len(buttons))
	}
	try := func(pin, confirm string) string {
		entries[0].SetText(pin)
		entries[1].SetText(confirm)
		test.Tap(buttons[0])
		if status.Visible() {
			return status.Text
		}
		return ""
	}
	if got := try("12", "12"); got != "A PIN has at least 4 digits" {
		t.Errorf("short PIN: %q", got)
	}
	if got := try("12a4", "12a4"); got != app.ErrPINDigits.Error() {
		t.Errorf("letters: %q", got)
	}
	if got := try("123456", "123465"); got != app.ErrPINMismatch.Error() {
		t.Errorf("mismatch: %q", got)
	}
	if len(chosen) != 0 {
		t.Fatalf("bad PINs reached the app: %q", chosen)
	}
	if got := try("482916", "482916"); got != "" || len(chosen) != 1 || chosen[0] != "482916" {
		t.Fatalf("good PIN: status %q, chosen %q", got, chosen)
	}
}
