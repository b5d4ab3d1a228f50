package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// SignIn is what the first screen collects. ServerURL is empty unless the user (or
// the hospital's setup) overrides the WebSocket URL that XEP-0156 would discover
// from the address's domain.
type SignIn struct {
	Address   string
	Password  string
	ServerURL string
}

// SignInScreen is the first screen: a work address, a password and, folded away,
// a server URL for hospitals whose server does not publish host-meta. submit runs
// on its own goroutine (it goes over the network) while the button says
// "Signing in…"; its error is shown inline in words (app.SignInErrorText).
func SignInScreen(icon fyne.Resource, defaults SignIn, submit func(SignIn) error) fyne.CanvasObject {
	logo := canvas.NewImageFromResource(icon)
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSize(72, 72))
	title := widget.NewLabelWithStyle("Rounds", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	subtitle := widget.NewLabelWithStyle("Secure messaging for your care team", fyne.TextAlignCenter, fyne.TextStyle{})

	address := widget.NewEntry()
	address.SetPlaceHolder("name@hospital.org")
	address.SetText(defaults.Address)
	address.Validator = func(s string) error { return ValidateAddress(s) }
	password := widget.NewPasswordEntry()
	password.SetPlaceHolder("Password")
	password.SetText(defaults.Password)
	server := widget.NewEntry()
	server.SetPlaceHolder("wss://chat.hospital.org/xmpp-websocket")
	server.SetText(defaults.ServerURL)

	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	status.Importance = widget.DangerImportance
	status.Hide()

	var button *widget.Button
	button = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), func() {
		in := SignIn{Address: strings.TrimSpace(address.Text), Password: password.Text, ServerURL: strings.TrimSpace(server.Text)}
		if err := ValidateAddress(in.Address); err != nil {
			status.SetText(err.Error())
			status.Show()
			return
		}
		// Signing in goes over the network: keep the window alive meanwhile.
		button.Disable()
		button.SetText("Signing in…")
		status.Hide()
		go func() {
			err := submit(in)
			doUI(func() {
				button.Enable()
				button.SetText("Sign in")
				if err != nil {
					status.SetText(app.SignInErrorText(err))
					status.Show()
				}
			})
		}()
	})
	button.Importance = widget.HighImportance
	password.OnSubmitted = func(string) { button.OnTapped() }

	advanced := widget.NewAccordion(widget.NewAccordionItem("Server settings",
		widget.NewForm(widget.NewFormItem("WebSocket URL", server))))
	if defaults.ServerURL != "" {
		advanced.Open(0)
	}

	form := container.NewVBox(
		container.NewCenter(logo), title, subtitle,
		widget.NewLabel("Work address"), address,
		widget.NewLabel("Password"), password,
		advanced, button, status,
	)
	// A readable column on wide desktop windows, the full width on phones.
	return container.NewVScroll(container.New(layout.NewCustomPaddedLayout(24, 24, 24, 24),
		container.New(&maxWidth{width: 420}, form)))
}

// ValidateAddress checks the shape of a work address (a bare JID) before anything
// goes on the wire, so a typo gets a message the user can act on.
func ValidateAddress(s string) error {
	s = strings.TrimSpace(s)
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case s == "":
		return errors.New("Enter your work address, for example name@hospital.org")
	case !ok || local == "" || domain == "" || strings.ContainsAny(s, " /\"<>'&") || strings.Count(s, "@") != 1:
		return errors.New("A work address looks like name@hospital.org")
	}
	return nil
}

// maxWidth centres its content and caps its width.
type maxWidth struct{ width float32 }

func (m *maxWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	min := fyne.NewSize(0, 0)
	for _, o := range objs {
		min = min.Max(o.MinSize())
	}
	return min
}

func (m *maxWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := size.Width
	if w > m.width {
		w = m.width
	}
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, o.MinSize().Height))
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
	}
}

// ChoosePINScreen is the step after the first sign-in: choose a PIN (at least
// minLen digits, the minimum the app enforces, never fewer than app.MinPINLength)
// and type it again. choose saves it (the app derives the store key from
// it); its error is shown inline.
func ChoosePINScreen(minLen int, choose func(pin string) error) fyne.CanvasObject {
	title := widget.NewLabelWithStyle("Choose a PIN", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	help := widget.NewLabel("You will use this PIN to open Rounds on this device. " + app.PINRuleText(minLen))
	help.Wrapping = fyne.TextWrapWord
	help.Alignment = fyne.TextAlignCenter
	pin := widget.NewPasswordEntry()
	pin.SetPlaceHolder("PIN")
	confirm := widget.NewPasswordEntry()
	confirm.SetPlaceHolder("PIN again")
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	status.Importance = widget.DangerImportance
	status.Hide()
	button := widget.NewButtonWithIcon("Save PIN", theme.ConfirmIcon(), func() {
		err := app.CheckNewPIN(pin.Text, confirm.Text, minLen)
		if err == nil {
			err = choose(pin.Text)
		}
		if err != nil {
			status.SetText(err.Error())
			status.Show()
			return
		}
		status.Hide()
	})
	button.Importance = widget.HighImportance
	pin.OnSubmitted = func(string) {
		if c := fyne.CurrentApp().Driver().CanvasForObject(pin); c != nil {
			c.Focus(confirm)
		}
	}
	confirm.OnSubmitted = func(string) { button.OnTapped() }
	form := container.NewVBox(title, help, widget.NewLabel("New PIN"), pin, widget.NewLabel("Confirm PIN"), confirm, button, status)
	return container.NewVScroll(container.New(layout.NewCustomPaddedLayout(24, 24, 24, 24),
		container.New(&maxWidth{width: 420}, form)))
}
