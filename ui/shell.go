package ui

import (
	"fmt"
	"image/color"
	"reflect"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// Actions is everything the signed-in screens ask of the app; app.Client
// satisfies it (main.go wires it).
type Actions interface {
	InboxActions
	ConversationActions
	DirectoryActions
	SettingsActions
}

// PhoneWidth is the width below which the shell shows one pane at a time.
const PhoneWidth = 700

// Shell is the signed-in window: on phones one pane with tabs (Inbox,
// Directory, Settings) and a conversation over them with a back button; on
// desktops the tabs and the open conversation side by side. It follows the
// window's width, so a narrow desktop window gets the phone layout.
type Shell struct {
	actions   Actions
	Inbox     *InboxView
	Directory *DirectoryView
	Settings  fyne.CanvasObject
	// settingsOf is the state Settings was built from (SetSettings).
	settingsOf SettingsState

	conv        *ConversationView
	placeholder fyne.CanvasObject
	root        *fyne.Container
	layout      *shellLayout
	tab         int

	// Alert covers the shell while an urgent alert is open (alert.go).
	Alert  *AlertView
	outer  *fyne.Container
	levels app.UrgencyLevelNames

	// body is root under the PIN banner, shown while the hospital's policy
	// requires a longer PIN than the one in use (SetPINChangeRequired).
	body       *fyne.Container
	pinBanner  *fyne.Container
	pinText    *widget.Label
	pinMin     int
	pinChanger *widget.PopUp
}

// NewShell builds the signed-in screens with empty data; the app fills them
// (SetInbox, SetContacts, ShowConversation ...) through fyne.Do.
func NewShell(actions Actions, settings SettingsState) *Shell {
	s := &Shell{actions: actions}
	s.Inbox = NewInboxView(nil, actions)
	s.Directory = NewDirectoryView(nil, actions)
	s.Settings, s.settingsOf = SettingsScreen(settings, actions), settings
	s.Inbox.OnOpen = func(r app.ConversationRow) {
		s.ShowConversation(conversationInfo(r), nil, false)
	}
	s.Inbox.OnNewChat = func() { s.SelectTab(1) }
	s.Directory.OnStarted = func(conv string) {
		info := ConversationInfo{ID: conv, Title: conv}
		for _, c := range s.Directory.all {
			if c.JID == conv {
				info.Title, info.Presence = name(c), c.Presence
			}
		}
		s.ShowConversation(info, nil, false)
		s.actions.Open(conv)
	}
	hint := widget.NewLabelWithStyle("Choose a conversation", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	s.placeholder = container.NewCenter(container.NewVBox(container.NewCenter(widget.NewIcon(themedNewChat)), hint))
	s.layout = &shellLayout{s: s, mode: -1}
	s.root = container.New(s.layout)
	s.initPINBanner()
	s.body = container.NewBorder(s.pinBanner, nil, nil, nil, s.root)
	s.initClinical()
	return s
}

// Content is the window content.
func (s *Shell) Content() fyne.CanvasObject { return s.outer }

// Conversation is the open conversation, or nil.
func (s *Shell) Conversation() *ConversationView { return s.conv }

// ShowConversation opens a conversation, or refreshes it with its messages
// when it is already open.
func (s *Shell) ShowConversation(info ConversationInfo, rows []app.MessageRow, hasOlder bool) {
	if s.conv != nil && s.conv.ID() == info.ID {
		if info.Title != "" {
			s.conv.SetInfo(info)
		}
		if rows != nil {
			s.conv.SetMessages(rows, hasOlder)
		}
		return
	}
	info.HasOlder = hasOlder
	s.conv = NewConversationView(info, rows, s.actions)
	s.conv.SetLevels(s.levels)
	s.conv.OnBack = s.Back
	s.layout.mode = -1
	s.root.Refresh()
	// Ready to type on a desktop; a phone's keyboard waits for a tap.
	if !isMobile() {
		if c := fyne.CurrentApp().Driver().CanvasForObject(s.root); c != nil {
			c.Focus(s.conv.composer)
		}
	}
}

// Back closes the conversation on a phone (desktop keeps it open).
func (s *Shell) Back() {
	s.conv = nil
	s.Inbox.Unselect()
	s.layout.mode = -1
	s.root.Refresh()
}

// SetSettings rebuilds the settings screen, e.g. when the hospital's policy
// changed what it may offer (a shorter lock limit, less notification text).
// The same state again leaves the screen as it is: the rebuild re-measures
// every tab (about a third of the app's CPU at unlock, where refreshAll
// hands over the state the shell was just built with).
func (s *Shell) SetSettings(st SettingsState) {
	if reflect.DeepEqual(st, s.settingsOf) {
		return
	}
	s.Settings, s.settingsOf = SettingsScreen(st, s.actions), st
	if l := s.layout; l != nil && l.tabs != nil && len(l.tabs.Items) == 3 {
		l.tabs.Items[2].Content = l.tabContent(s.Settings)
		l.tabs.Refresh()
	}
}

// SelectTab shows Inbox (0), Directory (1) or Settings (2).
func (s *Shell) SelectTab(i int) {
	s.tab = i
	if s.layout.tabs != nil {
		s.layout.tabs.SelectIndex(i)
	}
	if s.layout.phone && s.conv != nil {
		s.conv = nil
		s.layout.mode = -1
		s.root.Refresh()
	}
}

// Phone reports whether the one-pane layout is showing.
func (s *Shell) Phone() bool { return s.layout.phone }

type shellLayout struct {
	s     *Shell
	mode  int // 0 desktop, 1 phone list, 2 phone conversation; -1 rebuild
	phone bool
	tabs  *container.AppTabs
	split *paneSplit
}

func (l *shellLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(320, 480) }

func (l *shellLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	s := l.s
	mode := 0
	if size.Width < PhoneWidth {
		mode = 1
		if s.conv != nil {
			mode = 2
		}
	}
	if mode != l.mode {
		l.rebuild(mode)
	}
	for _, o := range s.root.Objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l *shellLayout) rebuild(mode int) {
	s := l.s
	l.mode = mode
	l.phone = mode != 0
	if s.conv != nil {
		if l.phone {
			s.conv.OnBack = s.Back
		} else {
			s.conv.OnBack = nil
		}
	}
	if mode == 2 {
		s.root.Objects = []fyne.CanvasObject{s.conv}
		return
	}
	l.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Inbox", theme.MailComposeIcon(), l.tabContent(s.Inbox)),
		container.NewTabItemWithIcon("Directory", theme.AccountIcon(), l.tabContent(s.Directory)),
		container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), l.tabContent(s.Settings)),
	)
	l.tabs.SelectIndex(s.tab)
	l.tabs.OnSelected = func(*container.TabItem) { s.tab = l.tabs.SelectedIndex() }
	if mode == 1 {
		l.tabs.SetTabLocation(container.TabLocationBottom)
		s.root.Objects = []fyne.CanvasObject{l.tabs}
		return
	}
	var right fyne.CanvasObject = s.placeholder
	if s.conv != nil {
		right = s.conv
	}
	offset := 0.38
	if l.split != nil {
		offset = l.split.Offset
	}
	l.split = newPaneSplit(l.tabs, right)
	l.split.Offset = offset
	s.root.Objects = []fyne.CanvasObject{l.split}
}

