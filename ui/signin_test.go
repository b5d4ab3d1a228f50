package ui

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
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
	if len(got) != 1 || got[0].Address != "nurse.kim@rounds.test" || got[0].Password != "pw" {
		t.Fatalf("submit got %+v", got)
	}
	if status.Text != submitErr.Error() || !status.Visible() {
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
