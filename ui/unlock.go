package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// AttemptsLefter is implemented by a wrong-PIN error that knows how many tries
// remain before the store wipes itself; the unlock screen shows the number.
type AttemptsLefter interface{ AttemptsLeft() int }

// UnlockScreen asks for the PIN: a PIN pad on phones and tablets, a password
// field on desktops. unlock is called on its own goroutine; its error is shown
// (with the attempts left when the error says so).
func UnlockScreen(icon fyne.Resource, account string, unlock func(pin string) error) fyne.CanvasObject {
	u := &unlockScreen{unlock: unlock}
	return u.build(icon, widget.NewLabelWithStyle(account, fyne.TextAlignCenter, fyne.TextStyle{}), nil)
}

type unlockScreen struct {
	unlock  func(string) error
	pin     string
	dots    *widget.Label
	field   *widget.Entry
	status  *widget.Label
	busy    bool
	buttons map[string]*widget.Button
	// banner, when set, counts what arrived while locked (lockbanner.go).
	banner *LockBanner
}

// build lays the screen out: who is signed in under the title, the PIN
// entry, then extra (the shared device's "Switch user", lockscreen.go).
func (u *unlockScreen) build(icon fyne.Resource, who, extra fyne.CanvasObject) fyne.CanvasObject {
	var logo fyne.CanvasObject = layout.NewSpacer()
	if icon != nil {
		img := canvas.NewImageFromResource(icon)
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(56, 56))
		logo = container.NewCenter(img)
	}
	title := widget.NewLabelWithStyle("Rounds is locked", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	u.status = widget.NewLabel("")
	u.status.Importance = widget.DangerImportance
	u.status.Wrapping = fyne.TextWrapWord
	u.status.Alignment = fyne.TextAlignCenter
	u.status.Hide()
	u.buttons = map[string]*widget.Button{}
	var entry fyne.CanvasObject
	if isMobile() {
		u.dots = widget.NewLabelWithStyle("Enter your PIN", fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
		pad := container.NewGridWithColumns(3)
		for _, k := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"} {
			k := k
			var b *widget.Button
			switch k {
			case "⌫":
				b = widget.NewButtonWithIcon("", theme.ContentUndoIcon(), u.backspace)
			case "OK":
				b = widget.NewButtonWithIcon("", theme.ConfirmIcon(), u.submit)
				b.Importance = widget.HighImportance
			default:
				b = widget.NewButton(k, func() { u.digit(k) })
			}
			u.buttons[k] = b
			pad.Add(container.New(layout.NewGridWrapLayout(fyne.NewSize(88, 64)), b))
		}
		entry = container.NewVBox(u.dots, container.NewCenter(pad))
	} else {
		u.field = widget.NewPasswordEntry()
		u.field.SetPlaceHolder("PIN")
		u.field.OnSubmitted = func(string) { u.submit() }
		b := widget.NewButtonWithIcon("Unlock", theme.LoginIcon(), u.submit)
		b.Importance = widget.HighImportance
		u.buttons["OK"] = b
		entry = container.NewVBox(widget.NewLabel("PIN"), u.field, b)
	}
	form := container.NewVBox(logo, title)
	if u.banner != nil {
		u.banner.pin = u.field
		form.Add(u.banner.box)
		form.Add(u.banner.note)
	}
	form.Add(who)
	form.Add(entry)
	form.Add(u.status)
	if extra != nil {
		form.Add(extra)
	}
	return container.NewVScroll(container.New(layout.NewCustomPaddedLayout(24, 24, 24, 24),
		container.New(&maxWidth{width: 420}, form)))
}

func (u *unlockScreen) digit(d string) {
	if len(u.pin) < 32 {
		u.pin += d
	}
	u.showDots()
}

func (u *unlockScreen) backspace() {
	if u.pin != "" {
		u.pin = u.pin[:len(u.pin)-1]
	}
	u.showDots()
}

func (u *unlockScreen) showDots() {
	if u.pin == "" {
		u.dots.SetText("Enter your PIN")
		return
	}
	u.dots.SetText(strings.Repeat("● ", len(u.pin)))
}

func (u *unlockScreen) submit() {
	pin := u.pin
	if u.field != nil {
		pin = u.field.Text
	}
	if pin == "" || u.busy {
		return
	}
	u.busy = true
	go func() {
		err := u.unlock(pin)
		doUI(func() {
			u.busy = false
			u.pin = ""
			if u.dots != nil {
				u.showDots()
			}
			if u.field != nil {
				u.field.SetText("")
			}
			if err == nil {
				u.status.Hide()
				return
			}
			u.status.SetText(unlockErrorText(err))
			u.status.Show()
		})
	}()
}

func unlockErrorText(err error) string {
	var al AttemptsLefter
	if errors.As(err, &al) {
		n := al.AttemptsLeft()
		switch {
		case n <= 0:
			return "Wrong PIN. This device's messages have been wiped; sign in again."
		case n == 1:
			return "Wrong PIN. 1 attempt left before this device's messages are wiped."
		default:
			return fmt.Sprintf("Wrong PIN. %d attempts left before this device's messages are wiped.", n)
		}
	}
	return err.Error()
}