// tabContent keeps a tab's screen clear of the phone's bottom tab bar: a
// rule and a gap end the scrolling area above the bar, so a button scrolled
// to the edge (the red "Wipe this device", "View audit log") is cut off
// visibly above it, not against the bar or under its selection indicator.
// Desktop tabs sit at the top and need none.
func (l *shellLayout) tabContent(o fyne.CanvasObject) fyne.CanvasObject {
	if !l.phone {
		return o
	}
	return container.NewBorder(nil, widget.NewSeparator(), nil, nil, o)
}

// initPINBanner builds the banner that asks for a longer PIN. It has no close
// button: it goes away only when the PIN meets the policy.
func (s *Shell) initPINBanner() {
	s.pinText = widget.NewLabel("")
	s.pinText.Wrapping = fyne.TextWrapWord
	s.pinText.TextStyle.Bold = true
	change := widget.NewButtonWithIcon("Change PIN now", theme.SettingsIcon(), s.ShowPINChange)
	change.Importance = widget.HighImportance
	tint := theme.Color(theme.ColorNameWarning)
	r, g, b, _ := tint.RGBA()
	bg := canvas.NewRectangle(color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x40})
	s.pinBanner = container.NewStack(bg, container.NewPadded(
		container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), container.NewCenter(change), s.pinText)))
	s.pinBanner.Hide()
}

// pinChangeText is what the banner and the dialog say.
func pinChangeText(min int) string {
	return fmt.Sprintf("Your hospital now requires a PIN of at least %d digits. Change your PIN to keep using Rounds.", min)
}

// SetPINChangeRequired shows the banner asking for a PIN of at least min
// digits, or hides it (and any change-PIN dialog it opened) when the PIN in
// use meets the policy.
func (s *Shell) SetPINChangeRequired(required bool, min int) {
	if !required {
		s.pinMin = 0
		s.pinBanner.Hide()
		if s.pinChanger != nil {
			s.pinChanger.Hide()
			s.pinChanger = nil
		}
		s.relayoutBody()
		return
	}
	s.pinMin = min
	s.pinText.SetText(pinChangeText(min))
	s.pinBanner.Show()
	s.relayoutBody()
}

// relayoutBody lays the banner and the panes out again once the shell is on
// a window; before (showShell sets the banner first) a layout at size zero
// would build the phone's tabs, measuring every tab, only for the window's
// first layout to build the desktop's.
func (s *Shell) relayoutBody() {
	if s.body.Size().IsZero() {
		return
	}
	s.body.Refresh()
}

// PINChangeRequired reports whether the banner is showing.
func (s *Shell) PINChangeRequired() bool { return s.pinBanner.Visible() }

// ShowPINChange opens the change-PIN dialog with the policy's reason; a
// successful change removes the banner.
func (s *Shell) ShowPINChange() {
	c := fyne.CurrentApp().Driver().CanvasForObject(s.outer)
	if c == nil || s.pinMin == 0 {
		return
	}
	s.pinChanger = ShowChangePIN(c, s.actions.ChangePIN, s.pinMin, pinChangeText(s.pinMin), func() {
		s.pinChanger = nil
		s.SetPINChangeRequired(false, 0)
	})
}
