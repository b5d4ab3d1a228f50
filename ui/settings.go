package ui

import (
	"fmt"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// SettingsActions is what the settings screen asks of the app. Each error is
// shown next to the control that caused it.
type SettingsActions interface {
	// SetPresence sets "available", "away" or "dnd" with a status text.
	SetPresence(show, status string) error
	SetNotificationPreview(app.PreviewLevel) error
	SetLockAfter(time.Duration) error
	ChangePIN(oldPIN, newPIN string) error
	SignOut() error
	// Wipe deletes this device's store and keys (after a typed confirmation).
	Wipe() error
	// SetOwnPicture publishes the picture file's bytes as this account's
	// picture (it takes a round trip to the server) and returns the face
	// colleagues now see.
	SetOwnPicture(data []byte) (app.Avatar, error)
	// RemoveOwnPicture takes the picture down and returns the face
	// colleagues now see (initials).
	RemoveOwnPicture() (app.Avatar, error)
}

// SettingsState is what the settings screen shows.
type SettingsState struct {
	Account   string
	Presence  string // "available", "away", "dnd"
	Status    string
	Preview   app.PreviewLevel
	LockAfter time.Duration
	Policy    app.Policy
	Version   string
	// DND is do not disturb's state (dnd.go draws its section).
	DND app.DNDView
	// Avatar is this account's face as colleagues see it.
	Avatar app.Avatar
}

// WipeConfirmation is the word the user types to wipe this device.
const WipeConfirmation = "WIPE"

var presenceChoices = []string{"available", "away", "dnd"}

// previewRank orders preview levels by how much they reveal.
func previewRank(p app.PreviewLevel) int {
	switch p {
	case app.PreviewNone:
		return 0
	case app.PreviewSender:
		return 1
	}
	return 2
}

func previewText(p app.PreviewLevel) string {
	switch p {
	case app.PreviewNone:
		return "Only “New message”"
	case app.PreviewContent:
		return "Sender and message text"
	}
	return "Sender or room name"
}

var lockChoices = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute}

func lockText(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	}
	if d == time.Minute {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}

// SettingsScreen builds the settings: presence and status, notification
// privacy and lock timeout within the hospital's policy, change PIN, sign out,
// wipe this device, and about.
func SettingsScreen(st SettingsState, actions SettingsActions) fyne.CanvasObject {
	s := &settingsScreen{st: st, actions: actions}
	return s.build()
}

type settingsScreen struct {
	st      SettingsState
	actions SettingsActions
	root    fyne.CanvasObject

	presence   *widget.RadioGroup
	status     *widget.Entry
	preview    *widget.RadioGroup
	lock       *widget.Select
	errs       map[string]*widget.Label
	wipeButton *widget.Button
	popup      *widget.PopUp
}

func (s *settingsScreen) errLabel(key string) *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	s.errs[key] = l
	return l
}

func (s *settingsScreen) report(key string, err error) {
	l := s.errs[key]
	if err != nil {
		l.SetText(err.Error())
		l.Show()
	} else {
		l.Hide()
	}
}

func section(title string, objs ...fyne.CanvasObject) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVBox(append([]fyne.CanvasObject{head}, objs...)...)
}

func (s *settingsScreen) build() fyne.CanvasObject {
	s.errs = map[string]*widget.Label{}
	st := s.st

	// Presence.
	labels := make([]string, len(presenceChoices))
	for i, p := range presenceChoices {
		labels[i] = presenceText(p)
	}
	s.status = widget.NewEntry()
	s.status.SetPlaceHolder("Status, e.g. In surgery")
	s.status.SetText(st.Status)
	s.presence = widget.NewRadioGroup(labels, nil)
	s.presence.Required = true
	s.presence.SetSelected(presenceText(st.Presence))
	if s.presence.Selected == "Offline" || s.presence.Selected == "" {
		s.presence.SetSelected(labels[0])
	}
	setPresence := func() {
		show := presenceChoices[0]
		for i, l := range labels {
			if l == s.presence.Selected {
				show = presenceChoices[i]
			}
		}
		s.report("presence", s.actions.SetPresence(show, strings.TrimSpace(s.status.Text)))
	}
	s.presence.OnChanged = func(string) { setPresence() }
	s.status.OnSubmitted = func(string) { setPresence() }
	statusSet := widget.NewButton("Set", setPresence)

	// Notification privacy: only the levels policy allows.
	allowed := st.Policy.Preview
	var opts []string
	var levels []app.PreviewLevel
	for _, p := range []app.PreviewLevel{app.PreviewNone, app.PreviewSender, app.PreviewContent} {
		if previewRank(p) <= previewRank(allowed) {
			opts = append(opts, previewText(p))
			levels = append(levels, p)
		}
	}
	s.preview = widget.NewRadioGroup(opts, nil)
	s.preview.Required = true
	s.preview.SetSelected(previewText(st.Preview))
	s.preview.OnChanged = func(sel string) {
		for i, o := range opts {
			if o == sel {
				s.report("preview", s.actions.SetNotificationPreview(levels[i]))
			}
		}
	}
	previewHelp := widget.NewLabel("Notifications never show message text unless your hospital allows it.")
	previewHelp.Wrapping = fyne.TextWrapWord
	previewHelp.SizeName = theme.SizeNameCaptionText

	// Lock timeout: up to the policy's limit.
	limit := st.Policy.LockAfter
	if limit <= 0 {
		limit = 5 * time.Minute
	}
	var lockOpts []string
	var lockDurs []time.Duration
	for _, d := range lockChoices {
		if d <= limit {
			lockOpts = append(lockOpts, lockText(d))
			lockDurs = append(lockDurs, d)
		}
	}
	if len(lockOpts) == 0 {
		lockOpts, lockDurs = []string{lockText(limit)}, []time.Duration{limit}
	}
	s.lock = widget.NewSelect(lockOpts, nil)
	cur := st.LockAfter
	if cur <= 0 || cur > limit {
		cur = limit
	}
	s.lock.SetSelected(lockText(cur))
	s.lock.OnChanged = func(sel string) {
		for i, o := range lockOpts {
			if o == sel {
				s.report("lock", s.actions.SetLockAfter(lockDurs[i]))
			}
		}
	}

	changePIN := widget.NewButtonWithIcon("Change PIN", theme.SettingsIcon(), s.showChangePIN)
	signOut := widget.NewButtonWithIcon("Sign out", theme.LogoutIcon(), s.confirmSignOut)
	s.wipeButton = widget.NewButtonWithIcon("Wipe this device", theme.DeleteIcon(), s.showWipe)
	s.wipeButton.Importance = widget.DangerImportance

	version := st.Version
	if version == "" {
		version = "development build"
	}
	about := widget.NewLabel("Rounds " + version + "\nSecure messaging for your care team.")
	about.Wrapping = fyne.TextWrapWord

	content := container.NewVBox(
		section("Account", s.accountRow()),
		widget.NewSeparator(),
		section("Presence", s.presence, container.NewBorder(nil, nil, nil, statusSet, s.status), s.errLabel("presence")),
		s.dndSection(),
		widget.NewSeparator(),
		section("Notifications", s.preview, previewHelp, s.errLabel("preview")),
		widget.NewSeparator(),
		section("Lock", append(append([]fyne.CanvasObject{container.NewBorder(nil, nil, widget.NewLabel("Lock after"), nil, s.lock), s.errLabel("lock")},
			s.lockNow()...), changePIN, s.errLabel("pin"))...),
		widget.NewSeparator(),
		section("This device", append(s.endShift(), signOut, s.errLabel("signout"), s.wipeButton, s.errLabel("wipe"))...),
		s.auditSection(),
		widget.NewSeparator(),
		section("About", about),
	)
	s.root = container.NewVScroll(container.NewPadded(container.New(&maxWidth{width: 560}, content)))
	return s.root
}

// accountRow is the account's address beside its face, with the button
// that publishes a new picture.
func (s *settingsScreen) accountRow() fyne.CanvasObject {
	face := newAvatar(themedPerson)
	face.set(s.st.Avatar, themedPerson)
	side := theme.IconInlineSize() * 2.4
	status := s.errLabel("picture")
	var choose, remove *widget.Button
	shown := func(av app.Avatar) {
		face.set(av, themedPerson)
		if av.Picture != nil {
			remove.Show()
		} else {
			remove.Hide()
		}
	}
	remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
		remove.Disable()
		go func() {
			av, err := s.actions.RemoveOwnPicture()
			doUI(func() {
				remove.Enable()
				s.report("picture", err)
				if err == nil {
					shown(av)
				}
			})
		}()
	})
	choose = widget.NewButtonWithIcon("Choose picture…", theme.FileImageIcon(), func() {
		w := fileWindow(s.root)
		if w == nil {
			return
		}
		d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
			if err != nil || rc == nil {
				return
			}
			choose.Disable()
			go func() {
				defer rc.Close()
				// A camera photo is a few MB; the app shrinks it to 96 px.
				data, err := io.ReadAll(io.LimitReader(rc, 32<<20))
				var av app.Avatar
				if err == nil {
					av, err = s.actions.SetOwnPicture(data)
				}
				doUI(func() {
					choose.Enable()
					s.report("picture", err)
					if err == nil {
						shown(av)
					}
				})
			}()
		}, w)
		d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"}))
		d.Show()
	})
	shown(s.st.Avatar)
	help := widget.NewLabel("Colleagues see your picture beside your name.")
	help.Wrapping = fyne.TextWrapWord
	help.SizeName = theme.SizeNameCaptionText
	account := widget.NewLabel(s.st.Account)
	account.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(
		container.NewBorder(nil, nil, container.NewCenter(container.NewGridWrap(fyne.NewSize(side, side), face)), nil,
			container.NewVBox(account, container.NewHBox(choose, remove))),
		help, status)
}

func (s *settingsScreen) modal(content fyne.CanvasObject) *widget.PopUp {
	c := fyne.CurrentApp().Driver().CanvasForObject(s.root)
	if c == nil {
		return nil
	}
	pop := widget.NewModalPopUp(container.NewPadded(content), c)
	pop.Resize(fyne.NewSize(min(c.Size().Width-2*theme.Padding(), 420), content.MinSize().Height+2*theme.Padding()))
	s.popup = pop
	pop.Show()
	return pop
}

func (s *settingsScreen) showChangePIN() {
	c := fyne.CurrentApp().Driver().CanvasForObject(s.root)
	if c == nil {
		return
	}
	s.popup = ShowChangePIN(c, s.actions.ChangePIN, s.st.Policy.MinPINLength, "", nil)
}

// ShowChangePIN opens the change-PIN dialog on c: current PIN, new PIN
// (at least minLen digits, never fewer than app.MinPINLength) twice. why, when set,
// says why the PIN must change; done runs after change succeeded.
func ShowChangePIN(c fyne.Canvas, change func(oldPIN, newPIN string) error, minLen int, why string, done func()) *widget.PopUp {
	old, pin, confirm := newPasswordField(), newPasswordField(), newPasswordField()
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	var pop *widget.PopUp
	save := widget.NewButton("Change PIN", func() {
		err := app.CheckNewPIN(pin.Text, confirm.Text, minLen)
		if err == nil {
			err = change(old.Text, pin.Text)
		}
		if err != nil {
			status.SetText(err.Error())
			status.Show()
			return
		}
		pop.Hide()
		if done != nil {
			done()
		}
	})
	save.Importance = widget.HighImportance
	items := []fyne.CanvasObject{widget.NewLabelWithStyle("Change PIN", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	if why != "" {
		l := widget.NewLabel(why)
		l.Wrapping = fyne.TextWrapWord
		items = append(items, l)
	}
	rule := widget.NewLabel(app.PINRuleText(minLen))
	rule.SizeName = theme.SizeNameCaptionText
	items = append(items, widget.NewLabel("Current PIN"), old, widget.NewLabel("New PIN"), pin, rule,
		widget.NewLabel("New PIN again"), confirm, status,
		container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), save))
	content := container.NewVBox(items...)
	pop = widget.NewModalPopUp(container.NewPadded(content), c)
	pop.Resize(fyne.NewSize(min(c.Size().Width-2*theme.Padding(), 420), content.MinSize().Height+2*theme.Padding()))
	pop.Show()
	return pop
}

func (s *settingsScreen) confirmSignOut() {
	var pop *widget.PopUp
	msg := widget.NewLabel("Sign out of Rounds on this device? Messages stay stored, encrypted, until you sign in again.")
	msg.Wrapping = fyne.TextWrapWord
	out := widget.NewButton("Sign out", func() {
		pop.Hide()
		s.report("signout", s.actions.SignOut())
	})
	out.Importance = widget.HighImportance
	pop = s.modal(container.NewVBox(msg, container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), out)))
}

// showWipe asks for the typed confirmation before wiping.
func (s *settingsScreen) showWipe() {
	var pop *widget.PopUp
	msg := widget.NewLabel("This deletes every message, contact and key stored on this device. It cannot be undone. Messages kept by the hospital's server are not affected.\n\nType " + WipeConfirmation + " to confirm.")
	msg.Wrapping = fyne.TextWrapWord
	entry := newField()
	entry.SetPlaceHolder(WipeConfirmation)
	wipe := widget.NewButtonWithIcon("Wipe", theme.DeleteIcon(), func() {
		if strings.TrimSpace(entry.Text) != WipeConfirmation {
			return
		}
		pop.Hide()
		s.report("wipe", s.actions.Wipe())
	})
	wipe.Importance = widget.DangerImportance
	wipe.Disable()
	entry.OnChanged = func(t string) {
		if strings.TrimSpace(t) == WipeConfirmation {
			wipe.Enable()
		} else {
			wipe.Disable()
		}
	}
	pop = s.modal(container.NewVBox(
		widget.NewLabelWithStyle("Wipe this device?", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		msg, entry, container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), wipe)))
	if c := fyne.CurrentApp().Driver().CanvasForObject(s.root); c != nil {
		c.Focus(entry)
	}
}
